#pragma once
// The dates and times each ClickHouse version can display and compute with. RowBinary stores
// any integer we send, but outside these ranges the server shows wrapped or clamped values, so
// the codecs reject such values instead of writing data that reads back wrong.
#include <cstdint>
#include <string>

#include "clickhouse/server_capabilities.h"

namespace pg2ch::types {

struct DayRange {
  std::int32_t min = 0;  // days since 1970-01-01, inclusive
  std::int32_t max = 0;
  std::string text;      // "1970-01-01..2149-06-06", for error messages
};

struct MicrosRange {
  std::int64_t min = 0;  // microseconds since 1970-01-01 00:00:00 UTC, inclusive
  std::int64_t max = 0;
  std::string text;
};

// Date (UInt16 days): up to 2106-02-07 before 21.4 (checked on 18.16: day 49711 wraps to
// 1970-01-01), up to 2149-06-06 since.
DayRange date_range(const clickhouse::ServerCapabilities& caps);
// Date32 (Int32 days, >= 21.9): 1925..2282 until 22.8 widened it to 1900-01-01..2299-12-31.
DayRange date32_range(const clickhouse::ServerCapabilities& caps);
// DateTime64 (Int64 ticks, >= 20.1): 1970..2105 until 21.4, 1925..2282 until 22.8, then
// 1900-01-01..2299-12-31.
MicrosRange datetime64_range(const clickhouse::ServerCapabilities& caps);

}  // namespace pg2ch::types

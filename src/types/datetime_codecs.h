#pragma once
// date and timestamp[tz]: PostgreSQL counts from 2000-01-01, ClickHouse from 1970-01-01.
// Values outside the target's range and PostgreSQL's ±infinity throw Error(Data): ClickHouse
// would otherwise show a wrapped or clamped value, i.e. silently different data.
#include <memory>

#include "types/clickhouse_date_ranges.h"
#include "types/value_codec.h"

namespace pg2ch::types {

enum class DayWidth { UInt16, Int32 };  // ClickHouse Date / Date32

// `target` names the ClickHouse type in error messages ("Date", "Date32").
std::unique_ptr<ValueCodec> make_date_codec(DayWidth width, DayRange range, std::string target);
// Int64 microseconds since 1970-01-01 UTC: the layout of DateTime64(6) and of the Int64
// fallback alike; only the accepted range differs (the fallback accepts what fits in Int64).
std::unique_ptr<ValueCodec> make_timestamp_codec(MicrosRange range, std::string target);

}  // namespace pg2ch::types

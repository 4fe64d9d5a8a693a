#pragma once
// The ClickHouse type and codec for one non-array PostgreSQL type, before Nullable/Array
// wrapping. Shared by plain columns and array elements so both behave identically.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "clickhouse/server_capabilities.h"
#include "types/value_codec.h"

namespace pg2ch::types {

struct ScalarMapping {
  std::string clickhouse_type;  // without Nullable
  std::unique_ptr<ValueCodec> codec;
  std::string note;             // non-empty when a fallback was chosen
};

// `typmod` is the column's atttypmod (for arrays PostgreSQL stores the element's typmod there).
// nullopt when pg2ch cannot map the type.
std::optional<ScalarMapping> map_scalar(std::uint32_t oid, char typtype, std::int32_t typmod,
                                        const clickhouse::ServerCapabilities& caps);

}  // namespace pg2ch::types

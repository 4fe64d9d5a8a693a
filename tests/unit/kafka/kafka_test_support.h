#pragma once
// Helpers for the Kafka unit tests: PostgreSQL binary values from hex, a small table schema.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../types/types_test_support.h"
#include "pipeline/table_schema.h"
#include "types/pg_type.h"

namespace pg2ch::kafka::test {

// PostgreSQL binary values written as hex, as in the types tests.
using types::test::unhex;

// The big-endian bytes of an integer, for binary values built from numbers (timestamps, float
// bit patterns).
template <typename T>
std::string be_bytes(T v) {
  static_assert(std::is_integral_v<T>);
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  std::string out(sizeof(T), '\0');
  for (std::size_t i = sizeof(T); i-- > 0;) {
    out[i] = static_cast<char>(u & 0xFF);
    u = static_cast<decltype(u)>(u >> 8);
  }
  return out;
}

inline types::PgTypeDesc pg_type(std::uint32_t oid, std::int32_t typmod = -1, char typtype = 'b') {
  types::PgTypeDesc d;
  d.oid = oid;
  d.name = "t" + std::to_string(oid);
  d.typmod = typmod;
  d.typtype = typtype;
  return d;
}

inline types::PgTypeDesc array_of(std::uint32_t element_oid) {
  types::PgTypeDesc d;
  d.oid = 1007;
  d.name = "array";
  d.element_oid = element_oid;
  d.array_ndims = 1;
  return d;
}

struct ColumnSpec {
  std::string name;
  std::uint32_t oid;
  bool is_key = false;
  bool excluded = false;
};

// A table whose replicated columns are those not `excluded`; keys in the given order.
inline pipeline::TableSchema make_table(const std::string& schema, const std::string& name,
                                        const std::vector<ColumnSpec>& cols) {
  pipeline::TableSchema t;
  t.source_schema = schema;
  t.source_name = name;
  t.target_name = name;
  for (const auto& c : cols) {
    pipeline::SourceColumn sc;
    sc.name = c.name;
    sc.type = pg_type(c.oid);
    sc.is_key = c.is_key;
    if (!c.excluded) {
      sc.target_index = static_cast<int>(t.target_columns.size());
      pipeline::TargetColumn tc;
      tc.name = c.name;
      tc.source_index = static_cast<int>(t.source_columns.size());
      tc.is_key = c.is_key;
      if (c.is_key) t.key_target_indexes.push_back(sc.target_index);
      t.target_columns.push_back(std::move(tc));
    }
    t.source_columns.push_back(std::move(sc));
  }
  return t;
}

}  // namespace pg2ch::kafka::test

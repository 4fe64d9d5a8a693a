#pragma once
// The column types the value targets pick from: every built-in type pg2ch maps, a few typmods
// (numeric precision/scale, timestamp precision) and arrays, so one input byte chooses a type.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "types/pg_type.h"

namespace pg2ch::fuzz {

inline constexpr std::int32_t numeric_typmod(int precision, int scale) { return ((precision << 16) | scale) + 4; }

inline const std::vector<types::PgTypeDesc>& fuzz_types() {
  static const std::vector<types::PgTypeDesc> all = [] {
    namespace oid = types::oid;
    std::vector<types::PgTypeDesc> v;
    auto add = [&](std::uint32_t o, std::string name, std::int32_t typmod = -1) {
      types::PgTypeDesc d;
      d.oid = o;
      d.name = std::move(name);
      d.typmod = typmod;
      v.push_back(d);
    };
    auto add_array = [&](std::uint32_t element, std::string name, std::int32_t typmod = -1, int ndims = 1) {
      types::PgTypeDesc d;
      d.oid = 1;
      d.name = std::move(name);
      d.typmod = typmod;
      d.element_oid = element;
      d.array_ndims = ndims;
      v.push_back(d);
    };
    add(oid::kBool, "boolean");
    add(oid::kInt2, "smallint");
    add(oid::kInt4, "integer");
    add(oid::kInt8, "bigint");
    add(oid::kOid, "oid");
    add(oid::kFloat4, "real");
    add(oid::kFloat8, "double precision");
    add(oid::kNumeric, "numeric");
    add(oid::kNumeric, "numeric(12,2)", numeric_typmod(12, 2));
    add(oid::kNumeric, "numeric(38,0)", numeric_typmod(38, 0));
    add(oid::kNumeric, "numeric(60,20)", numeric_typmod(60, 20));
    add(oid::kNumeric, "numeric(5,5)", numeric_typmod(5, 5));
    add(oid::kText, "text");
    add(oid::kVarchar, "character varying(10)", 14);
    add(oid::kBpchar, "character(3)", 7);
    add(oid::kChar, "\"char\"");
    add(oid::kBytea, "bytea");
    add(oid::kJson, "json");
    add(oid::kJsonb, "jsonb");
    add(oid::kUuid, "uuid");
    add(oid::kDate, "date");
    add(oid::kTime, "time without time zone");
    add(oid::kTimestamp, "timestamp without time zone");
    add(oid::kTimestamp, "timestamp(0) without time zone", 0);
    add(oid::kTimestampTz, "timestamp with time zone");
    add(oid::kTimestampTz, "timestamp(3) with time zone", 3);
    add(oid::kInterval, "interval");
    add(oid::kInet, "inet");
    add(oid::kCidr, "cidr");
    add(oid::kMacaddr, "macaddr");
    add(oid::kMacaddr8, "macaddr8");
    add(oid::kMoney, "money");
    add_array(oid::kInt4, "integer[]");
    add_array(oid::kText, "text[]");
    add_array(oid::kNumeric, "numeric(12,2)[]", numeric_typmod(12, 2));
    add_array(oid::kTimestampTz, "timestamp with time zone[]");
    add_array(oid::kInt8, "bigint[][]", -1, 2);
    add_array(oid::kUuid, "uuid[]");
    return v;
  }();
  return all;
}

inline const types::PgTypeDesc& pick_type(std::size_t selector) {
  const auto& all = fuzz_types();
  return all[selector % all.size()];
}

}  // namespace pg2ch::fuzz

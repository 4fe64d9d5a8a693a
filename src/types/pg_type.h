#pragma once
// A PostgreSQL column type as the catalog describes it, with domains resolved to their base type.
// Filled by pg/catalog (from pg_attribute/pg_type) and consumed by types/type_mapping.
#include <cstdint>
#include <string>

namespace pg2ch::types {

// Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
namespace oid {
inline constexpr std::uint32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21,
                               kInt4 = 23, kText = 25, kOid = 26, kJson = 114, kFloat4 = 700,
                               kFloat8 = 701, kBpchar = 1042, kVarchar = 1043, kDate = 1082,
                               kTime = 1083, kTimestamp = 1114, kTimestampTz = 1184,
                               kNumeric = 1700, kUuid = 2950, kJsonb = 3802;
// Mapped to String/Int64 as cheap lossless extras (see docs/types.md).
inline constexpr std::uint32_t kXml = 142, kCidr = 650, kMacaddr8 = 774, kMoney = 790, kMacaddr = 829,
                               kInet = 869, kInterval = 1186;
}  // namespace oid

struct PgTypeDesc {
  std::uint32_t oid = 0;          // after domain resolution (a domain over int4 reports 23)
  std::string name;               // format_type(), e.g. "numeric(12,2)", "text[]", "public.mood"
  char typtype = 'b';             // 'b' base, 'e' enum, 'c' composite, 'r' range, 'm' multirange, 'p' pseudo
  std::int32_t typmod = -1;       // atttypmod (numeric precision/scale, varchar length, ...)
  // Arrays: element type, domains resolved; 0 when this is not an array.
  std::uint32_t element_oid = 0;
  char element_typtype = 'b';
  std::int32_t array_ndims = 0;   // attndims as declared (informational; PostgreSQL does not enforce it)

  bool is_array() const { return element_oid != 0; }
};

}  // namespace pg2ch::types

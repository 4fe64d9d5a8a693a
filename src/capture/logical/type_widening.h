#pragma once
// Which column type changes (ALTER TABLE ... ALTER COLUMN ... TYPE) a streaming table can follow
// in place, and how a value of the older type becomes one of the newer type.
//
// Only exact widenings, where every value of the older type is a value of the newer one and
// PostgreSQL's own cast keeps it unchanged: int2 → int4 → int8, real → double precision (every
// float4 is a float8), varchar(n) → varchar(m ≥ n) / varchar / text, text → varchar (no length),
// numeric(p,s) → numeric(p' ≥ p, s) / numeric, and timestamp(p) → timestamptz(p' ≥ p) where the
// table was not rewritten (timestamp_changes_zone below). Anything else (narrowing, another family,
// a scale change, char(n), whose cast drops trailing blanks) is refused with a reason.
//
// The widening of a value is what PostgreSQL did to the rows the table held at the ALTER, so a
// row of the older type that a restart reads again (table_gate.h) is written exactly as the same
// row read now.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pg2ch::capture::logical {

// A column's declared type, as pg_attribute and pgoutput's Relation message name it.
struct DeclaredType {
  std::uint32_t oid = 0;
  std::int32_t typmod = -1;
  bool operator==(const DeclaredType&) const = default;
};

// nullopt when `to` is an exact widening of `from` (or the same type); else why not, one line.
std::optional<std::string> widening_refusal(DeclaredType from, DeclaredType to);

// Whether PostgreSQL rewrites the table for this widening (a new pg_class.relfilenode): the
// integer and float ones convert every row, the others are only a new typmod (binary coercible).
// A widening that should not rewrite but did ran a USING expression, whose values the stream
// never carries.
bool widening_rewrites(DeclaredType from, DeclaredType to);

// timestamp → timestamptz: PostgreSQL converts each value in the ALTER's session TimeZone, which
// is recorded nowhere (the stream carries no value of the rows already there). Since PostgreSQL 12
// it skips the rewrite exactly when that zone is UTC (tablecmds.c ATColumnChangeRequiresRewrite,
// timestamp.c TimestampTimestampTzRequiresRewrite): the stored microseconds are kept and read as
// UTC instants, which is what pg2ch wrote for them (both types map to the same ClickHouse type and
// value). So such a widening is exact only when pg_class.relfilenode did not change; the caller
// checks (schema_evolution.h).
bool timestamp_changes_zone(DeclaredType from, DeclaredType to);

// The binary (typsend) form in type `to` of `value`, a binary value of type `from`; `from` → `to`
// must be a widening (widening_refusal empty). Returns `value` itself when the bytes are alike,
// else writes them to `out` and returns a view of it.
std::string_view widen_value(DeclaredType from, DeclaredType to, std::string_view value, std::string& out);

}  // namespace pg2ch::capture::logical

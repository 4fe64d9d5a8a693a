#pragma once
// A [[tables]] name as PostgreSQL writes one: `schema.table` or `schema.*`, each part either as it
// is (taken verbatim, case-sensitive) or in double quotes with "" for a quote inside, so any name
// can be given: `s."Order Lines"`, `"My.Schema".t`, `public."a;b"`. Pure.
#include <optional>
#include <string>
#include <string_view>

namespace pg2ch::config {

struct TableName {
  std::string schema;
  std::string table;      // empty when `wildcard`
  bool wildcard = false;  // schema.* (a quoted "*" is a table named *)

  bool operator==(const TableName&) const = default;
};

// nullopt when `text` is not such a name (no dot between two parts, an unterminated quote, an
// empty part, or something after the second part).
std::optional<TableName> parse_table_name(std::string_view text);

// Whether `arg` (as an operator types it: `schema.table`, quoted or not) names this table. A name
// that does not parse is compared as the plain text `schema.table`, as `pg2ch status` prints it.
bool names_table(std::string_view arg, const std::string& schema, const std::string& table);

}  // namespace pg2ch::config

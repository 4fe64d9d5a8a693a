#pragma once
// Reading back what ClickHouse says about a table in system.tables / system.columns: type names,
// key expressions and engine clauses as text. ClickHouse reports types canonically (aliases such
// as BIGINT or Decimal64(2) resolved), but the spacing differs between versions and from the
// text pg2ch writes in its DDL (`DateTime64(6, 'UTC')`), so comparisons go through these. Pure.
#include <string>
#include <string_view>
#include <vector>

namespace pg2ch::clickhouse {

// `type` without whitespace outside quoted literals: "Nullable( Decimal(10, 2) )" and
// "Nullable(Decimal(10,2))" both give "Nullable(Decimal(10,2))".
std::string normalize_type(std::string_view type);

// The comma-separated items of `list` at the top level (commas inside (), [] or quotes do not
// split), each trimmed. "id, `a,b`, f(x, y)" -> {"id", "`a,b`", "f(x, y)"}; "" -> {}.
std::vector<std::string> split_top_level(std::string_view list);

// A sort or partition key as system.tables shows it -> its columns or expressions. Servers differ
// in the parentheses they keep: 18.16 shows `ORDER BY (id)` as "id", 26.7 as "(id)" (and a
// two-column key as "id, b" on both), so parentheses around the whole key are dropped first.
std::vector<std::string> key_items(std::string_view key);

// An identifier as ClickHouse prints it (`a b`, "a b" or bare) -> its name. Anything that is not
// one identifier (an expression such as intHash32(v)) comes back unchanged, so it never equals a
// column name.
std::string unquote_identifier(std::string_view text);

// The inverse, for messages: `name` bare when it is a plain identifier, else backquoted, as
// ClickHouse prints key columns.
std::string identifier_as_shown(std::string_view name);

// An engine clause as system.tables.engine_full shows it: "ReplacingMergeTree(_version) ORDER BY
// id SETTINGS ..." -> name "ReplacingMergeTree", args {"_version"}; "MergeTree ORDER BY id" ->
// name "MergeTree", no args.
struct EngineClause {
  std::string name;
  std::vector<std::string> args;
};
EngineClause parse_engine_clause(std::string_view engine_full);

}  // namespace pg2ch::clickhouse

#include "clickhouse/target_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "clickhouse/ddl_text.h"
#include "clickhouse/target_table.h"
#include "common/error.h"

namespace pg2ch::clickhouse {

namespace {

struct Expected {
  std::string name;
  std::string type;
};

// Every column pg2ch writes, in the order it creates them.
std::vector<Expected> written_columns(const pipeline::TableSchema& table) {
  std::vector<Expected> out;
  for (const auto& c : table.target_columns) out.push_back({c.name, c.mapping.clickhouse_type});
  out.push_back({pipeline::kVersionColumn, kVersionType});
  out.push_back({pipeline::kDeletedColumn, kDeletedType});
  return out;
}

bool is_integer_literal(std::string_view s) {
  const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  return !s.empty() && std::all_of(s.begin(), s.end(), digit);
}

// Why the engine is not ReplacingMergeTree(_version[, _deleted]); empty when it is.
std::string engine_problem(const TableShape& found, const TargetLayout& layout) {
  const EngineClause e = parse_engine_clause(found.engine_full.empty() ? found.engine : found.engine_full);
  std::string family = e.name;
  std::vector<std::string> args = e.args;
  if (layout.clustered() && !family.starts_with("Replicated")) {
    return fmt::format("its engine is {} on cluster {}, where each host would keep the rows written to it to itself",
                       e.name, layout.cluster);
  }
  for (std::string_view prefix : {"Replicated", "Shared"}) {
    if (!family.starts_with(prefix)) continue;
    family.erase(0, prefix.size());
    // Their leading arguments are the coordination path and replica name.
    while (!args.empty() && args.front().starts_with('\'')) args.erase(args.begin());
  }
  const std::string shown = e.args.empty() ? e.name : fmt::format("{}({})", e.name, fmt::join(e.args, ", "));
  if (family != "ReplacingMergeTree") return fmt::format("its engine is {}", shown);
  std::string version, is_deleted;
  if (args.size() <= 2) {
    if (!args.empty()) version = unquote_identifier(args[0]);
    if (args.size() == 2) is_deleted = unquote_identifier(args[1]);
  } else if (!is_integer_literal(args.back())) {
    // The pre-2018 syntax: (date, [sampling,] key, granularity[, version]).
    version = unquote_identifier(args.back());
  }
  if (version == pipeline::kVersionColumn && (is_deleted.empty() || is_deleted == pipeline::kDeletedColumn)) return {};
  if (version.empty()) {
    return fmt::format("its engine {} has no version column: the last row inserted wins, not the newest change", shown);
  }
  return fmt::format("its engine is {}", shown);
}

}  // namespace

void check_target_table(const TableShape& found, const pipeline::TableSchema& table, std::string_view database,
                        const ServerCapabilities& caps, const TargetLayout& layout) {
  const std::string name = fmt::format("{}.{}", database, table.target_name);
  // The fixes are statements to run as they are: on a cluster they must reach every host.
  const std::string sql_name =
      quote_identifier(database) + "." + quote_identifier(table.target_name) + on_cluster(layout);
  std::vector<std::string> problems, fixes;
  bool recreate = false;

  std::map<std::string, const ColumnShape*> by_name;
  for (const auto& c : found.columns) by_name.emplace(c.name, &c);
  const auto expected = written_columns(table);
  for (const auto& want : expected) {
    const auto it = by_name.find(want.name);
    if (it == by_name.end()) {
      problems.push_back(fmt::format("column {} is missing ({})", want.name, want.type));
      fixes.push_back(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", sql_name, quote_identifier(want.name), want.type));
      continue;
    }
    const ColumnShape& have = *it->second;
    const bool same_type = normalize_type(have.type) == normalize_type(want.type);
    const bool insertable = have.default_kind.empty() || have.default_kind == "DEFAULT";
    if (same_type && insertable) continue;
    problems.push_back(same_type
                           ? fmt::format("column {} is {}, but pg2ch writes it", want.name, have.default_kind)
                           : fmt::format("column {} has type {}, pg2ch writes {}", want.name, have.type, want.type));
    // On servers before 23 MODIFY COLUMN with a type alone also drops MATERIALIZED / ALIAS.
    fixes.push_back(
        fmt::format("ALTER TABLE {} MODIFY COLUMN {} {}", sql_name, quote_identifier(want.name), want.type));
  }
  for (const auto& have : found.columns) {
    const bool written =
        std::any_of(expected.begin(), expected.end(), [&](const Expected& e) { return e.name == have.name; });
    if (written || !have.default_kind.empty()) continue;
    problems.push_back(fmt::format("column {} is not written by pg2ch and has no DEFAULT", have.name));
    fixes.push_back(fmt::format("ALTER TABLE {} MODIFY COLUMN {} {} DEFAULT <value> (or DROP COLUMN {})", sql_name,
                                quote_identifier(have.name), have.type, quote_identifier(have.name)));
  }

  if (auto engine = engine_problem(found, layout); !engine.empty()) {
    problems.push_back(
        fmt::format("{}, pg2ch needs {}", engine, engine_clause(caps, layout, database, table.target_name)));
    recreate = true;
  }
  const auto key = sorting_key_columns(table);
  std::vector<std::string> key_shown;
  for (const auto& k : key) key_shown.push_back(identifier_as_shown(k));
  std::vector<std::string> sorting;
  for (const auto& item : key_items(found.sorting_key)) sorting.push_back(unquote_identifier(item));
  if (sorting != key) {
    const bool has_version = std::find(sorting.begin(), sorting.end(), pipeline::kVersionColumn) != sorting.end();
    problems.push_back(fmt::format("it is ORDER BY ({}), pg2ch needs ORDER BY ({}) (the source's key){}",
                                   found.sorting_key, fmt::join(key_shown, ", "),
                                   has_version ? ": with _version in it every version and every deleted row stays"
                                               : ": ReplacingMergeTree keeps one row per sort key"));
    recreate = true;
  }
  for (const auto& c : found.columns) {
    if (!c.in_partition_key || std::find(key.begin(), key.end(), c.name) != key.end()) continue;
    problems.push_back(fmt::format("PARTITION BY uses column {}, which is not part of the key: rows are replaced only "
                                   "within a partition, so a change that moves a row to another one leaves the old row",
                                   c.name));
    recreate = true;
  }
  if (problems.empty()) return;

  if (recreate) {
    fixes.push_back(fmt::format("the engine, ORDER BY and PARTITION BY cannot be altered: drop {} and {}.{} and run "
                                "`pg2ch setup` again, which creates them as pg2ch needs",
                                name, database, current_view_name(table)));
  } else {
    fixes.push_back(fmt::format("or drop {} and {}.{} and run `pg2ch setup` again, which creates them", name, database,
                                current_view_name(table)));
  }
  throw Error(ErrorKind::Schema,
              fmt::format("ClickHouse table {} (the target of {}) does not match what pg2ch writes: {}", name,
                          table.qualified_source(), fmt::join(problems, "; ")),
              fmt::format("{}", fmt::join(fixes, "; ")));
}

namespace {

// A Distributed engine argument as written: 'text', `text` or text.
std::string literal_or_identifier(std::string_view arg) {
  if (arg.size() >= 2 && arg.front() == '\'' && arg.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < arg.size(); ++i) {
      if (arg[i] == '\\' && i + 2 < arg.size()) ++i;
      out.push_back(arg[i]);
    }
    return out;
  }
  return unquote_identifier(arg);
}

// "cityHash64(a, `b c`)" -> {"a", "b c"}; anything else -> {} (never equal to a key).
std::vector<std::string> hashed_columns(std::string_view expr) {
  const EngineClause call = parse_engine_clause(expr);
  if (call.name != "cityHash64") return {};
  std::vector<std::string> cols;
  for (const auto& a : call.args) cols.push_back(unquote_identifier(a));
  return cols;
}

}  // namespace

bool distributed_table_matches(const TableShape& found, const pipeline::TableSchema& table,
                               std::string_view database, const TargetLayout& layout) {
  if (found.engine != "Distributed") return false;
  std::vector<std::string> have, want;
  for (const auto& c : found.columns) have.push_back(c.name + " " + normalize_type(c.type));
  for (const auto& c : written_columns(table)) want.push_back(c.name + " " + normalize_type(c.type));
  if (have != want) return false;
  const EngineClause e = parse_engine_clause(found.engine_full);
  return e.args.size() == 4 && literal_or_identifier(e.args[0]) == layout.cluster &&
         literal_or_identifier(e.args[1]) == database && literal_or_identifier(e.args[2]) == table.target_name &&
         hashed_columns(e.args[3]) == sorting_key_columns(table);
}

}  // namespace pg2ch::clickhouse

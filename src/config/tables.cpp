#include "config/tables.h"

#include <algorithm>
#include <set>
#include <string>

#include "config/settings.h"
#include "config/strings.h"
#include "config/table_name.h"

namespace pg2ch::config::detail {
namespace {

void check_pattern(const std::string& pattern, const std::string& key, std::string_view source) {
  if (!parse_table_name(pattern))
    throw setting_error(key + ".name", source, "\"" + pattern + "\"",
                        {"must be \"schema.table\" or \"schema.*\"",
                         "name the schema too, e.g. \"public.orders\", or take a whole schema with \"public.*\"; "
                         "quote a part that holds a dot, a quote or a '*' as PostgreSQL does: 's.\"Order Lines\"', "
                         "'\"My.Schema\".t' (a quote inside a quoted part is doubled)"});
}

void check_columns(const std::vector<std::string>& columns, const std::string& key, std::string_view source) {
  for (const auto& column : columns)
    if (column.empty())
      throw setting_error(key, source, std::nullopt,
                          {"contains an empty column name", "list column names as they are in PostgreSQL"});
}

void check_selector(const TableSelector& t, const std::string& key, std::string_view source) {
  check_pattern(t.pattern, key, source);
  if (parse_table_name(t.pattern)->wildcard && !t.target.empty())
    throw setting_error(key + ".target", source, "\"" + t.target + "\"",
                        {"cannot rename a whole schema's tables to one target",
                         "remove target, or list the tables one by one"});
  check_columns(t.include, key + ".include", source);
  check_columns(t.exclude, key + ".exclude", source);
  check_columns(t.key, key + ".key", source);
  if (parse_table_name(t.pattern)->wildcard && !t.key.empty())
    throw setting_error(key + ".key", source, std::nullopt,
                        {"names columns of one table, not of a whole schema's", "list that table by name with its key"});
  for (const auto& column : t.key) {
    if (std::find(t.exclude.begin(), t.exclude.end(), column) != t.exclude.end() ||
        (!t.include.empty() && std::find(t.include.begin(), t.include.end(), column) == t.include.end()))
      throw setting_error(key + ".key", source, "\"" + column + "\"",
                          {"is a key column left out of the target", "keep the key's columns in the target"});
  }
  for (const auto& [column, type] : t.types) {
    if (type != "String")
      throw setting_error(key + ".types." + column, source, "\"" + type + "\"",
                          {"is not a type pg2ch can map a column to", "use \"String\" (numeric columns)"});
  }
  if (!t.include.empty() && !t.exclude.empty())
    throw setting_error(key, source, std::nullopt,
                        {"sets both include and exclude", "keep only one of them: the columns to copy or to drop"});
}

}  // namespace

std::vector<TableSelector> parse_table_list(std::string_view text) {
  // The comma that ends an item, outside double quotes (a quoted name may hold a comma).
  const auto next_comma = [](std::string_view s) {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '"') quoted = !quoted;
      if (s[i] == ',' && !quoted) return i;
    }
    return std::string_view::npos;
  };
  std::vector<TableSelector> tables;
  while (!text.empty()) {
    auto comma = next_comma(text);
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) {
      tables.emplace_back();
      tables.back().pattern = item;
    }
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return tables;
}

void set_tables(Config& config, std::vector<TableSelector> tables, std::string_view source) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    auto key = "tables[" + std::to_string(i + 1) + "]";
    check_selector(tables[i], key, source);
    if (!seen.insert(tables[i].pattern).second)
      throw setting_error(key + ".name", source, "\"" + tables[i].pattern + "\"",
                          {"is listed twice", "keep one entry per table or schema"});
  }
  config.tables = std::move(tables);
}

void require_tables(const Config& config) {
  if (!config.tables.empty()) return;
  throw Error(ErrorKind::Config, "no tables configured: pg2ch does not know what to copy",
              "add a [[tables]] entry with name = \"public.orders\" (or \"public.*\") to the config file, "
              "or set PG2CH_TABLES=public.orders, or pass --set tables=public.orders");
}

}  // namespace pg2ch::config::detail

#include "clickhouse/table_shape.h"

#include <fmt/format.h>

#include "clickhouse/tab_separated.h"
#include "common/error.h"

namespace pg2ch::clickhouse {

namespace {

std::string in_list(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) {
    if (!list.empty()) list += ", ";
    list += quote_string(n);
  }
  return list;
}

std::vector<std::vector<std::string>> rows_of(HttpClient& client, const std::string& sql, std::size_t width) {
  auto rows = parse_tab_separated(client.query(sql + " FORMAT TabSeparated"));
  for (const auto& r : rows) {
    if (r.size() != width) {
      throw Error(ErrorKind::Protocol,
                  fmt::format("ClickHouse answered a metadata query with {} columns, expected {}", r.size(), width));
    }
  }
  return rows;
}

}  // namespace

std::map<std::string, TableShape> read_table_shapes(HttpClient& client, std::string_view database,
                                                    const std::vector<std::string>& names) {
  std::map<std::string, TableShape> shapes;
  if (names.empty()) return shapes;
  const std::string db = quote_string(database);
  const std::string list = in_list(names);
  for (auto& r : rows_of(client,
                         fmt::format("SELECT name, engine, engine_full, sorting_key FROM system.tables "
                                     "WHERE database = {} AND name IN ({})",
                                     db, list),
                         4)) {
    TableShape& t = shapes[r[0]];
    t.engine = std::move(r[1]);
    t.engine_full = std::move(r[2]);
    t.sorting_key = std::move(r[3]);
  }
  // system.columns lists each table's columns in their order on every supported version.
  for (auto& r : rows_of(client,
                         fmt::format("SELECT table, name, type, default_kind, is_in_partition_key, default_expression "
                                     "FROM system.columns "
                                     "WHERE database = {} AND table IN ({})",
                                     db, list),
                         6)) {
    const auto t = shapes.find(r[0]);
    if (t == shapes.end()) continue;  // created between the two queries: seen as missing this time
    t->second.columns.push_back({std::move(r[1]), std::move(r[2]), std::move(r[3]), r[4] == "1", std::move(r[5])});
  }
  return shapes;
}

}  // namespace pg2ch::clickhouse

#include "clickhouse/part_pressure.h"

#include <fmt/format.h>

#include "clickhouse/tab_separated.h"

namespace pg2ch::clickhouse {

PartLimits read_part_limits(HttpClient& client) {
  PartLimits limits;
  for (const auto& row : parse_tab_separated(client.query("SELECT name, value FROM system.merge_tree_settings WHERE "
                                                          "name IN ('parts_to_delay_insert', 'parts_to_throw_insert') "
                                                          "FORMAT TabSeparated"))) {
    if (row.size() < 2) continue;
    const auto n = std::stoll(row[1]);
    if (n <= 0) continue;
    if (row[0] == "parts_to_delay_insert") limits.delay_at = n;
    if (row[0] == "parts_to_throw_insert") limits.throw_at = n;
  }
  return limits;
}

std::map<std::string, std::int64_t> active_parts(HttpClient& client, const std::string& database) {
  std::map<std::string, std::int64_t> parts;
  for (const auto& row : parse_tab_separated(client.query(fmt::format(
           "SELECT table, max(n) FROM (SELECT table, partition_id, count() AS n FROM system.parts "
           "WHERE database = {} AND active GROUP BY table, partition_id) GROUP BY table FORMAT TabSeparated",
           quote_string(database))))) {
    if (row.size() >= 2) parts[row[0]] = std::stoll(row[1]);
  }
  return parts;
}

std::optional<std::chrono::milliseconds> pressed_interval(std::int64_t parts, const PartLimits& limits) {
  if (parts >= limits.delay_at) return std::chrono::seconds(20);
  if (parts * 2 >= limits.delay_at) return std::chrono::seconds(5);
  return std::nullopt;
}

std::string describe_parts(const std::string& table, std::int64_t parts, const PartLimits& limits) {
  return fmt::format("{} has {} active parts in one partition (ClickHouse delays INSERTs at {}, refuses them at {})",
                     table, parts, limits.delay_at, limits.throw_at);
}

}  // namespace pg2ch::clickhouse

#include "clickhouse/ddl_runner.h"

#include <fmt/format.h>

#include "clickhouse/tab_separated.h"
#include "common/error.h"

namespace pg2ch::clickhouse {

namespace {

// "CREATE TABLE IF NOT EXISTS `db`.`t`": enough of a statement to say which one failed.
std::string statement_head(std::string_view sql) {
  const auto end = sql.find_first_of("(\n");
  std::string head(sql.substr(0, std::min<std::size_t>(end == std::string_view::npos ? sql.size() : end, 160)));
  while (!head.empty() && head.back() == ' ') head.pop_back();
  return head;
}

}  // namespace

void run_ddl(HttpClient& client, const TargetLayout& layout, std::string_view sql) {
  if (!layout.clustered()) {
    client.execute(sql);
    return;
  }
  std::string answer;
  try {
    answer = client.query(sql, ddl_settings(layout, client.endpoint().timeout_s));
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("running {} on cluster {}", statement_head(sql), layout.cluster));
  }
  // One row per host: host, port, status, error, hosts remaining, hosts active. 18.16 turns a
  // failed host into an exception itself; this is for a server that would not.
  for (const auto& row : parse_tab_separated(answer)) {
    if (row.size() < 4 || row[2] == "0") continue;
    throw Error(ErrorKind::Server,
                fmt::format("ClickHouse host {}:{} of cluster {} failed {}: {}", row[0], row[1], layout.cluster,
                            statement_head(sql), row[3]),
                "fix what that host's error names (its log has more), then start pg2ch again");
  }
}

}  // namespace pg2ch::clickhouse

#include "cli/ddl_command.h"

#include <algorithm>
#include <memory>

#include "capture/capture_mode.h"
#include "capture/shared/source_tables.h"
#include "clickhouse/http_client.h"
#include "common/error.h"
#include "kafka/kafka_engine_ddl.h"
#include "pg/catalog.h"
#include "pipeline/clickhouse_endpoint.h"

namespace pg2ch::cli {
namespace {

clickhouse::ServerCapabilities server_capabilities(const config::Config& cfg, const std::string& version) {
  if (!version.empty()) {
    const auto v = clickhouse::parse_server_version(version);
    if (v.major == 0)
      throw Error(ErrorKind::Config, "--clickhouse-version " + version + " is not a version",
                  "give the server's version as SELECT version() prints it, e.g. 18.16 or 23.8");
    return clickhouse::ServerCapabilities::from_version(v);
  }
  // Through "default": the configured database may not exist before the recipe is applied.
  auto endpoint = pipeline::clickhouse_endpoint(cfg);
  endpoint.database = "default";
  return clickhouse::HttpClient(endpoint).capabilities();
}

bool selected(const pg::TableRef& ref, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) { return w == ref.qualified() || w == ref.name; });
}

}  // namespace

void print_kafka_engine_ddl(const config::Config& cfg, const KafkaEngineDdlOptions& options, std::ostream& out) {
  const auto caps = server_capabilities(cfg, options.clickhouse_version);
  auto source = capture::connect_source(cfg);
  const auto refs = pg::resolve_tables(source, cfg.tables);
  for (const auto& w : options.tables) {
    if (std::none_of(refs.begin(), refs.end(), [&](const pg::TableRef& r) { return selected(r, {w}); }))
      throw Error(ErrorKind::Config, "--table " + w + " is not one of the configured tables",
                  "name a table the config's [[tables]] select, as schema.table");
  }
  // The envelope has the columns the configured mode's producer reads.
  pg::DescribeOptions describe;
  describe.generated_columns_unavailable = capture::capture_mode(cfg.mode).generated_columns_unavailable;
  describe.partitioned_tables = capture::capture_mode(cfg.mode).partitioned_tables;
  std::vector<std::unique_ptr<pipeline::TableSchema>> tables;
  std::vector<const pipeline::TableSchema*> ptrs;
  for (const auto& ref : refs) {
    if (!selected(ref, options.tables)) continue;
    tables.push_back(std::make_unique<pipeline::TableSchema>(pg::describe_table(source, ref, caps, describe)));
    ptrs.push_back(tables.back().get());
  }
  // Built completely before printing: an unsupported column prints nothing half-done.
  out << kafka::kafka_engine_script(cfg, ptrs, caps);
}

}  // namespace pg2ch::cli

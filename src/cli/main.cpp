// pg2ch command line: setup | run | status | teardown, one pipeline per config.
// Exit codes: service/exit_codes.h (0 success, 1 internal, 2 configuration, 3 status needs
// attention, 4 authentication/permission, 5 source schema, 6 data; 128 + signal for a second
// SIGTERM/SIGINT, which exits at once).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <spdlog/spdlog.h>

#include "capture/capture_mode.h"
#include "cli/ddl_command.h"
#include "common/error.h"
#include "common/logging.h"
#include "config/config.h"
#include "kafka/dev_broker.h"
#include "metrics/http_endpoint.h"
#include "metrics/pipeline_metrics.h"
#include "service/copy_progress.h"
#include "service/exit_codes.h"
#include "service/pipeline_loop.h"
#include "service/reload.h"
#include "service/run_driver.h"
#include "service/stop_deadline.h"
#include "service/systemd_notify.h"
#include "service/watchdog.h"
#include "verify/verify_command.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

// The first signal asks for an orderly stop (flush, acknowledge what is durable, exit 0); a
// second one exits at once, acknowledging nothing more: what was not written is read again on
// the next start.
void on_signal(int sig) {
  if (g_stop.exchange(true)) ::_exit(128 + sig);
}

void on_hangup(int) { g_reload = true; }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = on_hangup;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void reload_config(pg2ch::config::Config& cfg, const pg2ch::config::LoadOptions& load) {
  try {
    const auto fresh = pg2ch::config::load(load);
    for (const auto& warning : fresh.warnings) spdlog::warn("SIGHUP: {}", warning);
    const auto outcome = pg2ch::service::apply_reload(cfg, fresh);
    spdlog::default_logger()->set_level(spdlog::level::from_str(cfg.log.level));
    const auto joined = [](const std::vector<std::string>& keys) {
      std::string out;
      for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
      return out;
    };
    if (outcome.applied.empty() && outcome.needs_restart.empty()) {
      spdlog::info("SIGHUP: configuration read again, nothing changed");
    }
    if (!outcome.applied.empty()) spdlog::info("SIGHUP: now in effect: {}", joined(outcome.applied));
    if (!outcome.needs_restart.empty()) {
      spdlog::warn("SIGHUP: changed, but read only at start (restart the service to apply): {}",
                   joined(outcome.needs_restart));
    }
  } catch (const pg2ch::Error& e) {
    spdlog::error("SIGHUP: the configuration does not load, nothing changed: {}", e.one_line());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pg2ch: stream PostgreSQL tables into ClickHouse"};
  app.set_version_flag("--version", std::string("pg2ch ") + PG2CH_VERSION);
  app.require_subcommand(1);

  pg2ch::config::LoadOptions load;
  std::string config_path, env_file;
  std::vector<std::string> sets;
  std::string log_level;
  app.add_option("-c,--config", config_path, "TOML config file");
  app.add_option("--env-file", env_file, ".env file (default: ./.env when present)");
  app.add_option("--set", sets, "override a setting: section.key=value (repeatable)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");

  auto* setup_cmd = app.add_subcommand("setup", "check the source, create publication and ClickHouse tables");
  auto* run_cmd = app.add_subcommand("run", "initial snapshot if needed, then stream changes until stopped");
  bool until_caught_up = false;
  run_cmd->add_flag("--until-caught-up", until_caught_up,
                    "stop once every change committed before start-up is in ClickHouse");
  auto* replay_cmd = app.add_subcommand("replay", "mode = kafka: re-read the topics from a chosen position");
  std::string replay_from;
  replay_cmd->add_option("--from", replay_from, "beginning | end | offset:N | time:ISO8601")->required();
  replay_cmd->add_flag("--until-caught-up", until_caught_up,
                       "stop once everything in the topics at start-up is in ClickHouse");
  auto* status_cmd = app.add_subcommand("status", "state, lag, acknowledged position, per-table row counts");
  bool status_json = false;
  status_cmd->add_flag("--json", status_json, "one JSON object on stdout, for scripts");
  auto* teardown_cmd = app.add_subcommand("teardown", "drop the replication slot and publication");
  bool drop_targets = false;
  teardown_cmd->add_flag("--drop-target", drop_targets, "also drop the ClickHouse tables and views");

  auto* resync_cmd = app.add_subcommand("resync", "copy tables again while the others stream (a running pipeline within seconds, else at its next start)");
  std::vector<std::string> resync_tables;
  resync_cmd->add_option("tables", resync_tables, "schema.table as `pg2ch status` lists it")->required();

  auto* verify_cmd = app.add_subcommand("verify", "compare every table row by row between PostgreSQL and ClickHouse");
  std::vector<std::string> verify_tables;
  pg2ch::verify::CompareOptions verify_options;
  int verify_settle_ms = 5000;
  verify_cmd->add_option("tables", verify_tables, "schema.table as `pg2ch status` lists it (default: every table)");
  verify_cmd->add_option("--max-rows", verify_options.max_rows, "differing rows listed per table (default 20)");
  verify_cmd->add_option("--settle-ms", verify_settle_ms,
                         "read differing rows again after this delay, so changes in flight are not reported (default 5000)");
  verify_cmd->add_option("--max-checked", verify_options.max_checked,
                         "differing rows matched and read again per table; beyond, only counted (default 10000)");
  verify_cmd->add_option("--leaf-rows", verify_options.leaf_rows,
                         "a differing bucket with at most this many rows is read row by row (default 5000)");

  auto* dev_cmd = app.add_subcommand("dev", "helpers for trying pg2ch locally (not for production)");
  dev_cmd->require_subcommand(1);
  auto* dev_kafka_cmd = dev_cmd->add_subcommand("kafka", "run an in-memory TEST Kafka broker in the foreground");
  pg2ch::kafka::DevBrokerOptions dev_kafka;
  dev_kafka_cmd->add_option("--port", dev_kafka.port, "bootstrap port on 127.0.0.1 (default: a free port)");
  dev_kafka_cmd->add_option("--partitions", dev_kafka.partitions, "partitions of the --topics (default 1)");
  dev_kafka_cmd->add_option("--topics", dev_kafka.topics, "topics to create up front")->delimiter(',');

  auto* ddl_cmd = app.add_subcommand("ddl", "print SQL for the ClickHouse side of a route");
  ddl_cmd->require_subcommand(1);
  auto* ddl_kafka_cmd = ddl_cmd->add_subcommand("kafka-engine", "Kafka engine table + materialized view + target per table");
  pg2ch::cli::KafkaEngineDdlOptions ddl_kafka;
  ddl_kafka_cmd->add_option("--table", ddl_kafka.tables, "schema.table (repeatable; default: every configured table)");
  ddl_kafka_cmd->add_option("--clickhouse-version", ddl_kafka.clickhouse_version,
                            "generate for this ClickHouse version without connecting to ClickHouse");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*dev_kafka_cmd) {  // needs no pipeline config
      pg2ch::setup_logging(log_level.empty() ? "warn" : log_level, "text");
      install_signal_handlers();
      pg2ch::kafka::run_dev_broker(dev_kafka, g_stop, std::cout);
      return 0;
    }
    if (!config_path.empty()) load.config_path = config_path;
    if (!env_file.empty()) load.env_file = env_file;
    load.environment = pg2ch::config::process_environment();
    for (const auto& s : sets) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw pg2ch::Error(pg2ch::ErrorKind::Config, "--set " + s + " is not section.key=value");
      }
      load.cli_overrides[s.substr(0, eq)] = s.substr(eq + 1);
    }
    if (!log_level.empty()) load.cli_overrides["log.level"] = log_level;
    // Not const: SIGHUP changes its reloadable settings in place (service/reload.h).
    pg2ch::config::Config cfg = pg2ch::config::load(load);
    pg2ch::setup_logging(cfg.log.level, cfg.log.format);
    for (const auto& warning : cfg.warnings) spdlog::warn("{}", warning);
    install_signal_handlers();

    if (*ddl_kafka_cmd) {  // prints SQL only; works whatever the capture mode
      pg2ch::cli::print_kafka_engine_ddl(cfg, ddl_kafka, std::cout);
      return 0;
    }
    const auto& mode = pg2ch::capture::capture_mode(cfg.mode);
    if (*setup_cmd) mode.setup(cfg);
    if (*run_cmd) {
      pg2ch::capture::RunOptions opts;
      opts.stop_when_caught_up = until_caught_up;
      opts.on_ready = [&] {
        pg2ch::service::notify_ready("streaming (mode " + cfg.mode + ", pipeline " + cfg.name + ")");
      };
      // First, so it is destroyed last: the whole stop, the listener's included, is bounded.
      pg2ch::service::StopDeadline deadline(g_stop, cfg.service.stop_timeout);
      pg2ch::metrics::PipelineMetrics metrics(cfg);
      std::unique_ptr<pg2ch::metrics::HttpEndpoint> endpoint;
      if (!cfg.service.metrics_listen.empty()) {
        endpoint = std::make_unique<pg2ch::metrics::HttpEndpoint>(cfg.service.metrics_listen, metrics);
      }
      pg2ch::service::Watchdog watchdog;
      opts.on_alive = [&watchdog, &metrics] {
        watchdog.beat();
        metrics.alive();
      };
      pg2ch::service::CopyProgress progress(&metrics, ::isatty(STDERR_FILENO) != 0);
      opts.observer = &progress;
      opts.reload_requested = &g_reload;
      opts.reload = [&cfg, &load] { reload_config(cfg, load); };
      pg2ch::service::notify_status("starting: connecting, ensuring targets, initial snapshot if needed");
      pg2ch::service::drive(
          cfg,
          [&metrics](const pg2ch::config::Config& c, const std::atomic<bool>& stop,
                     const pg2ch::capture::RunOptions& o) { pg2ch::service::run_pipeline(c, stop, o, &metrics); },
          g_stop, opts, nullptr, &metrics);
      pg2ch::service::notify_stopping();
    }
    if (*replay_cmd) {
      if (cfg.mode != "kafka") {
        throw pg2ch::Error(pg2ch::ErrorKind::Config, "replay needs mode = \"kafka\" (mode is \"" + cfg.mode + "\")",
                           "run replay with the consumer's config");
      }
      pg2ch::capture::RunOptions opts;
      opts.stop_when_caught_up = until_caught_up;
      opts.replay_from = replay_from;
      // Not retried: a retry would start the replay over (or, from "end", skip what the first
      // attempt had not committed). A replay that fails exits; the operator runs it again.
      pg2ch::service::run_pipeline(cfg, g_stop, opts);
    }
    if (*resync_cmd) {
      if (!mode.resync) {
        throw pg2ch::Error(pg2ch::ErrorKind::Config, "resync is not available in mode = \"" + cfg.mode + "\" yet",
                           "teardown --drop-target and run again to copy everything");
      }
      mode.resync(cfg, resync_tables);
    }
    if (*status_cmd) {
      const auto report = mode.status(cfg);
      if (status_json) {
        pg2ch::capture::print_status_json(report, std::cout);
      } else {
        pg2ch::capture::print_status_text(report, std::cout);
      }
      if (!report.healthy()) return static_cast<int>(pg2ch::service::ExitCode::NeedsAttention);
    }
    if (*verify_cmd) {
      verify_options.settle = std::chrono::milliseconds(verify_settle_ms);
      if (!pg2ch::verify::verify_tables(cfg, verify_tables, verify_options, std::cout)) {
        return static_cast<int>(pg2ch::service::ExitCode::NeedsAttention);
      }
    }
    if (*teardown_cmd) mode.teardown(cfg, drop_targets);
    return 0;
  } catch (const pg2ch::Error& e) {
    std::cerr << "pg2ch: error: " << e.one_line() << "\n";
    return static_cast<int>(pg2ch::service::exit_code_for(e));
  } catch (const std::exception& e) {
    std::cerr << "pg2ch: error: " << e.what() << "\n";
    return static_cast<int>(pg2ch::service::ExitCode::Internal);
  }
}

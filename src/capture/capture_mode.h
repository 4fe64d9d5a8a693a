#pragma once
// The four operations every capture mode implements, and the lookup from `mode` in the config.
// Modes register in capture_mode.cpp; the CLI knows nothing about any particular mode.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capture/change_source.h"
#include "capture/shared/source_tables.h"
#include "capture/status_report.h"
#include "config/config.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::capture {

struct RunOptions {
  // Stop once everything the source had committed at start-up is durable in the sink
  // (tests, benchmarks, one-shot batch jobs).
  bool stop_when_caught_up = false;
  // mode = "kafka" only (`pg2ch replay --from`): where to start reading instead of the group's
  // committed offsets. Empty: the committed offsets.
  std::string replay_from;
  // Called once when the pipeline has finished starting (targets ensured, initial snapshot taken)
  // and reads changes: systemd's READY=1, a test's "started".
  std::function<void()> on_ready;

  // Called by the loop that does the work each time it makes progress or waits for input, and by
  // long operations (snapshot copies, slot creation) as they go: systemd's WATCHDOG=1. Must be
  // cheap and thread-safe. A loop that stops calling it is considered stuck.
  std::function<void()> on_alive;

  // SIGHUP: set by the signal handler, taken by the loop between turns, which then calls reload()
  // (re-reads the config into the one the pipeline runs with) and gives the sink the batch
  // limits. Both may be null.
  std::atomic<bool>* reload_requested = nullptr;
  std::function<void()> reload;

  // Hears every change, write and lag sample (metrics/pipeline_metrics.h); may be null.
  pipeline::PipelineObserver* observer = nullptr;

  void ready() const {
    if (on_ready) on_ready();
  }
  void alive() const {
    if (on_alive) on_alive();
  }
};

struct CaptureMode {
  // Checks the source, creates what the mode needs there (publication, triggers, events table)
  // and the ClickHouse targets. Idempotent.
  void (*setup)(const config::Config& cfg);
  // Starts the pipeline: targets ensured, the initial copy taken where one is due, the input
  // connected. nullptr when `stop` was set during start-up. Throws pg2ch::Error on failure.
  // service/pipeline_loop.h runs what it returns.
  std::unique_ptr<ChangeSource> (*open)(const config::Config& cfg, const std::atomic<bool>& stop,
                                        const RunOptions& options);
  // What `pg2ch status` shows (capture/status_report.h): its attention list is empty when healthy.
  StatusReport (*status)(const config::Config& cfg);
  // Removes what setup created at the source; with drop_targets also the ClickHouse tables.
  void (*teardown)(const config::Config& cfg, bool drop_targets);
  // Empty when the mode reads GENERATED ALWAYS AS (...) STORED columns with the rest of each row
  // (its rows come from SELECTs), so they are replicated like any other column. Otherwise why it
  // cannot, for setup's note on the columns left out and the error when a config includes one.
  std::string_view generated_columns_unavailable = {};
  // Marks tables (schema.table as `status` lists them) to be copied again at the pipeline's
  // next start; null where the mode has no per-table copy yet.
  void (*resync)(const config::Config& cfg, const std::vector<std::string>& tables) = nullptr;
  // Whether a partitioned table can be named as one table (its partitions' rows in one target);
  // elsewhere its partitions are named instead.
  bool partitioned_tables = false;
  // Puts on the described tables what the pipeline's state says their targets keep as they were
  // (logical: changes of columns left out by logical.on_* = "ignore"), so that `verify` compares
  // what the pipeline writes; null where targets always follow the source's description.
  void (*as_written)(const config::Config& cfg, SourceTables& tables) = nullptr;
};

// Throws Error(Config) for a mode this build does not provide.
const CaptureMode& capture_mode(const std::string& mode);

}  // namespace pg2ch::capture

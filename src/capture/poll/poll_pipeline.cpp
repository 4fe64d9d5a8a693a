#include "capture/poll/poll_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "common/interruptible_sleep.h"
#include "capture/poll/poll_engine.h"
#include "capture/poll/watermark_source.h"
#include "clickhouse/target_table.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::poll {

namespace {

// While windows wait for their horizon nothing wakes us but time: look again this soon.
constexpr std::chrono::milliseconds kWindowRecheck{100};

std::chrono::milliseconds next_wait(const config::Config& cfg, bool windows_pending,
                                    std::optional<std::chrono::milliseconds> sink_due) {
  auto wait = windows_pending ? std::min(cfg.poll.interval, kWindowRecheck) : cfg.poll.interval;
  if (sink_due) wait = std::min(wait, std::max(*sink_due, std::chrono::milliseconds(1)));
  return wait;
}

}  // namespace

void setup(const config::Config& cfg) {
  WatermarkSource s = open_watermark_source(cfg, true);
  ensure_targets(s.p);
  std::cout << fmt::format("pg2ch setup: {} table(s) ready in ClickHouse database {} (mode poll)\n",
                           s.p.tables.size(), cfg.clickhouse.database);
  for (std::size_t i = 0; i < s.p.tables.size(); ++i) {
    const auto& t = *s.p.tables[i];
    std::cout << fmt::format("  {} -> {}.{} (view {}), watermark {}\n", t.qualified_source(), cfg.clickhouse.database,
                             t.target_name, clickhouse::current_view_name(t), s.keysets[i].order.front().name);
  }
  std::cout << "Deletes are not captured in mode poll; use mode = \"outbox\" to capture them.\n";
}

void run(const config::Config& cfg, const std::atomic<bool>& stop, const RunOptions& options) {
  WatermarkSource s = open_watermark_source(cfg, true);
  ensure_targets(s.p);
  auto state = state::open_state_store(cfg);
  auto sink = pipeline::make_change_sink(cfg, nullptr);
  PollEngine engine(cfg, s.p.source, s.p.table_ptrs(), std::move(s.keysets), *sink, *state);
  spdlog::info("polling {} table(s) every {} ms once caught up", engine.table_count(), cfg.poll.interval.count());
  auto last_poll = std::chrono::steady_clock::time_point{};
  options.ready();
  while (!stop.load()) {
    options.alive();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_poll >= cfg.poll.interval) {
      last_poll = now;
      engine.catch_up({}, stop);
    } else {
      engine.maintain(stop);
    }
    if (options.stop_when_caught_up && !engine.windows_pending()) {
      engine.flush();
      if (engine.finished()) break;
    }
    sleep_unless_stopped(next_wait(cfg, engine.windows_pending(), engine.sink_poll()), stop);
  }
  engine.flush();
  spdlog::info("stopped: {} rows read ({} delivered late by window rescans), {} rows in {} inserts",
               engine.rows_read(), engine.late_rows(), sink->stats().rows_written, sink->stats().inserts);
}

bool status(const config::Config& cfg) {
  WatermarkSource s = open_watermark_source(cfg, false);
  auto state = state::open_state_store(cfg);
  return print_watermark_status(cfg, s, *state);
}

void teardown(const config::Config& cfg, bool drop_targets) {
  WatermarkSource s = open_watermark_source(cfg, false);
  auto state = state::open_state_store(cfg);
  erase_checkpoints(s, *state);
  std::cout << "forgot the poll checkpoints (nothing was installed at the source)\n";
  if (drop_targets) capture::drop_targets(s.p);
}

}  // namespace pg2ch::capture::poll

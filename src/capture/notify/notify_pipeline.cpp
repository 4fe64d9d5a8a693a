#include "capture/notify/notify_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "capture/notify/notify_listener.h"
#include "capture/notify/notify_triggers.h"
#include "capture/poll/poll_engine.h"
#include "capture/poll/watermark_source.h"
#include "clickhouse/target_table.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::notify {

namespace {

using Clock = std::chrono::steady_clock;
// Pending horizon windows get no notification when the transaction they wait for ends (it may
// have written nothing): look again this soon.
constexpr std::chrono::milliseconds kWindowRecheck{100};

std::chrono::milliseconds until(Clock::time_point t) {
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()));
}

}  // namespace

void setup(const config::Config& cfg) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, true);
  create_targets(cfg, s.p);
  install_notify_triggers(s.p.source, cfg, s.p.refs);
  std::cout << fmt::format(
      "pg2ch setup: {} table(s) ready in ClickHouse database {}; statement-level triggers {} notify channel {}\n",
      s.p.tables.size(), cfg.clickhouse.database, trigger_name(cfg), cfg.notify.channel);
  for (std::size_t i = 0; i < s.p.tables.size(); ++i) {
    const auto& t = *s.p.tables[i];
    std::cout << fmt::format("  {} -> {}.{} (view {}), watermark {}\n", t.qualified_source(), cfg.clickhouse.database,
                             t.target_name, clickhouse::current_view_name(t), s.keysets[i].order.front().name);
  }
  std::cout << "Deletes are not captured in mode notify; use mode = \"outbox\" to capture them.\n";
}

void run(const config::Config& cfg, const std::atomic<bool>& stop, const RunOptions& options) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, true);
  create_targets(cfg, s.p);
  for (const auto& ref : s.p.refs) {
    if (!has_notify_trigger(s.p.source, cfg, ref)) {
      spdlog::warn("{}: notify trigger {} is missing (run `pg2ch setup`); the table is only polled every {} ms",
                   ref.qualified(), trigger_name(cfg), cfg.poll.interval.count());
    }
  }
  auto state = state::open_state_store(cfg);
  auto sink = pipeline::make_change_sink(cfg, nullptr);
  poll::PollEngine engine(cfg, s.p.source, s.p.table_ptrs(), std::move(s.keysets), *sink, *state);
  // LISTEN before the first catch-up, so nothing committed in between goes unnoticed.
  NotifyListener listener(cfg);
  spdlog::info("listening on channel {} for {} table(s), fallback poll every {} ms", cfg.notify.channel,
               engine.table_count(), cfg.poll.interval.count());

  std::uint64_t notifications = 0, wakeups = 0;
  engine.catch_up({}, stop);
  auto last_full = Clock::now();
  while (!stop.load()) {
    if (options.stop_when_caught_up && !engine.windows_pending()) {
      engine.flush();
      if (engine.finished()) break;
    }
    auto timeout = until(last_full + cfg.poll.interval);
    if (engine.windows_pending()) timeout = std::min(timeout, kWindowRecheck);
    if (auto due = engine.sink_poll()) timeout = std::min(timeout, std::max(*due, std::chrono::milliseconds(1)));
    const Wake wake = listener.wait(timeout, stop);
    if (stop.load()) break;
    notifications += wake.notifications;
    if (wake.reconnected || Clock::now() - last_full >= cfg.poll.interval) {
      // After a reconnect notifications may be lost; on the fallback timer none may have come.
      engine.catch_up({}, stop);
      last_full = Clock::now();
    } else if (!wake.tables.empty()) {
      ++wakeups;
      std::vector<std::size_t> which;
      for (const auto& name : wake.tables) {
        if (auto i = engine.table_index(name)) which.push_back(*i);
      }
      spdlog::debug("woke for {} notification(s) on {} table(s)", wake.notifications, which.size());
      if (!which.empty()) engine.catch_up(which, stop);
    } else {
      engine.maintain(stop);
    }
  }
  engine.flush();
  spdlog::info(
      "stopped: {} notification(s) received, {} wake-up(s), {} reconnect(s); {} rows read ({} delivered late by "
      "window rescans), {} rows in {} inserts",
      notifications, wakeups, listener.reconnects(), engine.rows_read(), engine.late_rows(), sink->stats().rows_written,
      sink->stats().inserts);
}

bool status(const config::Config& cfg) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, false);
  auto state = state::open_state_store(cfg);
  bool healthy = poll::print_watermark_status(cfg, s, *state);
  for (const auto& ref : s.p.refs) {
    if (has_notify_trigger(s.p.source, cfg, ref)) continue;
    std::cout << fmt::format("  {}: notify trigger {} missing (run `pg2ch setup`)\n", ref.qualified(),
                             trigger_name(cfg));
    healthy = false;
  }
  return healthy;
}

void teardown(const config::Config& cfg, bool drop_targets) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, false);
  drop_notify_triggers(s.p.source, cfg, s.p.refs);
  auto state = state::open_state_store(cfg);
  poll::erase_checkpoints(s, *state);
  std::cout << fmt::format("dropped notify triggers {} on {} table(s)\n", trigger_name(cfg), s.p.refs.size());
  if (drop_targets) capture::drop_targets(cfg, s.p);
}

}  // namespace pg2ch::capture::notify

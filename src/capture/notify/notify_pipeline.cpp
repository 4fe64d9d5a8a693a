#include "capture/notify/notify_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

#include "capture/notify/follow_up.h"
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

struct RunningXids {
  std::int64_t at_us = 0;             // server time before the list was read
  std::vector<std::uint32_t> xids;    // every transaction holding an xid then
};

// What follow_up.h's probe needs. backend_xid is readable without pg_read_all_stats; prepared
// transactions hold an xid without a backend. statement_timestamp() precedes the read.
RunningXids probe_running_xids(pg::Connection& conn) {
  pg::Result r = conn.query(
      "SELECT (extract(epoch FROM statement_timestamp()) * 1000000)::int8, x::text::int8"
      "  FROM (SELECT backend_xid FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
      "        UNION ALL SELECT transaction FROM pg_prepared_xacts) t(x)"
      " RIGHT JOIN (VALUES (1)) one ON true");
  RunningXids out;
  out.at_us = r.int64(0, 0);
  for (int row = 0; row < r.rows(); ++row) {
    if (!r.is_null(row, 1)) out.xids.push_back(static_cast<std::uint32_t>(r.int64(row, 1)));
  }
  return out;
}

std::chrono::milliseconds until(Clock::time_point t) {
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()));
}

}  // namespace

void setup(const config::Config& cfg) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, true);
  ensure_targets(s.p);
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
  ensure_targets(s.p);
  for (const auto& ref : s.p.refs) {
    if (!has_notify_trigger(s.p.source, cfg, ref)) {
      spdlog::warn("{}: notify trigger {} is missing (run `pg2ch setup`); the table is only polled every {} ms",
                   ref.qualified(), trigger_name(cfg), cfg.poll.interval.count());
    } else if (notify_trigger_is_per_statement(s.p.source, cfg, ref)) {
      spdlog::warn("{}: notify trigger {} was installed by an older pg2ch and notifies every statement, which "
                   "serialises the writers' commits; run `pg2ch setup` again",
                   ref.qualified(), trigger_name(cfg));
    }
  }
  auto state = state::open_state_store(cfg);
  auto sink = pipeline::make_change_sink(cfg, nullptr);
  poll::PollEngine engine(cfg, s.p.source, s.p.table_ptrs(), std::move(s.keysets), *sink, *state);
  // LISTEN before the first catch-up, so nothing committed in between goes unnoticed.
  NotifyListener listener(cfg);
  spdlog::info("listening on channel {} for {} table(s), fallback poll every {} ms", cfg.notify.channel,
               engine.table_count(), cfg.poll.interval.count());

  std::uint64_t notifications = 0, wakeups = 0, follow_up_polls = 0;
  // Per table (parallel to the engine's): what still has to be polled after a notification.
  std::vector<FollowUp> follow(engine.table_count());
  // Before polling tables that follow up a notification: one probe for all of them.
  const auto probe = [&](const std::vector<std::size_t>& which) {
    bool any = false;
    for (auto i : which) any = any || follow[i].active();
    if (!any) return;
    const RunningXids running = probe_running_xids(s.p.source);
    for (auto i : which) follow[i].probed(running.at_us, running.xids);
  };
  const auto polled = [&](const std::vector<std::size_t>& which) {
    for (auto i : which) follow[i].polled();
  };
  const auto all = [&] {
    std::vector<std::size_t> which(follow.size());
    for (std::size_t i = 0; i < which.size(); ++i) which[i] = i;
    return which;
  };
  const auto following = [&] {
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < follow.size(); ++i) {
      if (follow[i].active()) which.push_back(i);
    }
    return which;
  };
  // Follow-up polls run every notify.coalesce (one bucket), at least 1 ms apart.
  const auto follow_every = std::max(cfg.notify.coalesce, std::chrono::milliseconds(1));
  auto last_follow_up = Clock::now();

  engine.catch_up({}, stop);
  auto last_full = Clock::now();
  options.ready();
  while (!stop.load()) {
    options.alive();
    if (options.stop_when_caught_up && !engine.windows_pending() && following().empty()) {
      engine.flush();
      if (engine.finished()) break;
    }
    auto timeout = until(last_full + cfg.poll.interval);
    if (engine.windows_pending()) timeout = std::min(timeout, kWindowRecheck);
    if (!following().empty()) timeout = std::min(timeout, until(last_follow_up + follow_every));
    if (auto due = engine.sink_poll()) timeout = std::min(timeout, std::max(*due, std::chrono::milliseconds(1)));
    const Wake wake = listener.wait(timeout, stop);
    if (stop.load()) break;
    notifications += wake.notifications;
    std::vector<std::size_t> which;
    for (const auto& [name, ends_us] : wake.tables) {
      const auto i = engine.table_index(name);
      if (!i) continue;
      which.push_back(*i);
      if (ends_us) follow[*i].notified(*ends_us);
    }
    if (wake.reconnected || Clock::now() - last_full >= cfg.poll.interval) {
      // After a reconnect notifications may be lost; on the fallback timer none may have come.
      probe(all());
      engine.catch_up({}, stop);
      polled(all());
      last_full = last_follow_up = Clock::now();
      continue;
    }
    if (!wake.tables.empty()) ++wakeups;
    // Tables following up a notification are polled with the notified ones, once a bucket.
    if (Clock::now() - last_follow_up >= follow_every) {
      for (auto i : following()) {
        if (std::find(which.begin(), which.end(), i) == which.end()) {
          which.push_back(i);
          ++follow_up_polls;
        }
      }
    }
    if (which.empty()) {
      engine.maintain(stop);
      continue;
    }
    spdlog::debug("polling {} table(s) after {} notification(s)", which.size(), wake.notifications);
    probe(which);
    engine.catch_up(which, stop);
    polled(which);
    last_follow_up = Clock::now();
  }
  engine.flush();
  spdlog::info(
      "stopped: {} notification(s) received, {} wake-up(s), {} follow-up poll(s), {} reconnect(s); {} rows read ({} "
      "delivered late by window rescans), {} rows in {} inserts",
      notifications, wakeups, follow_up_polls, listener.reconnects(), engine.rows_read(), engine.late_rows(),
      sink->stats().rows_written, sink->stats().inserts);
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
  if (drop_targets) capture::drop_targets(s.p);
}

}  // namespace pg2ch::capture::notify

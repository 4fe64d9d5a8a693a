#include "capture/notify/notify_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

#include "capture/notify/follow_up.h"
#include "capture/notify/notify_listener.h"
#include "capture/notify/notify_triggers.h"
#include "capture/poll/poll_engine.h"
#include "capture/poll/watermark_pipeline.h"
#include "capture/poll/watermark_source.h"
#include "clickhouse/target_table.h"
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
  print_setup_notes(s.p, std::cout);
  std::cout << "Deletes are not captured in mode notify; use mode = \"outbox\" to capture them.\n";
}

namespace {

class NotifySource final : public ChangeSource {
 public:
  // LISTEN before the first catch-up, so nothing committed in between goes unnoticed.
  NotifySource(const config::Config& cfg, poll::WatermarkSource s, const RunOptions& options)
      : cfg_(cfg),
        w_(cfg, std::move(s), options),
        listener_(cfg),
        follow_(w_.engine.table_count()),
        follow_every_(std::max(cfg.notify.coalesce, std::chrono::milliseconds(1))),
        stop_when_caught_up_(options.stop_when_caught_up) {}

  std::size_t table_count() const { return w_.engine.table_count(); }

  void first_catch_up(const std::atomic<bool>& stop) {
    w_.engine.catch_up({}, stop);
    last_full_ = last_follow_up_ = Clock::now();
  }

  Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) override {
    poll::PollEngine& engine = w_.engine;
    if (stop_when_caught_up_ && !engine.windows_pending() && following().empty()) {
      engine.flush();
      if (engine.finished()) return Turn::CaughtUp;
    }
    if (const auto again = w_.resync_requests(); !again.empty()) {
      engine.catch_up(again, stop);  // notifications say nothing about rows already there
      return Turn::More;
    }
    // A new table's trigger first: every write after it notifies, and the read from its first
    // row that follows sees every one committed before.
    const auto joined = w_.join_new_tables(
        [this](const pg::TableRef& ref) { install_notify_triggers(w_.s.p.source, cfg_, {ref}); });
    if (!joined.empty()) {
      follow_.resize(engine.table_count());
      engine.catch_up(joined, stop);
      return Turn::More;
    }
    if (const auto again = w_.read_attached_again(); !again.empty()) {
      engine.catch_up(again, stop);
      return Turn::More;
    }
    auto timeout = std::min(max_wait, until(last_full_ + cfg_.poll.interval));
    if (engine.windows_pending()) timeout = std::min(timeout, kWindowRecheck);
    if (!following().empty()) timeout = std::min(timeout, until(last_follow_up_ + follow_every_));
    if (auto due = engine.sink_poll()) timeout = std::min(timeout, std::max(*due, std::chrono::milliseconds(1)));
    const Wake wake = listener_.wait(timeout, stop);
    if (stop.load()) return Turn::More;
    notifications_ += wake.notifications;
    std::vector<std::size_t> which;
    for (const auto& [name, ends_us] : wake.tables) {
      const auto i = engine.table_index(name);
      if (!i) continue;
      which.push_back(*i);
      if (ends_us) follow_[*i].notified(*ends_us);
    }
    if (wake.reconnected || Clock::now() - last_full_ >= cfg_.poll.interval) {
      // After a reconnect notifications may be lost; on the fallback timer none may have come.
      const auto every = all();
      probe(every);
      engine.catch_up({}, stop);
      polled(every);
      last_full_ = last_follow_up_ = Clock::now();
      return Turn::More;
    }
    if (!wake.tables.empty()) ++wakeups_;
    // Tables following up a notification are polled with the notified ones, once a bucket.
    if (Clock::now() - last_follow_up_ >= follow_every_) {
      for (auto i : following()) {
        if (std::find(which.begin(), which.end(), i) == which.end()) {
          which.push_back(i);
          ++follow_up_polls_;
        }
      }
    }
    if (which.empty()) {
      engine.maintain(stop);
      return Turn::More;
    }
    spdlog::debug("polling {} table(s) after {} notification(s)", which.size(), wake.notifications);
    probe(which);
    engine.catch_up(which, stop);
    polled(which);
    last_follow_up_ = Clock::now();
    return Turn::More;
  }

  void finish() override { w_.engine.flush(); }
  pipeline::ChangeSink& sink() override { return *w_.sink; }
  std::string progress() const override {
    return fmt::format(
        "{} notification(s) received, {} wake-up(s), {} follow-up poll(s), {} reconnect(s); {} rows read ({} "
        "delivered late by window rescans)",
        notifications_, wakeups_, follow_up_polls_, listener_.reconnects(), w_.engine.rows_read(),
        w_.engine.late_rows());
  }

 private:
  // Before polling tables that follow up a notification: one probe for all of them.
  void probe(const std::vector<std::size_t>& which) {
    bool any = false;
    for (auto i : which) any = any || follow_[i].active();
    if (!any) return;
    const RunningXids running = probe_running_xids(w_.s.p.source);
    for (auto i : which) follow_[i].probed(running.at_us, running.xids);
  }
  void polled(const std::vector<std::size_t>& which) {
    for (auto i : which) follow_[i].polled();
  }
  std::vector<std::size_t> all() const {
    std::vector<std::size_t> which(follow_.size());
    for (std::size_t i = 0; i < which.size(); ++i) which[i] = i;
    return which;
  }
  std::vector<std::size_t> following() const {
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < follow_.size(); ++i) {
      if (follow_[i].active()) which.push_back(i);
    }
    return which;
  }

  const config::Config& cfg_;
  poll::WatermarkPipeline w_;
  NotifyListener listener_;
  // Per table (parallel to the engine's): what still has to be polled after a notification.
  std::vector<FollowUp> follow_;
  // Follow-up polls run every notify.coalesce (one bucket), at least 1 ms apart.
  const std::chrono::milliseconds follow_every_;
  const bool stop_when_caught_up_;
  Clock::time_point last_full_{}, last_follow_up_{};
  std::uint64_t notifications_ = 0, wakeups_ = 0, follow_up_polls_ = 0;
};

}  // namespace

std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, true);
  poll::prepare_targets(cfg, s);
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
  auto source = std::make_unique<NotifySource>(cfg, std::move(s), options);
  spdlog::info("listening on channel {} for {} table(s), fallback poll every {} ms", cfg.notify.channel,
               source->table_count(), cfg.poll.interval.count());
  source->first_catch_up(stop);
  return source;
}

StatusReport status(const config::Config& cfg) {
  poll::WatermarkSource s = poll::open_watermark_source(cfg, false, MissingTables::Report);
  auto state = state::open_state_store(cfg);
  StatusReport r = poll::watermark_status(cfg, s, *state);
  for (std::size_t i = 0; i < s.p.refs.size(); ++i) {
    if (has_notify_trigger(s.p.source, cfg, s.p.refs[i])) continue;
    r.tables[i].state = "no trigger";
    r.attention.push_back(fmt::format("{}: notify trigger {} missing (run `pg2ch setup`); the table is only polled",
                                      s.p.refs[i].qualified(), trigger_name(cfg)));
  }
  return r;
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

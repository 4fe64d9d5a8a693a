#include "capture/poll/poll_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "common/interruptible_sleep.h"
#include "capture/poll/poll_engine.h"
#include "capture/poll/watermark_pipeline.h"
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
  print_setup_notes(s.p, std::cout);
  std::cout << "Deletes are not captured in mode poll; use mode = \"outbox\" to capture them.\n";
}

namespace {

class PollSource final : public ChangeSource {
 public:
  PollSource(const config::Config& cfg, WatermarkSource s, const RunOptions& options)
      : cfg_(cfg), w_(cfg, std::move(s), options), stop_when_caught_up_(options.stop_when_caught_up) {}

  Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) override {
    PollEngine& engine = w_.engine;
    const auto now = std::chrono::steady_clock::now();
    if (!w_.resync_requests().empty()) last_poll_ = {};  // read them again now
    if (!w_.join_new_tables().empty()) last_poll_ = {};  // read them now
    if (!w_.read_attached_again().empty()) last_poll_ = {};
    if (now - last_poll_ >= cfg_.poll.interval) {
      last_poll_ = now;
      engine.catch_up({}, stop);
    } else {
      engine.maintain(stop);
    }
    if (stop_when_caught_up_ && !engine.windows_pending()) {
      engine.flush();
      if (engine.finished()) return Turn::CaughtUp;
    }
    sleep_unless_stopped(std::min(max_wait, next_wait(cfg_, engine.windows_pending(), engine.sink_poll())), stop);
    return Turn::More;
  }
  void finish() override { w_.engine.flush(); }
  std::size_t table_count() const { return w_.engine.table_count(); }
  pipeline::ChangeSink& sink() override { return *w_.sink; }
  std::string progress() const override {
    return fmt::format("{} rows read ({} delivered late by window rescans)", w_.engine.rows_read(),
                       w_.engine.late_rows());
  }

 private:
  const config::Config& cfg_;
  WatermarkPipeline w_;
  bool stop_when_caught_up_;
  std::chrono::steady_clock::time_point last_poll_{};
};

}  // namespace

std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>&, const RunOptions& options) {
  WatermarkSource s = open_watermark_source(cfg, true);
  prepare_targets(cfg, s);
  auto source = std::make_unique<PollSource>(cfg, std::move(s), options);
  spdlog::info("polling {} table(s) every {} ms once caught up", source->table_count(), cfg.poll.interval.count());
  return source;
}

StatusReport status(const config::Config& cfg) {
  WatermarkSource s = open_watermark_source(cfg, false, MissingTables::Report);
  auto state = state::open_state_store(cfg);
  return watermark_status(cfg, s, *state);
}

void teardown(const config::Config& cfg, bool drop_targets) {
  WatermarkSource s = open_watermark_source(cfg, false);
  auto state = state::open_state_store(cfg);
  erase_checkpoints(s, *state);
  std::cout << "forgot the poll checkpoints (nothing was installed at the source)\n";
  if (drop_targets) capture::drop_targets(s.p);
}

}  // namespace pg2ch::capture::poll

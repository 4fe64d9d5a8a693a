#include "capture/kafka_consumer/kafka_consumer_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "capture/kafka_consumer/column_follower.h"
#include "capture/kafka_consumer/start_columns.h"
#include "capture/kafka_consumer/topic_consumer.h"
#include "capture/logical/schema_evolution.h"
#include "capture/shared/column_watch.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "common/error.h"
#include "kafka/consumer.h"
#include "kafka/offset_gap.h"
#include "pg/current_row_fetcher.h"
#include "pipeline/make_change_sink.h"
#include "state/open_state_store.h"

namespace pg2ch::capture::kafka_consumer {
namespace {

constexpr auto kStatusTimeout = std::chrono::seconds(10);
// Before the consumer's table-state keys: a producing pipeline (sink = "kafka") with the same
// tables may share the state store, and its table states are another thing.
constexpr const char* kStateKeyPrefix = "kafka ";

void refuse_republishing(const config::Config& cfg) {
  if (cfg.sink != "clickhouse") {
    throw Error(ErrorKind::Config, fmt::format("mode = \"kafka\" with sink = \"{}\"", cfg.sink),
                "the Kafka consumer writes to ClickHouse: set sink = \"clickhouse\" (Kafka to Kafka is a job for "
                "MirrorMaker)");
  }
}

std::int64_t epoch_ms_from_postgres(pg::Connection& source, const std::string& iso) {
  pg::Result r = source.try_query("SELECT (extract(epoch FROM $1::timestamptz) * 1000)::bigint", {iso});
  if (!r.ok()) {
    throw Error(ErrorKind::Config, "--from time:" + iso + " is not a timestamp",
                "use ISO 8601, e.g. time:2024-05-01T10:00:00Z");
  }
  return r.int64(0, 0);
}

class NoRebalance final : public kafka::RebalanceHandler {
  void on_assign(std::vector<kafka::PartitionOffset>&) override {}
  void on_revoke(const std::vector<kafka::PartitionOffset>&) override {}
};

// Changes of a table's columns, seen in the source's catalog and followed in place by the
// evolver of the other modes (column_follower.h).
class CatalogColumns final : public ColumnFollower {
 public:
  CatalogColumns(SourceTables& p, logical::SchemaEvolver& evolver) : watch_(p), evolver_(evolver) {}

  bool differs(const pipeline::TableSchema& table) override { return watch_.shape_differs(table); }

  std::optional<std::string> follow(const pipeline::TableSchema& table) override {
    auto change = watch_.changed(table, /*now=*/true);
    if (!change) return std::nullopt;  // a generated column the description leaves out
    if (change->table_gone) return change->what;
    const logical::Evolution e = evolver_.follow_catalog(table);
    switch (e.outcome) {
      case logical::Evolution::Outcome::Followed:
        return std::nullopt;
      case logical::Evolution::Outcome::CopyAgain:
        // Its rows hold values the topic does not carry (a table the ALTER rewrote).
        return fmt::format("{}; its rows need a copy, which a consumer cannot make ({})", change->what, e.why);
      case logical::Evolution::Outcome::Stop:
        break;
    }
    return fmt::format("{}; {}", change->what, e.why);
  }

 private:
  ColumnWatch watch_;
  logical::SchemaEvolver& evolver_;
};

}  // namespace

void setup(const config::Config& cfg) {
  refuse_republishing(cfg);
  SourceTables p = open_source_tables(cfg);
  ensure_targets(p);
  std::cout << fmt::format("pg2ch setup: {} table(s) to consume from Kafka (group {}) into ClickHouse database {}\n",
                           p.tables.size(), cfg.kafka.group_id, cfg.clickhouse.database);
  const auto topics = TopicConsumer::topics_for(cfg, p.table_ptrs());
  for (std::size_t i = 0; i < p.tables.size(); ++i) {
    std::cout << fmt::format("  {} <- topic {}\n", p.tables[i]->qualified_source(),
                             topics.size() == 1 ? topics[0] : topics[i]);
  }
  print_setup_notes(p, std::cout);
}

namespace {

// Key-only events and unchanged TOAST values are answered from the source, on a connection of
// its own (the catalog connection stays free for the fetcher's prepared queries). Built in
// place: the consumer uses the states, the sink and the fetcher, the fetcher its connection.
class KafkaSource final : public ChangeSource {
 public:
  // `targets`: the tables whose targets this start created (stop_for_lost_target()), and those
  // whose targets do not fit (they stay stopped).
  KafkaSource(const config::Config& cfg, SourceTables tables, std::optional<ReplayStart> replay,
              const RunOptions& options, const StartTargets& targets)
      : p_(std::move(tables)),
        state_(state::open_state_store(cfg)),
        states_(*state_, p_.table_ptrs(), kStateKeyPrefix),
        rows_conn_(connect_source(cfg)),
        fetcher_(rows_conn_),
        sink_(pipeline::make_change_sink(cfg, &fetcher_, options.observer)),
        evolver_(cfg, p_, states_, *sink_, fetcher_),
        columns_(p_, evolver_),
        consumer_(cfg, p_.table_ptrs(), states_, *sink_, fetcher_, std::move(replay)) {
    consumer_.follow_columns(columns_);
    if (auto* observer = options.observer) {
      states_.on_change([observer](const pipeline::TableSchema& t, table_sync::TablePhase phase) {
        observer->table_state(t, table_sync::to_string(phase));
      });
    }
    for (const auto* t : targets.created) stop_for_lost_target(*t);
    consumer_.start(options.stop_when_caught_up, targets.unfit);
    if (auto* observer = options.observer) {
      for (const auto* t : states_.tables()) observer->table_state(*t, table_sync::to_string(states_.phase(*t)));
    }
  }

  // A table whose messages were applied before and whose target this start had to create (it was
  // dropped, under the running consumer or while it was stopped): the rows it held are gone, and
  // the group's offsets are past the messages that wrote them. Going on would leave them missing
  // without a word, so the table stops until a replay from where the topics still hold everything
  // (TopicConsumer::start lets a replay take it).
  void stop_for_lost_target(const pipeline::TableSchema& t) {
    const auto phase = states_.phase(t);
    if (phase != table_sync::TablePhase::Streaming && phase != table_sync::TablePhase::CatchingUp) return;
    states_.stop(t,
                 fmt::format("{} (dropped?) and was created again empty: the rows it held are gone from it, and "
                             "the group has read past the messages that wrote them",
                             kLostTarget),
                 fmt::format("read the topics again into it: `pg2ch replay --from beginning` with this config, if "
                             "they still hold every message since the producer's copy; if not, first `pg2ch resync "
                             "{}` with the producer's config (it copies the table into the topic again)",
                             t.qualified_source()));
  }

  Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>&) override { return consumer_.turn(max_wait); }
  void finish() override { consumer_.finish(); }
  pipeline::LagSample lag() override {
    pipeline::LagSample s;
    s.pending_messages = consumer_.pending_messages();
    return s;
  }
  pipeline::ChangeSink& sink() override { return *sink_; }
  std::string progress() const override {
    const auto& s = consumer_.stats();
    return fmt::format("{} messages, {} changes applied ({} key fetches, {} truncates), {} dead-lettered, {} skipped",
                       s.messages, s.changes, s.key_fetches, s.truncates, s.dead_lettered, s.skipped);
  }

 private:
  SourceTables p_;
  std::unique_ptr<state::StateStore> state_;
  table_sync::TableStates states_;
  pg::Connection rows_conn_;
  pg::PgCurrentRowFetcher fetcher_;
  std::unique_ptr<pipeline::ChangeSink> sink_;
  logical::SchemaEvolver evolver_;
  CatalogColumns columns_;
  TopicConsumer consumer_;
};

}  // namespace

std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>&, const RunOptions& options) {
  refuse_republishing(cfg);
  SourceTables p = open_source_tables(cfg);
  StartTargets targets = settle_targets(cfg, p, kStateKeyPrefix);
  std::optional<ReplayStart> replay;
  if (!options.replay_from.empty()) {
    replay = parse_replay_start(options.replay_from,
                                [&](const std::string& iso) { return epoch_ms_from_postgres(p.source, iso); });
  }
  spdlog::info("consuming {} table(s) from Kafka {} as group {} into ClickHouse database {}", p.tables.size(),
               cfg.kafka.brokers, cfg.kafka.group_id, cfg.clickhouse.database);
  return std::make_unique<KafkaSource>(cfg, std::move(p), std::move(replay), options, std::move(targets));
}

StatusReport status(const config::Config& cfg) {
  SourceTables p = open_source_tables(cfg, MissingTables::Report);
  StatusReport r = status_report(cfg, p);
  r.state = "consuming";
  auto state = state::open_state_store(cfg);
  table_sync::report_states(table_sync::TableStates(*state, p.table_ptrs(), kStateKeyPrefix), r);
  r.add("state store", state->describe());
  r.add("brokers", cfg.kafka.brokers);
  r.add("group", cfg.kafka.group_id);
  try {
    NoRebalance none;
    kafka::Consumer probe(cfg.kafka, cfg.name + "-status", none);
    for (const auto& topic : TopicConsumer::topics_for(cfg, p.table_ptrs())) {
      const int n = probe.partition_count(topic, kStatusTimeout);
      if (n == 0) {
        r.add("topic " + topic, "does not exist yet");
        continue;
      }
      std::vector<kafka::PartitionOffset> parts;
      for (int i = 0; i < n; ++i) parts.push_back({topic, i, kafka::PartitionOffset::kStored});
      const auto committed = probe.committed(parts, kStatusTimeout);
      std::int64_t lag = 0;
      for (int i = 0; i < n; ++i) {
        const auto [low, high] = probe.watermarks(topic, i, kStatusTimeout);
        const auto& at = committed[static_cast<std::size_t>(i)];
        lag += high - std::max(low, at.value_or(low));
        // The consumer stops at such a partition; say so here too, before anyone restarts it.
        if (const auto gap = at ? kafka::find_offset_gap(*at, low, high) : std::nullopt) {
          r.attention.push_back(kafka::offset_gap_error(topic, i, cfg.kafka.group_id, *gap).one_line());
        }
      }
      r.add("topic " + topic, fmt::format("{} partition(s), {} message(s) not yet consumed by the group", n, lag));
    }
  } catch (const Error& e) {
    r.add("kafka", "NOT REACHABLE");
    r.attention.push_back("kafka: " + e.one_line());
  }
  return r;
}

void teardown(const config::Config& cfg, bool drop_targets) {
  std::cout << fmt::format("pipeline {} (mode kafka) created nothing in PostgreSQL or Kafka; the group's offsets "
                           "expire with the brokers' offsets.retention.minutes\n",
                           cfg.name);
  if (!drop_targets) return;
  SourceTables p = open_source_tables(cfg);
  capture::drop_targets(p);
}

}  // namespace pg2ch::capture::kafka_consumer

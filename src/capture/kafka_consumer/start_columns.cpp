#include "capture/kafka_consumer/start_columns.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/logical/offline_changes.h"
#include "capture/logical/schema_evolution.h"
#include "capture/table_sync/table_states.h"
#include "clickhouse/target_table.h"
#include "common/error.h"
#include "state/open_state_store.h"
#include "types/pg_type.h"

namespace pg2ch::capture::kafka_consumer {
namespace {

// A type change whose queued values, read as the new type, are not what PostgreSQL's conversion
// gave the row (start_columns.h), or nullopt.
std::optional<std::string> unreadable_queued_values(const table_sync::RecordedColumns& was,
                                                    const pipeline::TableSchema& now) {
  namespace oid = types::oid;
  for (const auto& c : now.source_columns) {
    for (const auto& old : was.columns) {
      if (old.attnum != c.attnum) continue;
      if (old.type_oid == oid::kFloat4 && c.declared_type_oid == oid::kFloat8) {
        return fmt::format(
            "column {} was widened from real to double precision: the queued events hold its values as a real's "
            "shortest text, which reads as another double than PostgreSQL's widening gave the row, and an event "
            "written after the change can hold the same text",
            c.name);
      }
      if (old.type_oid == oid::kTimestamp && c.declared_type_oid == oid::kTimestampTz) {
        return fmt::format(
            "column {} was changed from timestamp to timestamptz: the queued events hold its values as microseconds "
            "without a zone, not as the ALTER converted them",
            c.name);
      }
    }
  }
  return std::nullopt;
}

// Its rows come back exactly only from a copy through the topics, read from after the change.
std::string copy_again_fix(const config::Config& cfg, const pipeline::TableSchema& t) {
  return fmt::format(
      "copy the table into the topics again: `pg2ch resync {0}` with the producer's config (a producer with sink "
      "= \"kafka\" copies it at its next start: restart it); drop its ClickHouse "
      "target {1}.{2} and view {1}.{3} (the next start creates them with the new columns); then, the consumer "
      "stopped, `pg2ch replay --from time:T` with this config in its place, T a moment after the change and before "
      "the resync (the replay takes the table back, a restart alone does not)",
      t.qualified_source(), cfg.clickhouse.database, t.target_name, clickhouse::current_view_name(t));
}

}  // namespace

bool stopped_for_unfit_target(const table_sync::TableState& state) {
  return state.phase == table_sync::TablePhase::Stopped && state.reason.starts_with(kUnfitTarget);
}

bool stopped_for_change_not_followed(const table_sync::TableState& state) {
  return state.phase == table_sync::TablePhase::Stopped && state.reason.starts_with(kNotFollowedAtStart);
}

StartTargets settle_targets(const config::Config& cfg, SourceTables& p, const std::string& state_key_prefix) {
  auto store = state::open_state_store(cfg);
  table_sync::TableStates states(*store, p.table_ptrs(), state_key_prefix);
  // Changed while the consumer was not running: recorded first, the targets altered after.
  logical::follow_offline_changes(
      cfg, p, states,
      [&](const pipeline::TableSchema& t, const std::string& why) {
        spdlog::error("table {} stopped: {}; the other tables go on", t.qualified_source(), why);
        // `why` begins "changed while pg2ch was stopped" (kNotFollowedAtStart).
        states.stop(t, fmt::format("its columns {}; the events queued in Kafka cannot be applied exactly", why),
                    copy_again_fix(cfg, t));
      },
      unreadable_queued_values);
  // Also a change recorded by the running consumer, whose ALTER a crash cut short.
  logical::SchemaEvolver::reapply_all(p, states, [&](const pipeline::TableSchema& t, const std::string& why_not) {
    states.stop(t,
                fmt::format("its target cannot be brought in line with the change of its columns recorded before a "
                            "crash: {}",
                            why_not),
                "make its ClickHouse target fit the source's columns by hand (ALTER TABLE ... MODIFY COLUMN to "
                "the type named), then bring the table back as after any stop (docs/kafka.md, Table states)");
  });
  StartTargets out;
  for (const auto& t : p.tables) {
    const pipeline::TableSchema* one[] = {t.get()};
    try {
      const auto created = p.targets->ensure(one).created;
      out.created.insert(out.created.end(), created.begin(), created.end());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Schema) throw;
      out.unfit.insert(t.get());
      const auto& s = states.at(*t);
      // Its reason names the copy that brings it back; a target fitting by hand does not.
      if (stopped_for_change_not_followed(s)) continue;
      spdlog::error("table {} stopped: {}; the other tables go on", t->qualified_source(), e.one_line());
      // A table stopped before keeps the offsets it skipped from: they are read again once it fits.
      const auto skipped = s.phase == table_sync::TablePhase::Stopped ? s.skipped_from : table_sync::PartitionOffsets{};
      states.stop(*t, fmt::format("{}{}", kUnfitTarget, e.what()),
                  fmt::format("{}; then restart pg2ch: each start checks the target again, and once it fits the "
                              "table reads its skipped messages again from the offsets it recorded",
                              e.hint()),
                  skipped);
    }
  }
  return out;
}

}  // namespace pg2ch::capture::kafka_consumer

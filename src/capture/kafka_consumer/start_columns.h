#pragma once
// The consumer's start, before any message is read: each table's ClickHouse target brought in
// line with the source's columns, one table at a time (issue 12).
//
// A change of a table's columns made while the consumer was not running (ADD COLUMN with or
// without a constant default, DROP COLUMN, RENAME COLUMN, an exact widening, DROP NOT NULL) is
// followed in place as poll, notify and outbox follow one (logical/offline_changes.h): the
// columns the table's state recorded (with their attribute numbers) are compared with the
// catalog's, the change is recorded in the state first (evolved_at: the source's WAL position
// now, above the version of every event already in the topics) and the target altered after
// (SchemaEvolver::reapply_all, each step idempotent). A kill between the two, or right after the
// ALTER (test hook reapply_after_target_alter), is a start that finds the change recorded and
// alters what is still behind. The queued events, of both shapes, are then decoded as the running
// consumer decodes events read again (kafka/event_row.h OlderShape): a renamed column by its old
// name, a dropped column's field not read, a narrower integer, numeric or varchar value as the
// wider type (the same JSON), and a column an event lacks (one written before the ADD) as what
// PostgreSQL shows for that row: the column's missing value (pg_attribute.attmissingval, the
// constant default every row present at the ADD reads, recorded in the state) or else NULL.
//
// Why that is exact: an ALTER TABLE holds an ACCESS EXCLUSIVE lock on the table, so every write to
// it committed either before the ALTER (its event has the old shape) or after (the new one). A
// row an old-shape event wrote existed at the ADD and reads the missing value there until it is
// changed again, and each later change has an event of its own with the column and a higher
// version, which the target's ReplacingMergeTree keeps.
//
// Not exact, so THAT table stops with the reason and the fix (the others consume on):
// * a column added to a table rewritten since (a volatile default such as random() or
//   clock_timestamp(), an identity, a stored generated column; also a VACUUM FULL or TRUNCATE in
//   the same window: its relfilenode changed): rows hold values no event carries;
// * real → double precision: a queued real is its shortest text (0.1), which reads as another
//   double than PostgreSQL's widening gave the row (0.10000000149011612), and an event of the new
//   type can hold the same text, so no event tells its shape; timestamp → timestamptz: a queued
//   timestamp is a number of microseconds, read in no zone the ALTER used;
// * what a running pipeline does not follow either: a narrowing or another type change, a key
//   column changed, NOT NULL added, a name dropped or renamed earlier taken again, RENAME COLUMN
//   before ClickHouse 20.4;
// * a kind whose logical.on_* setting is "stop".
// Its fix: copy the table into the topics again, drop its target and read the topics from after
// the change (the fix names the commands). Its target is left as it was; the replay's start takes
// the table back (TopicConsumer::start) once its target fits, i.e. was re-created.
//
// A kind set to "ignore" is kept as the running consumer keeps it (logical/ignored_changes.h,
// logical/offline_changes.h): an added column left out of the target (its values, in the new-shape
// events, never read into it), a renamed column written under its old target name, a widened
// column kept at its type (values narrowed, each checked), NOT NULL kept (a NULL stops the
// table), a dropped column kept NULL from then on; recorded in the table's state with the change,
// and the table streams on. The queued events of both shapes decode as above.
//
// Then every table's target is ensured on its own (created, checked, its view re-created). One
// that does not fit the source's columns (the state recorded no columns to follow a change from,
// as before pg2ch recorded them; a target changed by hand) stops that table alone with the check's
// reason and fix (the ALTER TABLE to run), where the whole start stopped before. Such a stop is
// looked at again at every start: once the target fits, the table reads its skipped messages
// again from the offsets it recorded (TopicConsumer::start). A table stopped before for another
// reason whose target does not fit now stops for this one, keeping the offsets it skipped from
// (one stopped for a change the queued events cannot give keeps its reason and fix). Either way
// it stays stopped at this start (`unfit`), a replay or not.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_state.h"
#include "config/config.h"

namespace pg2ch::capture::kafka_consumer {

// The start of the stop reason of a table whose target did not fit at a start.
inline constexpr std::string_view kUnfitTarget = "its ClickHouse target does not fit the source's columns: ";
// The start of the stop reason of a table whose change made while the consumer was not running
// cannot be followed exactly.
inline constexpr std::string_view kNotFollowedAtStart = "its columns changed while pg2ch was stopped";

struct StartTargets {
  std::vector<const pipeline::TableSchema*> created;  // created by this start
  std::set<const pipeline::TableSchema*> unfit;       // do not fit: their tables stay stopped
};

// `state_key_prefix`: the consumer's table-state keys (kafka_consumer_pipeline.cpp).
StartTargets settle_targets(const config::Config& cfg, SourceTables& p, const std::string& state_key_prefix);

// Stopped because its target did not fit at a start: looked at again at every start.
bool stopped_for_unfit_target(const table_sync::TableState& state);
// Stopped at a start for a change the queued events cannot give: back with a replay only, once
// its target fits (the fix drops it, the start re-creates it), since its state recorded the new
// columns when it stopped and a restart alone cannot tell the fix was made.
bool stopped_for_change_not_followed(const table_sync::TableState& state);

}  // namespace pg2ch::capture::kafka_consumer

#pragma once
// Columns of a streaming table changed at the source, applied in place (issue 12): the ClickHouse
// target follows (ALTER TABLE ... ADD / MODIFY / RENAME COLUMN) and its view is re-created, before
// the first row of the new shape, instead of the table stopping and being copied again at the
// next start.
//
// Every sink: a ClickHouse target (sink = "clickhouse" or "both", a single server or a cluster)
// is altered; a Kafka sink keeps no target, and its events carry the new columns from the first
// row of the new shape on: the consumer (mode = "kafka") follows the change from the source's
// catalog into its own target (capture/kafka_consumer/column_follower.h). Only what is exact
// without a copy:
// * columns added after all others. A row written before a column was added does not have it on
//   disk: it reads the column's missing value (pg_attribute.attmissingval: a fast default, any
//   non-volatile DEFAULT) or else NULL, and the stream carries none of those values. The target
//   column gets a DEFAULT that yields exactly the missing value (sink/clickhouse/column_default.h:
//   ClickHouse computes a column missing from an older part from its DEFAULT, when read and when
//   merged), and rows of the older shape read again after a restart get it too (the state records
//   it: table_state.h missing_values). A table the ALTER rewrote (a volatile default, an identity,
//   a stored generated column) gave every row a value of its own: it is copied again while the
//   others stream (Evolution::copy_again, online_resync.h), as is one whose default ClickHouse
//   cannot express exactly;
// * column types widened exactly (type_widening.h: int2 → int4 → int8, real → double precision,
//   longer or unlimited varchar/text, numeric with more precision and the same scale), where the
//   target column either keeps its ClickHouse type (then only the schema, hence the decoder,
//   changes) or gets a type ClickHouse converts to exactly (clickhouse/column_conversion.h), and
//   is not in the target's sorting key (ClickHouse cannot retype those). A widening that needs
//   no rewrite but came with one (USING) is refused: its values are not in the stream. A USING
//   on an integer or float widening, which rewrites anyway, cannot be told from the plain cast
//   and is taken as one (README: `pg2ch verify` finds it). timestamp → timestamptz is followed
//   in place only when the table was not rewritten (the ALTER ran under TimeZone UTC, so the
//   values were kept as UTC instants, as pg2ch wrote them); rewritten, its values were converted
//   in a zone the stream does not carry: the table is copied again (rewrite_refusal in the .cpp
//   says why pg_class.relfilenode, read before and after the ALTER, tells it);
// * NOT NULL dropped (ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL): the Relation message does
//   not carry nullability, so a Relation with unchanged columns of a streaming table that has
//   NOT NULL columns asks the catalog which lost it; their target columns become Nullable(T)
//   (MODIFY COLUMN) before the first NULL is decoded (a key column cannot: PostgreSQL refuses
//   it, and pg2ch would stop the table).
// * columns dropped (ALTER TABLE ... DROP COLUMN, not a key column): pg2ch keeps their target
//   columns with the values they hold (a drop in the warehouse cannot be undone), as
//   Nullable(T) DEFAULT NULL, so every row written from then on holds NULL there, and takes them
//   out of the table's schema and view. pgoutput sends only live columns, so the rows after the
//   drop are decoded by the new schema, never shifted into the wrong columns. The state records
//   the dropped names: rows of the older shape read again after a restart carry them (their
//   values are left out), and a column added again under such a name is refused in place (its
//   kept target column holds older values; the table is copied again instead).
// * columns renamed (ALTER TABLE ... RENAME COLUMN): pgoutput's Relation shows a new name at the
//   same place with the same type; only pg_attribute.attnum (kept by a rename, new for a column
//   dropped and added again) tells a rename, so the catalog is asked. The target column is renamed
//   (RENAME COLUMN: ClickHouse 20.4 and later, not a sorting-key column) and the view re-created.
//   The state records (old, new): rows of an older shape read again after a restart name the
//   column by its old name. No name is taken twice in place (a column added or renamed to a name
//   dropped or renamed earlier is refused), so an old name always means one column.
// Several kinds at once (a look at the catalog after two ALTERs, poll and notify; a Relation
// message after several ALTERs in one transaction, or one ALTER with several subcommands,
// logical) are followed together in one step, each checked as when alone (follow_several).
// Each kind can be set to stop the table instead (logical.on_column_added, on_type_widened,
// on_not_null_dropped, on_column_dropped, on_column_renamed = "stop").
// Anything else is refused with the reason and the table stops as before (copied again at the
// next start).
//
// The order of the steps is what makes a crash at any point safe:
//   1. rows of the old shape already received are flushed (written with the old columns and
//      types: they were encoded with the old schema);
//   2. the table's state records the new shape (its digests), the position (evolved_at, the
//      first change of the new shape), any dropped or renamed names, fast defaults and ignored
//      changes, in one write;
//   3. the target gains the new columns, types, names, or keeps the dropped columns (each step
//      looks first: a column already there, already of the new type or name, already kept, is
//      left alone, so a repeat is a no-op);
//   4. the table's schema is replaced by the catalog's (checked equal to the Relation message),
//      so no row of the new shape is ever decoded with the old types, and its view re-created.
// A crash between 2 and 4 (the test hook PG2CH_CRASH_AT, common/crash_point.h, dies right before
// and right after 3) leaves a target behind its recorded shape: the next start compares the
// target's columns with the ones wanted and alters it where it is behind (reapply(), before the
// targets are checked), then re-creates the view, and the table streams on: never a copy. Only a
// target that cannot be brought in line (its column of a type that does not convert exactly)
// is re-created and copied. After 2, the next start describes the table with its new columns
// and types, and the rows of the old shape the slot gives again (before evolved_at) come with a
// Relation message naming their own, older,
// types and columns (logical decoding describes the table as it was at that point of the WAL):
// they are applied with the added columns NULL, the older values widened as PostgreSQL widened
// them, the dropped columns left out and renamed ones found by their old names (table_gate.h).
// The older types need no record (the Relation names them); the dropped and renamed names do,
// since a Relation shows names only. Re-applying those rows writes the same rows with the same
// versions, which the target's ReplacingMergeTree folds (a kept dropped column of such a row
// becomes NULL: the source no longer has it).
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "capture/logical/table_gate.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "common/lsn.h"
#include "config/config.h"
#include "pg/current_row_fetcher.h"
#include "pg/pgoutput_messages.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::logical {

// The one element of pg_attribute.attmissingval as array_send() wrote it, hex: the value in its
// type's binary format (what pgoutput sends in binary mode), or nullopt when it is not one element.
std::optional<std::string> missing_value(std::string_view hex);

// The source's WAL position now (on a standby, the one replayed): where a change of columns the
// catalog shows was followed (evolved_at).
Lsn current_source_position(pg::Connection& source);

// Whether `name` was a column of the table before, dropped or renamed away (or is one a rename
// gave): a column added under it is not the same column (rows read again could not tell the two
// apart), so it is not followed in place.
bool name_taken_before(const table_sync::TableState& state, std::string_view name);

class SchemaEvolver {
 public:
  // `copies_online`: the capture copies a table again while the others stream (logical:
  // online_resync.h), so several kinds of change that cannot all be followed in place ask for
  // that copy (Evolution::copy_again) where the others stop the table (follow_several).
  SchemaEvolver(const config::Config& cfg, SourceTables& tables, table_sync::TableStates& states,
                pipeline::ChangeSink& sink, pg::PgCurrentRowFetcher& fetcher, bool copies_online = false)
      : cfg_(cfg), p_(tables), states_(states), sink_(sink), fetcher_(fetcher), copies_online_(copies_online) {}

  // nullopt once `table` has the columns `rel` adds at its end, or the types `rel` widens, or
  // (for a `rel` with its columns) once the columns that lost NOT NULL are Nullable on the target
  // (TableGate::Evolver); else why it cannot (one line).
  // A column added to a table the ALTER rewrote (a volatile default, an identity, a stored
  // generated column): Evolution::copy_again, the caller asks for the copy.
  Evolution evolve(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel, Lsn position);

  // At start, for a table its state says evolved in place: alters its target again where a crash
  // between the state's record and the target's ALTER left it behind (columns missing, of the
  // older type, renamed or dropped ones not yet so), each step idempotent (PG2CH_CRASH_AT =
  // reapply_after_target_alter dies right after it altered one). nullopt when the target
  // fits (or has none); else why it cannot (the table is then copied again).
  std::optional<std::string> reapply(const pipeline::TableSchema& table) { return reapply(p_, states_.at(table), table); }
  // The same for a capture without an evolver yet (poll and notify, at start: capture/poll/
  // watermark_source.h), with the table's recorded state `s`.
  static std::optional<std::string> reapply(SourceTables& p, const table_sync::TableState& s,
                                            const pipeline::TableSchema& table);

  // At start of the captures without an evolver yet (poll, notify, outbox), before the targets are
  // ensured: every table that streams keeps what logical.on_* = "ignore" left out of its target
  // (ignored_changes.h), and its target is altered where a crash left it behind (reapply()); one
  // that cannot be brought in line is handed to `copy_again` with the reason.
  static void reapply_all(SourceTables& p, const table_sync::TableStates& states,
                          const std::function<void(const pipeline::TableSchema&, const std::string&)>& copy_again);

  // For the captures that read rows with SELECT (poll, notify): the columns of `table` changed at
  // the source (capture/shared/column_watch.h saw it), and their rows are read as the catalog
  // describes the table now. The same as evolve() with the catalog's description in place of a
  // Relation message, at the source's current WAL position (evolved_at: where it was followed).
  // Several ALTERs of different kinds between two looks (a column added and another widened) are
  // followed at once (follow_several), each kind as its setting says.
  Evolution follow_catalog(const pipeline::TableSchema& table);

 private:
  // Returns once the catalog describes the columns `rel` names (a moment after the commit that
  // changed them was decoded), or after 2 s.
  void wait_until_the_catalog_shows(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel);
  // A Relation with the same columns: makes the target columns of those that lost NOT NULL
  // Nullable (nullopt also when none did).
  Evolution follow_nullability(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                                Lsn position);
  // The target columns whose ClickHouse type differs in `next` (a wider type, Nullable), or why
  // one cannot change in place (a sorting-key column, a conversion that is not exact).
  // `renamed_in_target`: (old, new) names of target columns renamed on the way.
  static std::variant<std::vector<std::string>, std::string> retyped_target_columns(
      const pipeline::TableSchema& table, const pipeline::TableSchema& next,
      const std::vector<std::pair<std::string, std::string>>& renamed_in_target = {});
  // (name, PostgreSQL binary) of the fast default of each added column that has one.
  using MissingValues = std::vector<std::pair<std::string, std::string>>;
  // What the rows already there hold in the `added` columns of `table` (a fast default, or NULL),
  // or the outcome when that is not exact in place (the table rewritten: copied again; NOT NULL
  // without a default: stopped).
  std::variant<MissingValues, Evolution> values_of_added(const pipeline::TableSchema& table,
                                                         const std::vector<std::string>& added);
  Evolution add_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                        const std::vector<std::string>& added, Lsn position);
  // Columns added, widened, dropped, renamed and made nullable at once (matched by attnum), each
  // checked as its own kind is, and applied in one replace(). A kind set to "stop", a key changed
  // or a type changed in a way that is not a widening stops the table; a kind set to "ignore"
  // (followed for one kind alone), a rename ClickHouse cannot make, a name taken twice: the table
  // is copied again (with `copies_online`; else stopped, the next start copies it).
  Evolution follow_several(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel, Lsn position);
  // follow_several(), and a table to be copied again forgotten by the current-row fetcher.
  Evolution follow_several_and_forget(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                      Lsn position);
  // The replicated columns of `table` (by their names in it) that lost NOT NULL in the catalog.
  std::vector<std::string> lost_not_null(const pipeline::TableSchema& table);
  // Evolution::copy_again for a timestamp → timestamptz of a table the ALTER rewrote (its rows
  // converted in a TimeZone other than UTC: type_widening.h).
  Evolution widen_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                          const std::vector<std::string>& widened, Lsn position, bool keep_target_types);
  // The table as the catalog describes it now, or why it cannot be replicated so (one line).
  std::variant<pipeline::TableSchema, std::string> describe_now(const pipeline::TableSchema& table);
  // The table as the catalog describes it now, or why not (it differs from `rel` again).
  std::variant<pipeline::TableSchema, std::string> describe_again(const pipeline::TableSchema& table,
                                                                  const pg::pgoutput::Relation& rel);
  std::optional<std::string> drop_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                          const std::vector<std::string>& dropped, Lsn position);
  std::optional<std::string> rename_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                            const std::vector<std::pair<std::string, std::string>>& renamed,
                                            Lsn position, bool keep_target_names);
  // logical.on_column_added or on_not_null_dropped = "ignore" (`kind` "added", "not_null";
  // ignored_changes.h): the target unchanged, the change recorded in the table's state.
  Evolution ignore(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                   const std::vector<std::string>& columns, const std::string& kind, Lsn position);
  // The detail of a widened IgnoredChange for `column`: the type its target column has now.
  std::string kept_type_of(const pipeline::TableSchema& table, const std::string& column) const;
  // Whether a column of `table` had `name` before and was dropped or renamed in place since.
  bool name_taken_before(const pipeline::TableSchema& table, std::string_view name) const;
  // What replace() does to the target and records.
  struct Change {
    std::vector<std::string> added;     // target columns added
    std::vector<std::string> modified;  // target columns retyped
    std::vector<std::string> kept;      // target columns dropped at the source, kept NULL from then on
    std::vector<std::string> dropped;   // source columns dropped, recorded
    std::vector<std::pair<std::string, std::string>> renamed_in_target;  // target columns renamed
    std::vector<std::pair<std::string, std::string>> renamed;            // source columns renamed, recorded
    std::vector<std::pair<std::string, std::string>> missing;  // fast defaults (name, PostgreSQL binary), recorded
    std::map<std::string, std::string> defaults;  // their target columns' DEFAULT expressions, by name
    std::vector<table_sync::IgnoredChange> ignored;  // left out of the target, recorded
  };
  // The target DEFAULT of each fast default in `change.missing` (change.defaults), or copy_again
  // when ClickHouse cannot express one.
  std::optional<Evolution> set_target_defaults(const pipeline::TableSchema& next, Change& change);
  // Steps 1-4 of the header.
  void replace(const pipeline::TableSchema& table, pipeline::TableSchema fresh, const Change& change, Lsn position);

  const config::Config& cfg_;
  SourceTables& p_;
  table_sync::TableStates& states_;
  pipeline::ChangeSink& sink_;
  pg::PgCurrentRowFetcher& fetcher_;
  const bool copies_online_;
};

}  // namespace pg2ch::capture::logical

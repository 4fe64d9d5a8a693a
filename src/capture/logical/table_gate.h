#pragma once
// Which tables' changes the replication stream applies, per table and per table state
// (capture/table_sync/table_state.h): the stream asks it for every change and tells it about
// every Relation message and every change that failed.
//
// Why a copy and the stream meet exactly. The copy of a table is a snapshot that contains every
// transaction committed before its consistent point C; its rows carry version 0, below any
// streamed change. From the moment the stream applies the table's changes again (position X),
// it applies *all* of them, in commit order. So for each key: if some change after X touched it,
// the newest such change is the newest change of all and wins by version; if none did, the
// copied row is the key's current state, because every commit before X ≤ C is in the snapshot.
// Changes that were skipped are all before X, hence in the snapshot. (Skipping a change *after*
// applying an earlier one of the same key could leave a stale row, which is why skipping ends
// for good at X.)
//
// A Relation message whose columns differ from the table's schema means the table changed: after
// the copy point it stops the table (reason and fix in its state); before it, the change is an
// older shape of rows the copy already holds (the copy used the new columns), so they are
// skipped until the Relation with the copied columns arrives.
//
// A Relation with the same columns may follow a DROP NOT NULL, which it cannot show: for a
// streaming table with NOT NULL columns the evolver is asked too, and makes the target take NULL.
//
// A catching-up table past its copy point is followed like a streaming one (the copy point
// decides which Relations are older shapes the copy holds).
//
// Columns added at the end of a streaming table, or whose types were widened exactly
// (type_widening.h), dropped, renamed, or several of these in one Relation message (ALTERs in one
// transaction), are evolved in place instead when the evolver can (schema_evolution.h): the
// target follows before the first row of the new shape, and the table streams on; or, when the
// ALTER rewrote the table, it is held (its changes skipped) until its copy starts (copy_again()),
// which is exact for the reason above with X = the copy's start. Its state
// records where (evolved_at): a restart reads the slot again from an earlier position, so rows of
// the shape before it come again, with a Relation that lacks the added columns or names the older
// types; before evolved_at they are applied with those columns NULL or their fast default, which
// is what every row held for them until then (the state records the default), and their values of
// an older type widened to the new one, which is what PostgreSQL's ALTER did to them. The
// Relation message names the older types itself (logical decoding describes a relation as it was
// at that point of the WAL), so the state needs no record of them: evolved_at alone tells an older
// shape read again (before it) from a later change back (after it, which stops the table).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "capture/logical/type_widening.h"
#include "capture/table_sync/table_states.h"
#include "common/error.h"
#include "common/lsn.h"
#include "pg/pgoutput_messages.h"
#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::capture::logical {

// "column v changed type from integer to real", or empty when `rel` matches `table`.
std::string relation_difference(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel);

// Columns `rel` adds after all of `table`'s, the others unchanged (names, types, key); empty
// when `rel` is not exactly that.
std::vector<std::string> columns_added_at_end(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel);
// Columns whose type `rel` widens exactly (type_widening.h), all others unchanged (names, types,
// key, count); empty when `rel` is not exactly that.
std::vector<std::string> columns_widened(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel);
// Columns `rel` lacks, all others unchanged and in the same order (names, types, key); empty when
// `rel` is not exactly that, or lacks a key column.
std::vector<std::string> columns_dropped(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel);

// Columns `rel` names anew at the same places, as (old name, new name), all else unchanged (types,
// key, count); empty when `rel` is not exactly that. Whether each is a rename or a column dropped
// and another added in its place only the catalog tells (pg_attribute.attnum).
std::vector<std::pair<std::string, std::string>> columns_renamed(const pipeline::TableSchema& table,
                                                                 const pg::pgoutput::Relation& rel);

// How the columns of a Relation of an older shape map onto the table's: per Relation column,
// the table's column it is (-1: one dropped since, its values left out) and its declared type
// (which the table's may widen).
struct OlderShape {
  std::vector<int> index;
  std::vector<DeclaredType> types;
  // The table's columns added since with a fast default, and that value (PostgreSQL binary):
  // what the rows of this shape hold for them at the source (the others added since: NULL).
  std::vector<std::pair<int, std::string>> filled;
};
// `rel` as an older shape of `table`, if it is one: without some of its last columns (added
// since), with types that `table`'s widen, with columns named in `dropped` (dropped since), with
// names `renamed` (old, new; in order) has renamed since, or several of these; the others
// unchanged and in the same order.
// `missing` (name, value): the columns added with a fast default since, as OlderShape::filled.
std::optional<OlderShape> older_shape_of(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                         const std::vector<std::string>& dropped = {},
                                         const std::vector<std::pair<std::string, std::string>>& renamed = {},
                                         const std::vector<std::pair<std::string, std::string>>& missing = {});

// What the evolver did about a change of a table's columns: followed it in place, or the table is
// copied again while the others stream (its rows hold values the stream does not carry: a table
// rewritten by the ALTER), or it stops with the reason. From an optional reason: stop when set.
struct Evolution {
  enum class Outcome { Followed, CopyAgain, Stop };
  Outcome outcome = Outcome::Followed;
  std::string why;  // CopyAgain, Stop: one line

  Evolution() = default;
  Evolution(std::optional<std::string> stop_reason)  // NOLINT(google-explicit-constructor): a reason stops
      : outcome(stop_reason ? Outcome::Stop : Outcome::Followed), why(std::move(stop_reason).value_or("")) {}
  Evolution(std::string stop_reason)  // NOLINT(google-explicit-constructor)
      : outcome(Outcome::Stop), why(std::move(stop_reason)) {}
  static Evolution copy_again(std::string why) {
    Evolution e;
    e.outcome = Outcome::CopyAgain;
    e.why = std::move(why);
    return e;
  }
};

class TableGate {
 public:
  // Brings a streaming (or catching-up) table's columns in line with `rel` (which adds columns at
  // its end, widens types, drops or renames columns, several of these at once, or has the table's
  // columns, one of which may have lost NOT NULL) at `position`; or has the table copied again
  // (the caller asked for the copy: the gate holds the table's changes until copy_again()); or
  // says why it cannot (the table then stops with that reason).
  using Evolver = std::function<Evolution(const pipeline::TableSchema&, const pg::pgoutput::Relation&, Lsn position)>;

  explicit TableGate(table_sync::TableStates& states, Evolver evolver = {});

  // The table a change of relation `oid` is applied to; null when skipped (not configured,
  // stopped, or an older shape before its copy point).
  const pipeline::TableSchema* applies(std::uint32_t oid) {
    auto it = gates_.find(oid);
    if (it == gates_.end() || !it->second.apply) return nullptr;
    it->second.applied = true;
    return it->second.table;
  }

  // The table whose changes of relation `oid` are applied now, without counting as one applied
  // (a message about the table rather than a change of it).
  const pipeline::TableSchema* applying(std::uint32_t oid) const {
    auto it = gates_.find(oid);
    return it == gates_.end() || !it->second.apply ? nullptr : it->second.table;
  }

  // The columns that rows of relation `oid` now come with, when that is a shape from before its
  // columns changed in place (fewer columns: the missing ones are NULL; older types: their values
  // are widened, type_widening.h; dropped columns: left out); null for its current shape.
  const OlderShape* older_shape(std::uint32_t oid) const {
    auto it = gates_.find(oid);
    return it == gates_.end() || !it->second.older ? nullptr : &*it->second.older;
  }

  // A Relation message that arrived at `position`. Returns the table it stopped, if any.
  const pipeline::TableSchema* on_relation(const pg::pgoutput::Relation& rel, Lsn position);
  // A change of `table` could not be written (a value the target cannot hold): stops the table.
  void stop_for_bad_change(const pipeline::TableSchema& table, const Error& error, const std::string& key);
  // The destination refused a batch of the table for a reason of that table alone (its target
  // changed under pg2ch): stops the table; the sink drops the batch.
  void stop_for_refused_insert(const pipeline::TableSchema& table, const Error& error);
  // The table is no longer in the publication: the stream no longer carries its changes.
  void stop_unpublished(const pipeline::TableSchema& table, const std::string& publication);
  // The table was dropped at the source (it left the publication with it); its target stays.
  void stop_dropped(const pipeline::TableSchema& table);
  // `durable` is durable: tables catching up to a copy point at or below it now stream.
  void on_durable(Lsn durable);

  // A table that joined while the pipeline runs (table_discovery.h): skipped until copy_again().
  void add(const pipeline::TableSchema& table) {
    Gate g;
    g.table = &table;
    g.apply = false;
    g.held = true;
    gates_.try_emplace(table.relation_oid, g);
  }
  // A table dropped at the source whose name now belongs to another (table_discovery.h): its
  // changes, which the stream may still carry, are skipped from here on.
  void remove(const pipeline::TableSchema& table) {
    gates_.erase(table.relation_oid);
    std::erase(catching_up_, &table);
  }

  // `pg2ch resync` on the running pipeline (online_resync.h): `table` is copied again while the
  // stream runs, and every change of it from here on is applied (X = here, before the copy's
  // snapshot is taken); it is no longer stopped or catching up.
  void copy_again(const pipeline::TableSchema& table);
  // Its copy finished and its state is catching_up at the copy point: it streams once that is
  // durable (on_durable).
  void catch_up(const pipeline::TableSchema& table);
  // The stream applied a TRUNCATE of `table`; take_truncated() hands the tables over (once).
  void truncated(const pipeline::TableSchema& table) { truncated_.push_back(&table); }
  std::vector<const pipeline::TableSchema*> take_truncated() { return std::exchange(truncated_, {}); }

 private:
  struct Gate {
    const pipeline::TableSchema* table = nullptr;
    bool apply = true;
    bool applied = false;      // some change of this table was applied in this run
    std::optional<OlderShape> older;  // its last Relation's, when an older shape (older_shape())
    bool held = false;  // joined while running and not copied yet: no Relation opens it
  };
  void stop(const pipeline::TableSchema& table, std::string reason, std::string fix);
  // Acts on what the evolver did about `g`'s table (`diff`: the columns' change, empty for the
  // same columns); false when the table stopped.
  bool follow(Gate& g, const Evolution& e, const std::string& diff);

  table_sync::TableStates& states_;
  Evolver evolver_;
  std::unordered_map<std::uint32_t, Gate> gates_;
  std::vector<const pipeline::TableSchema*> catching_up_;
  std::vector<const pipeline::TableSchema*> truncated_;
};

// Why a table stops for a value its target cannot hold (`error` names column and value, `key`
// the row), and how it comes back: shared by the stream and the initial copy.
table_sync::StopReason bad_value_stop(const pipeline::TableSchema& table, const Error& error, const std::string& key);

}  // namespace pg2ch::capture::logical

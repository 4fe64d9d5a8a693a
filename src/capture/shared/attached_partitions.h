#pragma once
// For the captures that read rows with SELECT or triggers (poll, notify, outbox): partitions
// attached to, detached from or dropped out of a replicated partitioned table. `ALTER TABLE ...
// ATTACH PARTITION` brings the attached table's rows into the partitioned table with no write a
// trigger sees and no newer watermark, so the capture must read the table again (poll and notify:
// from its first row; outbox: a copy, outbox_copy.h). `DETACH PARTITION` and `DROP TABLE` of a
// partition take its rows out the same way (outbox copies the table again; poll and notify never
// see rows leave). A partition created as one (`CREATE TABLE ... PARTITION OF`) starts empty and
// needs nothing: its rows are written through the partitioned table's triggers (row triggers are
// cloned to it) and watermark.
//
// Which is which: CREATE TABLE writes the partition's row type and its pg_inherits row in one
// transaction, ATTACH writes pg_inherits in a later one (the logical capture's partition_watch.h
// tells them apart the same way), or in the same one after rows were written to the table: that
// one counts as attached too (filled_before_attach.h). Every few seconds each partitioned table's partitions at any
// depth are listed and compared with the previous look; one not seen then whose pg_inherits row
// is younger than its row type was attached, one gone was detached or dropped. One seen then
// whose pg_inherits row is another one (its xmin differs) was detached and attached again, its
// rows maybe changed meanwhile (DETACH deletes the row, ATTACH inserts a new one, even both in one
// transaction): it counts as attached. The xmins are compared for inequality only, never ordered,
// so wraparound does not matter; freezing keeps xmin (PostgreSQL >= 9.4 sets a hint bit), and so
// does VACUUM FULL. The first phase of `DETACH ... CONCURRENTLY` updates the row
// (inhdetachpending): that is no attach, and only the partition gone can follow it. From that
// phase on pg_partition_tree leaves the partition out, yet a transaction that locked the
// partitioned table before it may still write to the partition through it (REPEATABLE READ), and
// the partitioned table's triggers, cloned to the partition, fire until the second phase, which
// waits for every such transaction and then deletes the row. So a partition known before stays
// seen while it is detach-pending (keep_detaching()): it is gone once its row is, when no event of
// it can follow (outbox's copy request, queued then, comes after all of them).
//
// The partitions seen are kept in the state store (the table's state key "partitions", written
// by record() once the caller has handled what the look found), so the first look of a run
// compares with what the last run saw: a partition attached, detached or dropped, or detached and
// attached again, while pg2ch was not running is found at the next start. A whole copy of a table
// records its partitions before its snapshot (record_partitions_before_copy()), so the first look
// after it compares with those. A table never looked at before (no key) only records, and so does a partition stored without its xmin (a state written
// before it was kept; encode_partitions() says how both are read) for its xmin.
//
// Limits, healed by `pg2ch resync` of the table: a partition attached and detached again between
// two looks (none runs while a copy runs), its rows or changes in the target meanwhile; a table
// created and attached in one transaction whose rows were written in a subtransaction of it
// (filled_before_attach.h); a partition
// detached, changed and attached again before the first look that stores its xmin (the first
// start after an upgrade from a pg2ch that did not keep it).
//
// Errors: exceptions (pg2ch::Error) from the source connection and the state store.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/status_report.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture {

// What one look found for a partitioned table: partitions by oid, with their names.
struct PartitionChanges {
  const pipeline::TableSchema* table = nullptr;
  std::map<std::uint32_t, std::string> attached;  // by ATTACH PARTITION, also detached and attached again
  std::map<std::uint32_t, std::string> created;   // by CREATE TABLE ... PARTITION OF
  std::map<std::uint32_t, std::string> gone;      // detached or dropped

  static std::string names(const std::map<std::uint32_t, std::string>& partitions);
};

// A partition as a look saw it.
struct SeenPartition {
  std::uint32_t link = 0;  // its pg_inherits row's xmin; 0 (no transaction has it): not known
  std::string name;        // for the log
  bool operator==(const SeenPartition&) const = default;
};
using SeenPartitions = std::map<std::uint32_t, SeenPartition>;  // by oid

// The state key's text: one "oid:xmin:name" line per partition. A line written before the xmin
// was kept reads "oid:name" and decodes with link 0: a name never starts with a digit (regclass
// text quotes such an identifier), so the two cannot be mistaken. A line that parses as neither is
// skipped. An older pg2ch reads "xmin:name" as the name, which it only logs.
std::string encode_partitions(const SeenPartitions& partitions);
SeenPartitions decode_partitions(std::string_view text);

// The partitions at any depth below the partitioned table `root` that a `DETACH ... CONCURRENTLY`
// is taking out (first phase committed, second not yet), and those below such a one: out of
// pg_partition_tree already, but still written to by transactions older than the first phase.
std::set<std::uint32_t> detaching_partitions(pg::Connection& conn, std::uint32_t root);

// Every partition at any depth below the partitioned table `root` (`leaves_only`: those that are
// not partitioned themselves), detach-pending ones included, read from pg_inherits alone: unlike
// pg_partition_tree, which locks each partition (AccessShare) until the transaction ends, it takes
// no lock, so a drain transaction may call it.
SeenPartitions partitions_below(pg::Connection& conn, std::uint32_t root, bool leaves_only = false);

// Before a whole copy of `tables` takes its snapshot: their partitions as they are now become what
// the watch saw last (the state key the first look of a run compares with). The copy rebuilds the
// target from a snapshot after this, so the partitions it reads are among these or attached after
// them (found attached by the next look); one detached or dropped from here on, while the copy
// runs or before the first look, is found gone. Before, a first look with nothing stored only
// recorded what it saw, and the rows of a partition gone before it stayed in the target.
void record_partitions_before_copy(pg::Connection& conn, state::StateStore& store,
                                   std::span<const pipeline::TableSchema* const> tables);

// `status` (logical and outbox): a note for each partition of the partitioned tables among
// `tables` that a `DETACH ... CONCURRENTLY` is taking out. Its rows stay in the target until the
// second phase; one whose statement was interrupted stays so until an operator runs the FINALIZE
// the note names (a running pipeline logs it once).
void report_detaching_partitions(pg::Connection& conn, std::span<const pipeline::TableSchema* const> tables,
                                 StatusReport& report);

class AttachedPartitions {
 public:
  AttachedPartitions(pg::Connection& conn, state::StateStore& store,
                     std::chrono::milliseconds every = std::chrono::seconds(5))
      : conn_(conn), store_(store), every_(every) {}

  // The partitioned tables among `tables` whose partitions changed since the previous look (or
  // the last run's); empty until a look is due.
  std::vector<PartitionChanges> look(std::span<const pipeline::TableSchema* const> tables);
  // look(), for the captures that act on attached partitions only (poll, notify): the tables to
  // read again.
  std::vector<const pipeline::TableSchema*> due(std::span<const pipeline::TableSchema* const> tables);
  // Stores what the last look saw, for the next start: call once its changes are handled durably.
  void record();

 private:
  pg::Connection& conn_;
  state::StateStore& store_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point next_look_{};
  struct Seen {
    std::string key;  // partitions_key() of the table
    SeenPartitions partitions;
  };
  std::map<std::uint32_t, Seen> known_;  // by partitioned table oid
  std::set<std::uint32_t> detaching_;    // partitions being detached concurrently, reported once

  // Keeps in `seen` the partitions of `known` that a DETACH ... CONCURRENTLY is taking out.
  void keep_detaching(const pipeline::TableSchema& t, const SeenPartitions& known, SeenPartitions& seen);
  bool looked_since_record_ = false;     // record() has nothing new to store otherwise
};

}  // namespace pg2ch::capture

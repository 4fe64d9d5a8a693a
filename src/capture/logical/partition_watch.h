#pragma once
// Partitioned tables in the logical capture: what pgoutput does not say about their partitions.
//
// A partitioned table is published with publish_via_partition_root (publication.cpp): rows of
// every partition, at any depth, also of partitions created later, arrive under the partitioned
// table's Relation, and a row moved to another partition by an UPDATE of the partition key arrives
// as a DELETE and an INSERT under it. Two things do not arrive:
//
//  * A TRUNCATE of a partition (or of a partitioned table below the one replicated): pgoutput
//    sends a TRUNCATE only for the relation it publishes as, and skips a partition's
//    (pgoutput_truncate: "Don't send partitions if the publication wants to send only the root
//    tables through it"); a TRUNCATE of the replicated table itself arrives as usual. So every
//    partition gets an AFTER TRUNCATE statement trigger, pg2ch_partition_truncated, whose function
//    (one per schema of a replicated table) calls pg_logical_emit_message(transactional, prefix
//    kMessagePrefix, content: the oids of the partition and all its ancestors, comma-separated).
//    The message is decoded in the truncating transaction's place in the stream. Which rows the
//    partition held, the target cannot tell (its rows carry no partition), so the stream asks for
//    an online resync of the replicated table (online_resync.h), durably (the resync request key
//    is written before the stream moves on, so the slot never confirms past the message before
//    the request is stored): the table is copied again from a snapshot taken after the TRUNCATE,
//    while every table streams on, and ends exact. A message right after the replicated table's
//    own TRUNCATE in the same transaction, with no change of it in between, is skipped: the
//    partition was empty then (TRUNCATE of the whole table fires every partition's trigger).
//  * ATTACH PARTITION of a table that holds rows: they enter the partitioned table without a
//    change in the WAL. The watch looks every few seconds for partitions without the trigger
//    (new ones): it puts the trigger on them, and when one was attached (rather than created as a
//    partition: its pg_inherits row was written by another transaction than its row type, which
//    CREATE TABLE writes; or by that transaction after it wrote rows of the table, which the stream
//    never showed: filled_before_attach.h) it asks for a resync of the replicated table. A
//    partition detached and attached again (changed meanwhile, unseen) has a pg_inherits row
//    younger than its trigger: it counts as attached, and gets its trigger anew. At start every
//    partition without the trigger counts as attached: while pg2ch was not running it may have
//    been truncated too. (The trigger is the watch's memory, kept in the source's catalog: no
//    state of its own.)
//
//  * DETACH or DROP of a partition: its rows leave the partitioned table without a change in the
//    WAL. The watch keeps each partitioned table's leaf partitions from one look to the next; when
//    one is gone it notes the source's WAL position W (after the DETACH or DROP committed) and,
//    once the sink has made everything up to W durable, asks for a resync of the table. Waiting
//    for W matters: a change of the partition committed before its DETACH but not yet read by
//    the stream would otherwise be applied after the copy began, at a version above the copy's,
//    and bring a row of the partition back. After W, no change of the table can touch it. A
//    partition a `DETACH ... CONCURRENTLY` is taking out counts as gone only once its second
//    phase is done (attached_partitions.h, detaching_partitions()): before, transactions older
//    than its first phase may still change its rows through the table, and those changes stream.
//    The leaf partitions are kept in the state store too (the table's state key "leaves", written
//    once no copy for a gone one is pending), so one detached or dropped while pg2ch was not
//    running is found at the first look after the start, the same way. A whole copy of the table
//    writes that key before its snapshot (record_leaves_before_copy()), so a partition gone
//    between the copy and the first look of a watch new to the table is found too.
//
// Limits (README, "Partitioned tables"): a partition created while pg2ch runs and truncated before the watch
// put its trigger on it (within seconds) is not noticed; nor is one attached and detached again
// between two looks (none runs during the initial copy) whose rows or changes reached the target; nor are rows written to a table in a
// subtransaction of the transaction that creates it and attaches it (filled_before_attach.h).
//
// Errors: exceptions (pg2ch::Error); one that is not a connection failure names the partition
// and the fix (creating a trigger needs ownership of the partition). `setup` stops on a missing
// privilege; a running pipeline warns once per partition and streams on (its TRUNCATEs unseen,
// an attach still copies the table again), so `setup` run by the tables' owner can put the
// triggers in place for a pipeline that runs as a replication role.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/lsn.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture::logical {

inline constexpr std::string_view kMessagePrefix = "pg2ch.partition_truncated";
inline constexpr std::string_view kTriggerName = "pg2ch_partition_truncated";

// The oids a partition-truncated message names (the partition, then its ancestors); nullopt
// when `content` is not such a list.
std::optional<std::vector<std::uint32_t>> parse_truncated_message(std::string_view content);

struct NewPartition {
  const pipeline::TableSchema* table = nullptr;  // the replicated partitioned table above it
  std::string name;                              // schema.name
  bool attached = false;  // ATTACH PARTITION rather than CREATE TABLE ... PARTITION OF
  std::uint32_t oid = 0;
  // Set when the trigger could not be created for want of privileges (only with `refused_ok`):
  // why, with the statement to run instead.
  std::optional<Error> refused;
};

// Puts the trigger on every partition (at any depth) of the partitioned tables among `tables`
// that lacks it or was attached since it got it, creating the trigger function where missing;
// returns those partitions. Lacking the privilege is an Error(Permission) naming the statement
// to run, or with `refused_ok` a partition whose `refused` says so.
std::vector<NewPartition> ensure_truncate_triggers(pg::Connection& conn,
                                                   const std::vector<const pipeline::TableSchema*>& tables,
                                                   bool refused_ok = false);

// Before a whole copy of `tables` takes its snapshot (the initial snapshot, a copy again at a
// start or beside the stream): their leaf partitions as they are now, detach-pending ones included,
// become what the watch saw last (the state key "leaves"). The stream starts at or before that
// snapshot, so a change of a partition detached after this may stream into the target; the first
// look of a watch that has not looked at the table yet (the initial snapshot's, a table that joins)
// compares with this and copies the table again. Before, it only recorded what it saw, and a
// partition detached or dropped before it (a DETACH waiting for a long copy's locks commits right
// after the copy) left its rows in the target for good.
void record_leaves_before_copy(pg::Connection& conn, state::StateStore& store,
                               std::span<const pipeline::TableSchema* const> tables);

class PartitionWatch {
 public:
  // `resync`: asks for a copy of the table again (durably).
  using Resync = std::function<void(const pipeline::TableSchema&, const std::string& why)>;
  // `durable`: the sink's durable position (ChangeSink::durable_position()).
  PartitionWatch(pg::Connection& conn, std::function<std::vector<const pipeline::TableSchema*>()> tables, Resync resync,
                 std::function<std::optional<Lsn>()> durable, state::StateStore& store)
      : conn_(conn),
        tables_(std::move(tables)),
        resync_(std::move(resync)),
        durable_(std::move(durable)),
        store_(store) {}

  // On the loop's thread, every turn (it looks every few seconds).
  void poll();

 private:
  pg::Connection& conn_;
  std::function<std::vector<const pipeline::TableSchema*>()> tables_;
  Resync resync_;
  std::chrono::steady_clock::time_point next_look_{};
  std::set<std::uint32_t> refused_;  // partitions without the trigger, reported once

  // DETACH / DROP: each partitioned table's leaf partitions at the last look (by table oid), and
  // the tables to copy again once `durable` reaches a position.
  void look_for_gone_partitions();
  void resync_when_durable();
  struct Gone {
    const pipeline::TableSchema* table;
    Lsn after;
    std::string names;
  };
  std::function<std::optional<Lsn>()> durable_;
  state::StateStore& store_;
  std::map<std::uint32_t, std::map<std::uint32_t, std::string>> leaves_;
  std::set<std::uint32_t> detaching_;  // leaves being detached concurrently, reported once
  std::vector<Gone> gone_;
};

}  // namespace pg2ch::capture::logical

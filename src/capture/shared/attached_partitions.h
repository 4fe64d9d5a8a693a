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
// tells them apart the same way). Every few seconds each partitioned table's partitions at any
// depth are listed and compared with the previous look; one not seen then whose pg_inherits row
// is younger than its row type was attached, one gone was detached or dropped.
//
// The partitions seen are kept in the state store (the table's state key "partitions", written
// by record() once the caller has handled what the look found), so the first look of a run
// compares with what the last run saw: a partition attached, detached or dropped while pg2ch was
// not running is found at the next start. A table never looked at before (no key) only records.
//
// Limits: a partition detached and attached again between two looks is not seen (as its rows may
// have changed unseen meanwhile, `pg2ch resync` the table after such a change).
//
// Errors: exceptions (pg2ch::Error) from the source connection and the state store.
#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture {

// What one look found for a partitioned table: partitions by oid, with their names.
struct PartitionChanges {
  const pipeline::TableSchema* table = nullptr;
  std::map<std::uint32_t, std::string> attached;  // by ATTACH PARTITION
  std::map<std::uint32_t, std::string> created;   // by CREATE TABLE ... PARTITION OF
  std::map<std::uint32_t, std::string> gone;      // detached or dropped

  static std::string names(const std::map<std::uint32_t, std::string>& partitions);
};

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
    std::map<std::uint32_t, std::string> partitions;
  };
  std::map<std::uint32_t, Seen> known_;  // by partitioned table oid
  bool looked_since_record_ = false;     // record() has nothing new to store otherwise
};

}  // namespace pg2ch::capture

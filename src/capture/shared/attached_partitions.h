#pragma once
// For the captures that read rows with SELECT or triggers (poll, notify, outbox): partitions
// attached to a replicated partitioned table while the pipeline runs. `ALTER TABLE ... ATTACH
// PARTITION` brings the attached table's rows into the partitioned table with no write a trigger
// sees and no newer watermark, so the capture must read the table again (poll and notify: from its
// first row; outbox: a copy, outbox_copy.h). A partition created as one (`CREATE TABLE ...
// PARTITION OF`) starts empty and needs nothing: its rows are written through the partitioned
// table's triggers (row triggers are cloned to it) and watermark.
//
// Which is which: CREATE TABLE writes the partition's row type and its pg_inherits row in one
// transaction, ATTACH writes pg_inherits in a later one (the logical capture's partition_watch.h
// tells them apart the same way). Every few seconds each partitioned table's partitions at any
// depth are listed; one not seen at the previous look whose pg_inherits row is younger than its
// row type was attached. The first look at a table only records its partitions.
//
// Limits: a partition detached and attached again between two looks is not seen (as its rows may
// have changed unseen meanwhile, `pg2ch resync` the table after such a change); one attached while
// pg2ch was not running neither (resync it, as the README says).
//
// Errors: exceptions (pg2ch::Error) from the source connection.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture {

class AttachedPartitions {
 public:
  explicit AttachedPartitions(pg::Connection& conn, std::chrono::milliseconds every = std::chrono::seconds(5))
      : conn_(conn), every_(every) {}

  // The partitioned tables among `tables` that had a partition attached since the previous look;
  // empty until a look is due.
  std::vector<const pipeline::TableSchema*> due(std::span<const pipeline::TableSchema* const> tables);

 private:
  pg::Connection& conn_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point next_look_{};
  std::map<std::uint32_t, std::set<std::uint32_t>> known_;  // partitions by partitioned table oid
};

}  // namespace pg2ch::capture

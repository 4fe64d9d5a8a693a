#pragma once
// Outbox mode on a partitioned table: the changes of its rows that no row trigger sees.
//
//  * A TRUNCATE of one partition (or of a partitioned partition): PostgreSQL fires TRUNCATE
//    triggers only on the tables truncated, and a TRUNCATE trigger is a statement trigger, which
//    is never cloned to partitions. So every partition at any depth gets one of its own,
//    pg2ch_<tag>_ptrunc, calling <tag>_<table oid>_ptrunc (one function per partitioned table).
//  * ATTACH PARTITION of a table with rows, DETACH PARTITION, DROP TABLE of a partition: found by
//    capture/shared/attached_partitions.h within seconds, or at the next start.
//
// Either way the target cannot tell which of its rows were the partition's (they carry no
// partition), so the table is copied again. What asks for the copy is a *copy request*: a row of
// the truncates queue (<events>_truncates) with `part` set (the partition's oid), versioned like
// every event by the WAL insert position read when it is written (by the trigger, in the
// TRUNCATE's transaction; for an attach or a detach after it committed). The drainer takes it in
// version order with the TRUNCATEs (outbox_drainer.h):
//
//   lock the request, and every other request of the table before its next TRUNCATE (one copy
//   serves them all; a TRUNCATE of the whole partitioned table fires every partition's trigger,
//   which costs one copy of what is left after it), then lock the table's events versioned
//   before the last of them (waiting for drainers that hold some), take the table's copy lock
//   (copy_lock.h), mark the table copying (its durable state, table_sync/), delete those events,
//   and COMMIT: a short transaction. Then, outside any transaction of the drainer, copy the table
//   again as a start copies it (outbox_copy.h: the table's queued events and rows of the
//   truncates queue other than these requests deleted with a ClickHouse sink, target emptied, a
//   snapshot of its own, rows at version 0, ranges recorded), mark it streaming, delete the
//   requests, and release the lock.
//
// Why that is exact. Let R be the last request's version. Every event versioned before R that
// the lock found is committed before the COMMIT, and the copy's snapshot is taken after it, so
// the snapshot holds its change: deleting it loses nothing, and it cannot bring back a row of the
// partition (the row payload would). An event versioned before R and not yet committed when the
// lock looked is not of the partition: writing a partition's rows holds a lock on it that
// TRUNCATE, DETACH and DROP wait for, so every change of the partition commits before the
// request's version is read. Such an event is exact whenever it is applied: before the target is
// emptied it was committed before the snapshot, which holds its change; after, at its version
// (> 0), the key's newest change wins as at any copy (outbox_copy.h). Events after R wait in the
// queue while the requests are queued (claims check, as for a TRUNCATE), and other drainers
// handle no TRUNCATE or request of the table while the copy lock is held.
//
// A crash or a stop at any point: before the COMMIT, the transaction rolls back (the requests
// and events stay). After it, the requests are still queued and the table is copying: the next
// start copies it whole (deleting the requests, outbox_copy.cpp drop_superseded_events), or,
// once its target was emptied and a range recorded, copies the ranges left from a new snapshot,
// exact by the argument above with the first snapshot, and the requests are served again after
// it; or, the lock gone with the crashed session, another running drainer takes the requests and
// copies the table whole (its own copy waiting for that one, or that one for it).
//
// Downstream of Kafka (sink = kafka, both) the same holds: a TRUNCATE of the table (an op "t"
// event to every partition of its topic) goes through the sink in the short transaction, after
// every message of the table's earlier batches in each partition, and the events are deleted
// only once the sink reports it durable (an empty sink transaction after it). The consumer
// empties its target once every partition reached it (kafka_consumer/truncate_barrier.h), then
// takes the copy's rows (op "r", version 0) and the later events at their versions, which win as
// in ClickHouse. The table streams and the requests go only once the sink reports every row
// durable: else it stays copying, and the next start copies it again (a whole copy through Kafka
// begins with a TRUNCATE of its own, capture/shared/copy_truncate.h, and keeps the queued events,
// applied after it; the requests still queued are served again). A request of a stopped table
// records a resync and is deleted in the short transaction: the next start copies the table,
// its TRUNCATE included.
//
// Limits: a partition created while pg2ch runs gets its trigger at the next look (5 s); a
// TRUNCATE of it before that, or while pg2ch was not running before the next start put the
// trigger on it, is not seen. The trigger on a detached partition does nothing (its function
// checks that the partition is still under the table); `teardown` drops it with the function.
//
// Errors: exceptions (pg2ch::Error); creating a trigger needs ownership of the partition, the
// error names the statement to run instead.
#include <cstdint>
#include <string>
#include <vector>

#include "capture/outbox/outbox_sql.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

// The partition-truncate function of `t` (a partitioned table): unquoted, in outbox.schema.
std::string partition_truncate_function(const OutboxNames& n, const pipeline::TableSchema& t);
// Its CREATE OR REPLACE FUNCTION and COMMENT (teardown finds it by the comment's marker).
std::vector<std::string> partition_truncate_function_ddl(const OutboxNames& n, const pipeline::TableSchema& t);

// Creates the function of each partitioned table among `tables` and its trigger on every
// partition that lacks it; returns how many triggers were created. Lacking the privilege is an
// Error(Permission) naming the statement to run, or with `refused_ok` (a running pipeline) a
// warning: the pipeline goes on without seeing that partition's TRUNCATEs.
int ensure_partition_truncate_triggers(pg::Connection& conn, const OutboxNames& n,
                                       const std::vector<const pipeline::TableSchema*>& tables,
                                       bool refused_ok = false);

// setup: the functions of the partitioned tables among `tables` made anew (idempotent), then
// ensure_partition_truncate_triggers.
void install_partition_truncates(pg::Connection& conn, const OutboxNames& n,
                                 const std::vector<const pipeline::TableSchema*>& tables);

// Queues a copy request for `t`: partition `partition_oid` came in or went out unseen.
void request_copy(pg::Connection& conn, const OutboxNames& n, const pipeline::TableSchema& t,
                  std::uint32_t partition_oid);

// The drainer's queries: every copy request of table $1 before its next TRUNCATE, locked
// (ctid, lsn), in version order; and deleting table $1's requests up to version $2 (the copy of
// them done).
std::string lock_copy_requests_sql(const OutboxNames& n);
std::string delete_copy_requests_sql(const OutboxNames& n);

}  // namespace pg2ch::capture::outbox

#pragma once
// One copy of a table at a time among the drainers of one outbox, and no TRUNCATE or copy
// request of it handled while it is copied. A copy empties the target, takes a snapshot and
// writes the rows it holds at version 0 (outbox_copy.h): a TRUNCATE or another copy handled by a
// second drainer meanwhile would be followed by rows of the first copy's older snapshot that the
// second one removed (a TRUNCATE has no event per row to win over them).
//
// The lock is a session advisory lock on (the events table, the table's oid): a copy holds it
// from before its target is emptied until it is done (outbox_copy.cpp, waiting for another
// drainer's copy if need be), and a copy request's drainer from its short transaction on until
// it deleted the requests after the copy (partition_copies.h). A drainer about to handle a
// TRUNCATE or a copy request tries it in its transaction (released at its end) and leaves the row
// queued when another session holds it; claims of the table's events after the row wait for it
// as for any pending TRUNCATE. PostgreSQL releases the lock with the session: after a crash the
// next drainer takes the request still queued.
//
// Errors: exceptions (pg2ch::Error) from the queries; releasing never throws.
#include <string>
#include <vector>

#include "capture/outbox/outbox_sql.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

// In a drain transaction: true when no other session copies `table`, and then no other session
// starts a copy of it before this transaction ends.
bool try_lock_copies_of(pg::Connection& conn, const OutboxNames& n, const pipeline::TableSchema& table);

// Held until destroyed (session level, outside or across transactions: released by a query, so
// not destroyed while `conn` is in a failed transaction). Waits for another session's copy.
class CopyLock {
 public:
  CopyLock(pg::Connection& conn, const OutboxNames& n, std::vector<const pipeline::TableSchema*> tables);
  ~CopyLock();
  CopyLock(const CopyLock&) = delete;
  CopyLock& operator=(const CopyLock&) = delete;

 private:
  pg::Connection& conn_;
  std::string events_;
  std::vector<const pipeline::TableSchema*> held_;
};

}  // namespace pg2ch::capture::outbox

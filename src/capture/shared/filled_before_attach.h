#pragma once
// A table created, filled and attached as a partition in one transaction (`BEGIN; CREATE TABLE p
// (LIKE t); INSERT INTO p ...; ALTER TABLE t ATTACH PARTITION p ...; COMMIT`) looks created as a
// partition: its row type and its pg_inherits row have one xmin, as after CREATE TABLE ... PARTITION
// OF. But the rows it got before the ATTACH passed no trigger of the partitioned table (they are
// cloned to it at the ATTACH) and no publication of it (pgoutput decodes each change with the
// catalog as it was then: not yet a partition), so every capture must read or copy the table again,
// as for an attach. Rows written after the ATTACH, in that transaction or later, were seen.
//
// Which rows came before: the ones that transaction wrote (their xmin is the pg_inherits row's)
// with a command id below the pg_inherits row's (the command counter orders every statement of a
// transaction; cmin is the command that wrote the row version). A partition created as one and
// filled in the same transaction has its rows after its pg_inherits row: no copy. Exact, because
// both system columns are kept as written: freezing (since PostgreSQL 9.4), VACUUM FULL and CLUSTER
// keep xmin and cmin in the tuple header (only hint bits change), and xids are compared for
// equality only. Where a value means something else the answer is yes, costing a copy, never a
// row: a row version of another transaction whose 32-bit xid is the same after a wraparound, or
// whose cmin slot holds a combo command id (a row the creating transaction deleted in a subtransaction
// that rolled back). Not seen: rows written in a subtransaction (SAVEPOINT, a PL/pgSQL block with
// EXCEPTION) other than the one that ran both CREATE TABLE and ATTACH: their xmin is that
// subtransaction's, which the catalog does not tie to its parent; `pg2ch resync` the table then.
//
// Cost: one scan of the partition (only of a new one that looks created, once: for the first look
// that sees it), stopping at the first such row; it reads the partition itself, which the copies
// already need SELECT on.
//
// Errors: exceptions (pg2ch::Error) from the connection; a partition dropped meanwhile is not filled.
#include <cstdint>

#include "pg/connection.h"

namespace pg2ch::capture {

bool filled_before_attach(pg::Connection& conn, std::uint32_t partition_oid);

}  // namespace pg2ch::capture

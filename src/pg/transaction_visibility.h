#pragma once
// Whether a transaction decoded from the WAL is visible to new snapshots yet. A commit is decoded
// once its record is in the WAL, a moment before the server ends the transaction for snapshots:
// a query run right after may still see the state from before it (rows, and the catalog too).
//
// pgoutput names transactions by 32-bit xid; the SQL below widens one against the snapshot's
// xmax (the latest completed xid + 1): the full xid nearest xmax n is n + d, d = (x - n) mod 2^32,
// when d is small (less than 2^24 xids in flight above xmax), else n + d - 2^32 (in the past).
// 64-bit xids are used as they are. A result below 0 (no such transaction on this server) is 0,
// which every snapshot sees. Exact for transactions less than 2^32 - 2^24 xids old.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "pg/connection.h"

namespace pg2ch::pg {

// The xid8 expression for `xid` (an int8 SQL expression: a 32-bit xid, or a full one) against
// `xmax` (an int8 SQL expression: pg_snapshot_xmax of the snapshot it is checked in).
std::string full_xid_sql(std::string_view xid, std::string_view xmax);

// Waits up to `timeout` until transaction `xid` (32-bit) is visible to a new snapshot on `conn`.
// False when it is not by then (the caller goes on with what the server shows).
bool wait_until_visible(Connection& conn, std::uint32_t xid, std::chrono::milliseconds timeout);

}  // namespace pg2ch::pg

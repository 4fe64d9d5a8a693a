#pragma once
// Reads one keyset page from the source and hands its rows to the sink. Rows come back in binary
// format (the same bytes the logical capture decodes), followed by the order columns as text for
// the cursor.
#include <cstdint>
#include <optional>
#include <string>

#include "capture/poll/keyset.h"
#include "common/error.h"
#include "pg/connection.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::poll {

// A row the sink refused with a value its target cannot hold: the table's trouble, not the
// pipeline's (table_sync::stops_only_its_table).
struct RefusedRow {
  Error error;
  std::string key;  // as pipeline::key_text prints it
};

struct PageResult {
  std::size_t rows = 0;
  std::optional<Cursor> last;   // the last row's position (nullopt when empty or refused)
  std::optional<RefusedRow> refused;
};

// A page read inside its own REPEATABLE READ READ ONLY transaction, with the snapshot it saw and
// the server time it was read at.
struct SnapshotPage {
  pg::Result rows;
  std::string snapshot;
  std::int64_t read_time_us = 0;
  std::string running_xids;  // text[] literal: xids held by any backend or prepared transaction
};

// BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; snapshot + clock_timestamp(); the page; COMMIT.
SnapshotPage read_page_in_snapshot(pg::Connection& conn, const Query& q, const std::string& table);

// A page read as one statement (rescans), with the server time taken just before.
SnapshotPage read_page(pg::Connection& conn, const Query& q, const std::string& table);

// Inserts every row of `page` into the sink with `version`, between begin_transaction() and
// commit_transaction(position). A refused row ends the page: what the sink holds of the table is
// discarded (ChangeSink::discard) and the transaction still committed, so the position moves on
// for the other tables; the caller stops the table.
PageResult deliver(const SnapshotPage& page, const pipeline::TableSchema& table, const Keyset& keyset,
                   pipeline::ChangeSink& sink, std::uint64_t version, pipeline::Position position);

}  // namespace pg2ch::capture::poll

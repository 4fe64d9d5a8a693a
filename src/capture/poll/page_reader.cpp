#include "capture/poll/page_reader.h"

#include <fmt/format.h>

#include <vector>

#include "capture/table_sync/table_states.h"
#include "pipeline/key_text.h"

namespace pg2ch::capture::poll {

namespace {

constexpr const char* kNowMicros = "(extract(epoch FROM clock_timestamp()) * 1000000)::int8";

pg::Result exec_binary(pg::Connection& conn, const Query& q, const std::string& table) {
  std::vector<const char*> values;
  values.reserve(q.params.size());
  for (const auto& p : q.params) values.push_back(p ? p->c_str() : nullptr);
  pg::Result r(PQexecParams(conn.get(), q.sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                            nullptr, nullptr, /*resultFormat=*/1));
  if (!r || PQstatus(conn.get()) == CONNECTION_BAD) {
    throw pg::error_from_connection(conn.get(), "reading a page of " + table);
  }
  if (!r.ok()) throw pg::error_from_result(r, "reading a page of " + table);
  return r;
}

}  // namespace

SnapshotPage read_page_in_snapshot(pg::Connection& conn, const Query& q, const std::string& table) {
  SnapshotPage page;
  // The first statement of a REPEATABLE READ transaction fixes its snapshot, so the page below
  // sees exactly the snapshot reported here; clock_timestamp() runs after it was taken.
  //
  // Since PostgreSQL 14 a snapshot's xmax is the latest *completed* xid + 1, so a transaction
  // that was running with a newer xid is not in pg_snapshot_xip(S). The xids every backend (and
  // every prepared transaction) holds at the read are recorded too; backend_xid needs no
  // pg_read_all_stats.
  pg::Result s = conn.query(fmt::format("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                                        "SELECT pg_current_snapshot()::text, {}, "
                                        "(SELECT coalesce(array_agg(x::text), '{{}}')::text FROM "
                                        "  (SELECT backend_xid FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                                        "   UNION ALL SELECT transaction FROM pg_prepared_xacts) t(x))",
                                        kNowMicros));
  try {
    page.snapshot = s.text(0, 0);
    page.read_time_us = s.int64(0, 1);
    page.running_xids = s.text(0, 2);
    page.rows = exec_binary(conn, q, table);
    conn.exec("COMMIT");
  } catch (...) {
    if (PQstatus(conn.get()) == CONNECTION_OK) conn.try_query("ROLLBACK");
    throw;
  }
  return page;
}

SnapshotPage read_page(pg::Connection& conn, const Query& q, const std::string& table) {
  SnapshotPage page;
  page.read_time_us = conn.query(fmt::format("SELECT {}", kNowMicros)).int64(0, 0);
  page.rows = exec_binary(conn, q, table);
  return page;
}

PageResult deliver(const SnapshotPage& page, const pipeline::TableSchema& table, const Keyset& keyset,
                   pipeline::ChangeSink& sink, std::uint64_t version, pipeline::Position position) {
  const pg::Result& r = page.rows;
  PageResult out;
  out.rows = static_cast<std::size_t>(r.rows());
  std::vector<pipeline::ValueRef> values(keyset.source_columns);
  sink.begin_transaction();
  for (int row = 0; row < r.rows(); ++row) {
    for (std::size_t c = 0; c < keyset.source_columns; ++c) {
      const int col = static_cast<int>(c);
      values[c] = r.is_null(row, col) ? pipeline::ValueRef::null() : pipeline::ValueRef::binary(r.value(row, col));
    }
    try {
      sink.insert(table, values, version);
    } catch (const Error& e) {
      if (!table_sync::stops_only_its_table(e)) throw;
      out.rows = static_cast<std::size_t>(row);
      out.refused = RefusedRow{e, pipeline::key_text(table, values)};
      sink.discard(table);
      sink.commit_transaction(position);
      return out;
    }
  }
  sink.commit_transaction(position);
  if (r.rows() > 0) {
    // The order columns' text forms follow the source columns (binary transfer of text is the
    // text itself).
    const int last = r.rows() - 1;
    Cursor c;
    const int base = static_cast<int>(keyset.source_columns);
    c.watermark = r.text(last, base);
    for (std::size_t i = 1; i < keyset.order.size(); ++i) c.keys.push_back(r.text(last, base + static_cast<int>(i)));
    out.last = std::move(c);
  }
  return out;
}

}  // namespace pg2ch::capture::poll

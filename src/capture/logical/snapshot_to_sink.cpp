#include "capture/logical/snapshot_to_sink.h"

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/error.h"
#include "pg/connection.h"
#include "pg/copy_binary_parser.h"
#include "pg/copy_out.h"

namespace pg2ch::capture::logical {
namespace {

// COPY lists replicated columns in target order; the sink takes values by source column.
struct SinkFeeder {
  const pipeline::TableSchema& table;
  pipeline::ChangeSink& sink;
  std::vector<pipeline::ValueRef> values;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  const std::function<void()>& alive;
  pipeline::PipelineObserver* observer;
  std::uint64_t reported = 0;

  void report() {
    if (observer) observer->copied(table, rows - reported, 0);
    reported = rows;
  }

  void row(std::span<const pg::FieldView> fields) {
    values.assign(table.source_columns.size(), pipeline::ValueRef::null());
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto si = static_cast<std::size_t>(table.target_columns[i].source_index);
      values[si] = fields[i].is_null() ? pipeline::ValueRef::null() : pipeline::ValueRef::binary(fields[i].view());
      bytes += fields[i].view().size();
    }
    sink.insert(table, values, pipeline::kSnapshotVersion);
    // Lets the sink send and collect delivery reports while the copy runs.
    if (++rows % 4096 == 0) {
      sink.poll();
      if (alive) alive();
      report();
    }
  }
};

void copy_rows(pg::Connection& conn, const pipeline::TableSchema& table, const std::string& sql, SinkFeeder& feeder) {
  pg::Result started(PQexec(conn.get(), sql.c_str()));
  if (started.status() != PGRES_COPY_OUT) {
    throw pg::error_from_result(started, "starting COPY of " + table.qualified_source());
  }
  pg::CopyBinaryParser parser(static_cast<int>(table.target_columns.size()));
  pg::read_copy_out(
      conn.get(), "copying " + table.qualified_source(), [&](std::string_view chunk) { parser.feed(chunk, feeder); },
      [&] { parser.finish(); });
}

void throw_not_delivered() {
  throw Error(ErrorKind::Connection, "the initial snapshot was not fully delivered to the sink",
              "check that Kafka is reachable; pg2ch copies what was not delivered again on restart", true);
}

// Each range its own sink transaction, committed at a position below `consistent_point` that
// grows range by range (the last one's is `consistent_point`): the sink's durable position then
// says when this range, and every one before, is delivered. Nothing acknowledges those positions
// to the slot, which no stream reads during the copy (and which is at `consistent_point`).
void copy_ranges(pg::Connection& conn, SnapshotProgress& progress, Lsn consistent_point, pipeline::ChangeSink& sink,
                 const std::atomic<bool>& stop, const std::function<void()>& alive,
                 pipeline::PipelineObserver* observer, SnapshotResult& result) {
  const auto todo = progress.pending();
  spdlog::info("copy through the sink: {} range(s), {} left to copy", progress.size(), todo.size());
  for (std::size_t k = 0; k < todo.size() && !stop.load(); ++k) {
    const CopyRange& r = progress.range(todo[k]);
    sink.begin_transaction();
    SinkFeeder feeder{*r.table, sink, {}, 0, 0, alive, observer};
    copy_rows(conn, *r.table, snapshot_copy_statement(conn, *r.table, r.first_block, r.end_block, r.leaf), feeder);
    feeder.report();
    if (stop.load()) break;  // the range's rows may be cut short: not done
    const Lsn position = consistent_point - (todo.size() - 1 - k);
    sink.commit_transaction(position);
    sink.flush();
    const auto durable = sink.durable_position();
    if (!durable || *durable < position) throw_not_delivered();
    progress.done(todo[k], feeder.rows);
    result.rows += feeder.rows;
    result.bytes += feeder.bytes;
    spdlog::info("snapshot: {} rows of {} copied (range {}/{}, {} rows so far)", feeder.rows,
                 r.table->qualified_source(), todo[k] + 1, progress.size(), result.rows);
  }
}

}  // namespace

SnapshotResult copy_snapshot_to_sink(const config::Config& cfg, const std::vector<const pipeline::TableSchema*>& tables,
                                     const std::string& snapshot_name, Lsn consistent_point, pipeline::ChangeSink& sink,
                                     const std::atomic<bool>& stop, const std::function<void()>& alive,
                                     pipeline::PipelineObserver* observer, SnapshotProgress* progress) {
  const auto started = std::chrono::steady_clock::now();
  auto conn = pg::Connection::connect(cfg.postgres.conninfo(), "source PostgreSQL " + cfg.postgres.describe());
  conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  conn.exec(fmt::format("SET TRANSACTION SNAPSHOT {}", conn.quote_literal(snapshot_name)));
  SnapshotResult result;
  if (progress) {
    copy_ranges(conn, *progress, consistent_point, sink, stop, alive, observer, result);
    conn.exec("COMMIT");
  } else {
    sink.begin_transaction();
    for (const auto* t : tables) {
      if (stop.load()) break;
      SinkFeeder feeder{*t, sink, {}, 0, 0, alive, observer};
      copy_rows(conn, *t, snapshot_copy_statement(conn, *t), feeder);
      feeder.report();
      result.rows += feeder.rows;
      result.bytes += feeder.bytes;
    }
    conn.exec("COMMIT");
    sink.commit_transaction(consistent_point);
    sink.flush();
    const auto durable = sink.durable_position();
    if (!stop.load() && (!durable || *durable < consistent_point)) throw_not_delivered();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace pg2ch::capture::logical

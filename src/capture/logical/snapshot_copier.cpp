#include "capture/logical/snapshot_copier.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <fmt/format.h>
#include <mutex>
#include <readerwriterqueue/readerwritercircularbuffer.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "capture/logical/snapshot_plan.h"
#include "capture/table_sync/table_states.h"
#include "pg/connection.h"
#include "capture/logical/snapshot_workers.h"
#include "pg/copy_binary_parser.h"
#include "pg/copy_out.h"
#include "pipeline/key_text.h"
#include "pipeline/row_encoder.h"

namespace pg2ch::capture::logical {

std::string snapshot_copy_statement(pg::Connection& conn, const pipeline::TableSchema& table, std::int64_t first_block,
                                    std::int64_t end_block, const std::string& leaf) {
  std::string cols;
  for (const auto& c : table.target_columns) {
    if (!cols.empty()) cols += ", ";
    cols += conn.quote_identifier(c.name);
  }
  std::string sql = leaf.empty() ? fmt::format("COPY (SELECT {} FROM {}.{}", cols, conn.quote_identifier(table.source_schema),
                                               conn.quote_identifier(table.source_name))
                                 : fmt::format("COPY (SELECT {} FROM ONLY {}", cols, leaf);
  if (first_block > 0 || end_block >= 0) {
    sql += fmt::format(" WHERE ctid >= '({},0)'::tid", first_block);
    if (end_block >= 0) sql += fmt::format(" AND ctid < '({},0)'::tid", end_block);
  }
  sql += ") TO STDOUT (FORMAT binary)";
  return sql;
}

namespace {

// Bytes of RowBinary handed to curl per read callback: large enough to amortise the call,
// small enough to keep PostgreSQL and ClickHouse both busy.
constexpr std::size_t kChunkBytes = 1u << 20;
std::string copy_statement(pg::Connection& conn, const CopyRange& r) {
  return snapshot_copy_statement(conn, *r.table, r.first_block, r.end_block, r.leaf);
}

// Thrown out of a range's copy for a row its target cannot hold: ends that table's copy only.
struct RefusedRow {
  Error error;
  std::string key;
};

// Feeds parsed COPY rows into the RowBinary buffer currently being filled.
struct EncodingSink {
  const pipeline::TableSchema& table;
  const pipeline::RowEncoder& encoder;
  ByteBuffer* out = nullptr;
  std::vector<pipeline::ValueRef> values;
  std::uint64_t rows = 0;

  void row(std::span<const pg::FieldView> fields) {
    values.resize(fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
      values[i] = fields[i].is_null() ? pipeline::ValueRef::null() : pipeline::ValueRef::binary(fields[i].view());
    }
    try {
      encoder.encode_target_row(values, pipeline::kSnapshotVersion, *out);
    } catch (const Error& e) {
      if (!table_sync::stops_only_its_table(e)) throw;
      throw RefusedRow{e, key_of_row()};
    }
    ++rows;
  }

  // COPY lists the target's columns; key_text takes the row by source column.
  std::string key_of_row() const {
    std::vector<pipeline::ValueRef> by_source(table.source_columns.size(), pipeline::ValueRef::null());
    for (std::size_t i = 0; i < values.size(); ++i)
      by_source[static_cast<std::size_t>(table.target_columns[i].source_index)] = values[i];
    return pipeline::key_text(table, by_source);
  }
};

// Reading COPY and sending the INSERT overlap: a reader thread fills RowBinary chunks from
// PostgreSQL while curl sends the previous ones, so neither server waits for the other. A fixed
// set of buffers circulates between a `free` and a `full` queue, which bounds memory at
// kBuffers chunks per worker. A null entry in `full` ends the body (after an error, too).
class ChunkPipe {
 public:
  static constexpr std::size_t kBuffers = 4;
  using Queue = moodycamel::BlockingReaderWriterCircularBuffer<std::unique_ptr<ByteBuffer>>;

  ChunkPipe() : free_(kBuffers), full_(kBuffers + 1) {
    for (std::size_t i = 0; i < kBuffers; ++i) free_.try_enqueue(std::make_unique<ByteBuffer>(kChunkBytes + (64u << 10)));
  }

  // Reader side. Returns nullptr when the consumer gave up.
  std::unique_ptr<ByteBuffer> take_free() {
    std::unique_ptr<ByteBuffer> b;
    while (!free_.wait_dequeue_timed(b, std::chrono::milliseconds(100))) {
      if (cancelled_) return nullptr;
    }
    b->clear();
    return b;
  }
  void push_full(std::unique_ptr<ByteBuffer> b) { full_.try_enqueue(std::move(b)); }
  void finish(std::exception_ptr error) {
    error_ = std::move(error);
    full_.try_enqueue(nullptr);
  }

  // Consumer side (curl's read callback): the previous chunk is done with once the next is asked for.
  std::string_view next() {
    if (current_) free_.try_enqueue(std::move(current_));
    full_.wait_dequeue(current_);
    if (!current_) {
      if (error_) std::rethrow_exception(error_);
      return {};
    }
    return current_->view();
  }
  void cancel() { cancelled_ = true; }

 private:
  Queue free_;
  Queue full_;
  std::unique_ptr<ByteBuffer> current_;
  std::exception_ptr error_;
  std::atomic<bool> cancelled_{false};
};

// Thrown inside a worker when SIGTERM arrives mid-range: the range's INSERT is abandoned (the
// range is copied again by the next run, and its partial rows collapse with that copy's).
struct StoppedMidRange {};

class Worker {
 public:
  Worker(const config::Config& cfg, const std::string& snapshot, pipeline::BulkLoad& load) : writer_(load.writer()) {
    pg_ = pg::Connection::connect(cfg.postgres.conninfo(), "source PostgreSQL " + cfg.postgres.describe());
    pg_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    pg_.exec(fmt::format("SET TRANSACTION SNAPSHOT {}", pg_.quote_literal(snapshot)));
  }

  std::uint64_t copy(const CopyRange& r, std::uint64_t& bytes, const std::atomic<bool>& stop,
                     const std::function<void()>& alive, pipeline::PipelineObserver* observer) {
    const std::string sql = copy_statement(pg_, r);
    pg::Result started(PQexec(pg_.get(), sql.c_str()));
    if (started.status() != PGRES_COPY_OUT) throw pg::error_from_result(started, "starting COPY of " + r.table->qualified_source());

    pipeline::RowEncoder encoder(*r.table);
    EncodingSink sink{*r.table, encoder, nullptr, {}, 0};
    ChunkPipe pipe;
    std::thread reader([&] {
      try {
        read_copy(r, pipe, sink, bytes, stop, alive, observer);
        pipe.finish(nullptr);
      } catch (...) {
        pipe.finish(std::current_exception());
      }
    });
    try {
      // The rows are all counted once next_chunk has returned the end (the reader finished them).
      writer_->write(*r.table, [&] { return pipe.next(); }, [&] { return sink.rows; });
    } catch (...) {
      pipe.cancel();
      reader.join();
      throw;
    }
    reader.join();
    return sink.rows;
  }

 private:
  void read_copy(const CopyRange& r, ChunkPipe& pipe, EncodingSink& sink, std::uint64_t& bytes,
                 const std::atomic<bool>& stop, const std::function<void()>& alive,
                 pipeline::PipelineObserver* observer) {
    std::uint64_t reported = 0;
    const auto report = [&](std::size_t chunk_bytes) {
      if (observer) observer->copied(*r.table, sink.rows - reported, chunk_bytes);
      reported = sink.rows;
    };
    pg::CopyBinaryParser parser(static_cast<int>(r.table->target_columns.size()));
    std::unique_ptr<ByteBuffer> buf = pipe.take_free();
    const auto cancelled = [&] {
      return Error(ErrorKind::Internal, "snapshot copy of " + r.table->qualified_source() + " cancelled");
    };
    if (!buf) throw cancelled();
    sink.out = buf.get();
    pg::read_copy_out(
        pg_.get(), "copying " + r.table->qualified_source(),
        [&](std::string_view chunk) {
          parser.feed(chunk, sink);
          if (buf->size() < kChunkBytes) return;
          if (stop.load()) throw StoppedMidRange{};
          if (alive) alive();
          bytes += buf->size();
          report(buf->size());
          pipe.push_full(std::move(buf));
          buf = pipe.take_free();
          if (!buf) throw cancelled();
          sink.out = buf.get();
        },
        [&] { parser.finish(); });
    bytes += buf->size();
    report(buf->size());
    if (!buf->empty()) pipe.push_full(std::move(buf));
  }

 private:
  pg::Connection pg_;
  std::unique_ptr<pipeline::BulkWriter> writer_;
};

}  // namespace

SnapshotCopier::SnapshotCopier(const config::Config& cfg, std::vector<const pipeline::TableSchema*> tables,
                               std::string snapshot_name, pipeline::BulkLoad& load)
    : cfg_(cfg), tables_(std::move(tables)), snapshot_name_(std::move(snapshot_name)), load_(load) {}

SnapshotResult SnapshotCopier::run(int workers, const std::atomic<bool>& stop, const std::function<void()>& alive,
                                   pipeline::PipelineObserver* observer, SnapshotProgress* progress) {
  std::string why = "logical.snapshot_workers";
  if (workers <= 0) {
    auto choice = choose_snapshot_workers(cfg_);
    workers = choice.workers;
    why = std::move(choice.reason);
  }
  const auto started = std::chrono::steady_clock::now();
  // Without a recorded plan (a copy beside the stream) the ranges are planned here.
  std::vector<CopyRange> planned;
  std::vector<std::size_t> todo;
  if (progress) {
    todo = progress->pending();
  } else {
    auto conn = pg::Connection::connect(cfg_.postgres.conninfo(), "source PostgreSQL " + cfg_.postgres.describe());
    const std::int64_t range_blocks = max_range_blocks(conn, cfg_.logical.snapshot_range_mb);
    for (const auto* t : tables_) {
      for (auto& r : plan_table(*t, source_relations(conn, *t), workers, range_blocks)) planned.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < planned.size(); ++i) todo.push_back(i);
  }
  const auto range = [&](std::size_t i) -> const CopyRange& { return progress ? progress->range(i) : planned[i]; };
  const std::size_t total = progress ? progress->size() : planned.size();
  workers = std::max(1, std::min<int>(workers, static_cast<int>(todo.size())));
  spdlog::info("initial snapshot: {} table(s) in {} range(s), {} to copy, {} worker(s) ({})", tables_.size(), total,
               todo.size(), workers, why);

  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> rows{0}, bytes{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;  // guards first_error and res.refused
  SnapshotResult res;
  const auto refused = [&](const pipeline::TableSchema* t) {
    std::lock_guard lock(error_mutex);
    return std::any_of(res.refused.begin(), res.refused.end(), [&](const RefusedTable& x) { return x.table == t; });
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < workers && !todo.empty(); ++w) {
    threads.emplace_back([&] {
      try {
        std::optional<Worker> worker(std::in_place, cfg_, snapshot_name_, load_);
        for (std::size_t k = next++; k < todo.size(); k = next++) {
          if (stop.load() || failed.load()) return;
          const std::size_t i = todo[k];
          const pipeline::TableSchema* table = range(i).table;
          if (refused(table)) continue;
          std::uint64_t b = 0;
          std::uint64_t n = 0;
          try {
            n = worker->copy(range(i), b, stop, alive, observer);
          } catch (RefusedRow& bad) {
            spdlog::warn("snapshot: {} is not copied further: {} (key {}); the other tables are", table->qualified_source(),
                         bad.error.what(), bad.key);
            {
              std::lock_guard lock(error_mutex);
              if (std::none_of(res.refused.begin(), res.refused.end(), [&](const RefusedTable& x) { return x.table == table; }))
                res.refused.push_back({table, std::move(bad.error), std::move(bad.key)});
            }
            worker.emplace(cfg_, snapshot_name_, load_);  // the range's COPY was cut off mid-stream
            continue;
          }
          // Durable before the next range: a kill from here on does not copy this one again.
          if (progress) progress->done(i, n);
          rows += n;
          bytes += b;
          spdlog::info("snapshot: {} rows of {} copied (range {}/{}, {} rows so far)", n,
                       range(i).table->qualified_source(), i + 1, total, rows.load());
        }
      } catch (...) {
        failed = true;
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  res.rows = rows;
  res.bytes = bytes;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A stop is not a failure: the caller leaves the state at "snapshot", and the next run resumes
  // the ranges not done (snapshot_progress.h), or copies again what it copied here.
  if (stop.load()) {
    spdlog::info("initial snapshot stopped after {} rows: {}", res.rows,
                 progress ? "the next run copies the ranges not done" : "the next run copies again");
    return res;
  }
  if (first_error) std::rethrow_exception(first_error);
  return res;
}

int resolve_workers(const config::Config& cfg) { return choose_snapshot_workers(cfg).workers; }

}  // namespace pg2ch::capture::logical

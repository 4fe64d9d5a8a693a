#include "capture/logical/snapshot_copier.h"

#include <chrono>
#include <exception>
#include <fmt/format.h>
#include <mutex>
#include <readerwriterqueue/readerwritercircularbuffer.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "pg/connection.h"
#include "capture/logical/snapshot_workers.h"
#include "pg/copy_binary_parser.h"
#include "pg/copy_out.h"
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
// Tables smaller than this many 8 kB blocks are copied as one range.
constexpr std::int64_t kMinRangeBlocks = 1024;

struct Range {
  const pipeline::TableSchema* table;
  std::int64_t first_block;  // inclusive
  std::int64_t end_block;    // exclusive; -1 = to the end of the table
  std::string leaf;          // a partitioned table's leaf partition (quoted), else empty
};

std::string copy_statement(pg::Connection& conn, const Range& r) {
  return snapshot_copy_statement(conn, *r.table, r.first_block, r.end_block, r.leaf);
}

// Feeds parsed COPY rows into the RowBinary buffer currently being filled.
struct EncodingSink {
  const pipeline::RowEncoder& encoder;
  ByteBuffer* out = nullptr;
  std::vector<pipeline::ValueRef> values;
  std::uint64_t rows = 0;

  void row(std::span<const pg::FieldView> fields) {
    values.resize(fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
      values[i] = fields[i].is_null() ? pipeline::ValueRef::null() : pipeline::ValueRef::binary(fields[i].view());
    }
    encoder.encode_target_row(values, pipeline::kSnapshotVersion, *out);
    ++rows;
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
// whole snapshot starts over on the next run, so its partial rows do no harm).
struct StoppedMidRange {};

class Worker {
 public:
  Worker(const config::Config& cfg, const std::string& snapshot, pipeline::BulkLoad& load) : writer_(load.writer()) {
    pg_ = pg::Connection::connect(cfg.postgres.conninfo(), "source PostgreSQL " + cfg.postgres.describe());
    pg_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    pg_.exec(fmt::format("SET TRANSACTION SNAPSHOT {}", pg_.quote_literal(snapshot)));
  }

  std::uint64_t copy(const Range& r, std::uint64_t& bytes, const std::atomic<bool>& stop,
                     const std::function<void()>& alive, pipeline::PipelineObserver* observer) {
    const std::string sql = copy_statement(pg_, r);
    pg::Result started(PQexec(pg_.get(), sql.c_str()));
    if (started.status() != PGRES_COPY_OUT) throw pg::error_from_result(started, "starting COPY of " + r.table->qualified_source());

    pipeline::RowEncoder encoder(*r.table);
    EncodingSink sink{encoder, nullptr, {}, 0};
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
  void read_copy(const Range& r, ChunkPipe& pipe, EncodingSink& sink, std::uint64_t& bytes,
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

// Block counts of what a table's rows are read from: the table itself, or each leaf partition of
// a partitioned one (quoted name); a partitioned table with a leaf that is no plain table
// (a foreign table) is read whole.
std::vector<std::pair<std::string, std::int64_t>> relations_of(pg::Connection& conn, const pipeline::TableSchema& t) {
  const std::string oid = std::to_string(t.relation_oid);
  if (t.partitioned) {
    pg::Result leaves = conn.query(
        "SELECT n.nspname, c.relname, c.relkind, pg_relation_size(c.oid) / current_setting('block_size')::bigint "
        "FROM pg_partition_tree($1::oid) p JOIN pg_class c ON c.oid = p.relid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE p.isleaf ORDER BY p.level, c.oid",
        {oid});
    std::vector<std::pair<std::string, std::int64_t>> out;
    bool plain = true;
    for (int i = 0; i < leaves.rows(); ++i) {
      plain = plain && leaves.text(i, 2) == "r";
      out.emplace_back(conn.quote_identifier(leaves.text(i, 0)) + "." + conn.quote_identifier(leaves.text(i, 1)),
                       leaves.int64(i, 3));
    }
    if (plain && !out.empty()) return out;
  }
  pg::Result r = conn.query("SELECT pg_relation_size($1::oid) / current_setting('block_size')::bigint", {oid});
  return {{std::string(), r.int64(0, 0)}};
}

std::vector<Range> plan_ranges(const config::Config& cfg, const std::vector<const pipeline::TableSchema*>& tables,
                               int workers) {
  auto conn = pg::Connection::connect(cfg.postgres.conninfo(), "source PostgreSQL " + cfg.postgres.describe());
  std::vector<Range> ranges;
  for (const auto* t : tables) {
    const auto relations = relations_of(conn, *t);
    std::int64_t total = 0;
    for (const auto& rel : relations) total += rel.second;
    if (relations.size() > 1 && total <= std::max<std::int64_t>(kMinRangeBlocks, total / workers + 1)) {
      ranges.push_back({t, 0, -1, {}});  // small: one INSERT for all its partitions
      continue;
    }
    for (const auto& [leaf, blocks] : relations) {
      // One range per worker and table: every extra range is another INSERT whose end ClickHouse
      // finishes (last block sorted and written) while this worker's pipe runs dry. Measured on
      // 5M rows with one worker: four ranges were 10-25% slower than one.
      const std::int64_t per_range = std::max<std::int64_t>(kMinRangeBlocks, blocks / workers + 1);
      if (blocks <= per_range) {
        ranges.push_back({t, 0, -1, leaf});
        continue;
      }
      for (std::int64_t b = 0; b < blocks; b += per_range) {
        // The last range is open-ended: pages added since we measured hold no rows our snapshot
        // sees, but being open costs nothing and keeps the plan obviously complete.
        ranges.push_back({t, b, b + per_range >= blocks ? -1 : b + per_range, leaf});
      }
    }
  }
  return ranges;
}

}  // namespace

SnapshotCopier::SnapshotCopier(const config::Config& cfg, std::vector<const pipeline::TableSchema*> tables,
                               std::string snapshot_name, pipeline::BulkLoad& load)
    : cfg_(cfg), tables_(std::move(tables)), snapshot_name_(std::move(snapshot_name)), load_(load) {}

SnapshotResult SnapshotCopier::run(int workers, const std::atomic<bool>& stop, const std::function<void()>& alive,
                                   pipeline::PipelineObserver* observer) {
  std::string why = "logical.snapshot_workers";
  if (workers <= 0) {
    auto choice = choose_snapshot_workers(cfg_);
    workers = choice.workers;
    why = std::move(choice.reason);
  }
  const auto started = std::chrono::steady_clock::now();
  const std::vector<Range> ranges = plan_ranges(cfg_, tables_, workers);
  workers = std::min<int>(workers, static_cast<int>(ranges.size()));
  spdlog::info("initial snapshot: {} table(s) in {} range(s), {} worker(s) ({})", tables_.size(), ranges.size(), workers,
               why);

  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> rows{0}, bytes{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      try {
        Worker worker(cfg_, snapshot_name_, load_);
        for (std::size_t i = next++; i < ranges.size(); i = next++) {
          if (stop.load() || failed.load()) return;
          std::uint64_t b = 0;
          const std::uint64_t n = worker.copy(ranges[i], b, stop, alive, observer);
          rows += n;
          bytes += b;
          spdlog::info("snapshot: {} rows of {} copied (range {}/{}, {} rows so far)", n,
                       ranges[i].table->qualified_source(), i + 1, ranges.size(), rows.load());
        }
      } catch (...) {
        failed = true;
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  SnapshotResult res;
  res.rows = rows;
  res.bytes = bytes;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A stop is not a failure: the caller leaves the state at "snapshot", and the next run takes
  // the snapshot again from the start (an exported snapshot cannot be resumed).
  if (stop.load()) {
    spdlog::info("initial snapshot stopped after {} rows: the next run takes it again", res.rows);
    return res;
  }
  if (first_error) std::rethrow_exception(first_error);
  return res;
}

}  // namespace pg2ch::capture::logical

#include "capture/logical/watermark_copy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <unordered_set>

#include "capture/logical/logical_stream.h"
#include "capture/logical/snapshot_plan.h"
#include "capture/logical/table_copy.h"
#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "pg/copy_binary_parser.h"
#include "pg/copy_out.h"
#include "pg/quote_ident.h"
#include "pipeline/key_text.h"

namespace pg2ch::capture::logical {
namespace {

using pipeline::ValueRef;

constexpr std::size_t kFileBuffer = 1 << 20;

// A key as bytes, the same for a streamed row and a copied one: per key column its length (or
// 0xffffffff for NULL) and its binary value. A table without a key is keyed by every column.
void append_value(std::string& out, bool is_null, std::string_view data) {
  const auto n = is_null ? 0xffffffffu : static_cast<std::uint32_t>(data.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(data);
}

template <typename Each>
void for_each_key_column(const pipeline::TableSchema& t, Each&& each) {
  if (t.key_target_indexes.empty()) {
    for (std::size_t i = 0; i < t.target_columns.size(); ++i) each(i);
    return;
  }
  for (int ti : t.key_target_indexes) each(static_cast<std::size_t>(ti));
}

std::optional<std::string> stream_key(const pipeline::TableSchema& t, std::span<const ValueRef> row) {
  std::string key;
  bool known = true;
  for_each_key_column(t, [&](std::size_t ti) {
    const auto si = static_cast<std::size_t>(t.target_columns[ti].source_index);
    const ValueRef& v = si < row.size() ? row[si] : ValueRef::unchanged();
    if (v.kind == ValueRef::Kind::UnchangedToast) known = false;
    append_value(key, v.kind == ValueRef::Kind::Null, v.data);
  });
  if (!known) return std::nullopt;
  return key;
}

std::string copy_key(const pipeline::TableSchema& t, std::span<const pg::FieldView> fields) {
  std::string key;
  for_each_key_column(t, [&](std::size_t ti) { append_value(key, fields[ti].is_null(), fields[ti].view()); });
  return key;
}

std::string random_nonce() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

// The chunk's rows as inserts through the sink, except those whose key is in `left_out`.
struct ChunkFeeder {
  const pipeline::TableSchema& table;
  pipeline::ChangeSink& sink;
  const std::unordered_set<std::string>& left_out;
  std::vector<ValueRef> values;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::uint64_t skipped = 0;

  void row(std::span<const pg::FieldView> fields) {
    if (!left_out.empty() && left_out.contains(copy_key(table, fields))) {
      ++skipped;
      return;
    }
    values.assign(table.source_columns.size(), ValueRef::null());
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto si = static_cast<std::size_t>(table.target_columns[i].source_index);
      values[si] = fields[i].is_null() ? ValueRef::null() : ValueRef::binary(fields[i].view());
      bytes += fields[i].view().size();
    }
    sink.insert(table, values, pipeline::kSnapshotVersion);
    ++rows;
  }
};

[[noreturn]] void spool_failed(const std::string& dir, const char* doing) {
  throw Error(ErrorKind::Internal,
              fmt::format("{} a copy's chunk in {}: {}", doing, dir, std::strerror(errno)),
              "the directory must be writable and have room for one range of the table (logical.spool_dir)");
}

}  // namespace

WatermarkCopy::WatermarkCopy(const config::Config& cfg, const pipeline::TableSchema& table, pg::TableRef ref,
                             clickhouse::ServerCapabilities caps, pg::DescribeOptions describe, std::string digest,
                             std::unique_ptr<SnapshotProgress> progress, std::vector<std::uint32_t> recent,
                             std::string spool_dir)
    : cfg_(cfg),
      table_(table),
      caps_(std::move(caps)),
      digest_(std::move(digest)),
      progress_(std::move(progress)),
      spool_dir_(std::move(spool_dir)),
      nonce_(random_nonce()),
      recent_(std::move(recent)) {
  thread_ = std::thread([this, ref, describe] { run(ref, describe); });
}

WatermarkCopy::~WatermarkCopy() { stop(); }

void WatermarkCopy::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    // A range's COPY may take a while: the loop waits for none of it.
    if (cancel_) {
      std::array<char, 256> why{};
      PQcancel(cancel_.get(), why.data(), static_cast<int>(why.size()));
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WatermarkCopy::run(pg::TableRef ref, pg::DescribeOptions describe) {
  try {
    pg::Connection conn = connect_source(cfg_, false);
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      cancel_.reset(PQgetCancel(conn.get()));
    }
    // The copy reads the columns as they are now; other columns than the pipeline's (altered
    // before the copy began) would be sent as rows the table's schema does not describe.
    const pipeline::TableSchema schema = pg::describe_table(conn, ref, caps_, describe);
    check_columns_unchanged(schema, digest_);
    const std::string fingerprint = source_relations(conn, schema).fingerprint;
    const pipeline::TableSchema* tables[] = {&schema};
    progress_->start(conn, tables, 1, max_range_blocks(conn, std::min(cfg_.logical.snapshot_range_mb, kChunkMb)));
    {
      std::lock_guard lock(mutex_);
      plan_pending_ = progress_->pending();
      planned_ = true;
    }
    for (;;) {
      std::pair<std::size_t, std::uint64_t> asked;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || requested_.has_value(); });
        if (stop_) break;
        asked = *requested_;
        requested_.reset();
      }
      if (!read_chunk(conn, ref, describe, fingerprint, asked.first, asked.second)) break;
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    if (!stop_) error_ = std::current_exception();
  }
  std::lock_guard lock(mutex_);
  cancel_.reset();
}

bool WatermarkCopy::read_chunk(pg::Connection& conn, const pg::TableRef& ref, const pg::DescribeOptions& describe,
                               const std::string& fingerprint, std::size_t range, std::uint64_t seq) {
  const CopyRange& r = progress_->range(range);
  Chunk chunk;
  chunk.seq = seq;
  chunk.range = range;
  conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  // The lock first: from here to the COMMIT no ALTER or rewrite of the table commits, and the
  // snapshot, taken after it (LOCK takes none, as pg_dump relies on), sees any that came before,
  // so the catalog read under it below shows the columns the COPY reads.
  conn.exec(
      fmt::format("LOCK TABLE {}.{} IN ACCESS SHARE MODE", pg::quote_ident(ref.schema), pg::quote_ident(ref.name)));
  // The transaction's snapshot: its first query takes it, and the COPY reads under it.
  chunk.snapshot = pg::XidSnapshot::parse(conn.query("SELECT pg_catalog.pg_current_snapshot()::text").text(0, 0));
  const pipeline::TableSchema schema = pg::describe_table(conn, ref, caps_, describe);
  std::optional<std::string> changed;
  if (table_sync::source_digest(schema) != digest_) {
    changed = "its columns changed";
  } else if (source_relations(conn, schema).fingerprint != fingerprint) {
    changed = "it was rewritten (VACUUM FULL, CLUSTER, TRUNCATE) or its partitions changed";
  }
  if (changed) {
    conn.exec("ROLLBACK");
    std::lock_guard lock(mutex_);
    start_over_ = std::move(changed);
    return false;
  }
  chunk.data = open_anonymous_file(spool_dir_, kFileBuffer);
  if (!chunk.data) spool_failed(spool_dir_, "creating");
  const std::string sql = snapshot_copy_statement(conn, schema, r.first_block, r.end_block, r.leaf);
  pg::Result started(PQexec(conn.get(), sql.c_str()));
  if (started.status() != PGRES_COPY_OUT) {
    throw pg::error_from_result(started, "starting COPY of " + schema.qualified_source());
  }
  pg::read_copy_out(
      conn.get(), "copying " + schema.qualified_source(),
      [&](std::string_view data) {
        // A cancel that reached the server between two statements is dropped: end here instead.
        if (stopping_.load()) throw Error(ErrorKind::Internal, "copy stopped");
        if (std::fwrite(data.data(), 1, data.size(), chunk.data.get()) != data.size()) {
          spool_failed(spool_dir_, "writing");
        }
      },
      [] {});
  conn.exec("COMMIT");
  if (std::fflush(chunk.data.get()) != 0) spool_failed(spool_dir_, "writing");
  {
    std::lock_guard lock(mutex_);
    ready_ = std::move(chunk);
  }
  // After the chunk is ready: the loop may meet the watermark right away.
  conn.query("SELECT pg_catalog.pg_logical_emit_message(false, $1, $2)",
             {std::string(kWatermarkPrefix), fmt::format("{} {}", nonce_, seq)});
  return true;
}

void WatermarkCopy::request(std::size_t range) {
  awaited_ = ++seq_;
  {
    std::lock_guard lock(mutex_);
    requested_ = std::make_pair(range, *awaited_);
  }
  wake_.notify_all();
}

void WatermarkCopy::changed(std::uint32_t xid, std::span<const ValueRef> row) {
  auto key = stream_key(table_, row);
  seen_.push_back(Seen{xid, key.value_or(std::string()), false, !key.has_value()});
}

void WatermarkCopy::truncated(std::uint32_t xid) { seen_.push_back(Seen{xid, {}, true, false}); }

WatermarkCopy::Progress WatermarkCopy::poll(std::optional<Lsn> durable) {
  {
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    if (start_over_) return Progress::StartOver;
    if (!planned_) return Progress::Copying;
    if (pending_.empty() && next_ == 0 && !plan_pending_.empty()) pending_ = std::move(plan_pending_);
  }
  while (!sent_.empty() && durable && *durable >= sent_.front().position) {
    progress_->done(sent_.front().range, sent_.front().rows);
    sent_.pop_front();
  }
  if (awaited_) return Progress::Copying;
  if (next_ < pending_.size()) {
    request(pending_[next_++]);
    return Progress::Copying;
  }
  return sent_.empty() ? Progress::Done : Progress::Copying;
}

std::string WatermarkCopy::start_over_reason() const {
  std::lock_guard lock(mutex_);
  return start_over_.value_or(std::string());
}

void WatermarkCopy::watermark(std::string_view content, Lsn lsn, bool in_transaction, pipeline::ChangeSink& sink,
                              pipeline::PipelineObserver* observer) {
  if (!awaited_ || content != fmt::format("{} {}", nonce_, *awaited_)) return;  // another copy's, or an old one
  std::optional<Chunk> chunk;
  {
    std::lock_guard lock(mutex_);
    chunk = std::exchange(ready_, std::nullopt);
  }
  if (!chunk || chunk->seq != *awaited_) {
    throw Error(ErrorKind::Internal,
                fmt::format("copy of {}: watermark {} met before its chunk was ready", table_.qualified_source(),
                            *awaited_));
  }
  awaited_.reset();
  if (!send(*chunk, lsn, in_transaction, sink, observer)) request(chunk->range);
}

bool WatermarkCopy::send(Chunk& chunk, Lsn lsn, bool in_transaction, pipeline::ChangeSink& sink,
                         pipeline::PipelineObserver* observer) {
  const auto unseen = [&](std::uint32_t xid) { return !chunk.snapshot.sees(xid); };
  if (std::any_of(recent_.begin(), recent_.end(), unseen)) {
    spdlog::info("copy of {}: the snapshot of range {} did not see yet a transaction the stream applied before the "
                 "copy began; reading it again",
                 table_.qualified_source(), chunk.range + 1);
    return false;
  }
  recent_.clear();  // seen by this snapshot, so by every later one
  std::unordered_set<std::string> left_out;
  bool all = false;
  for (const Seen& s : seen_) {
    if (chunk.snapshot.sees(s.xid)) continue;
    if (s.unknown) {
      spdlog::info("copy of {}: a change of range {} had a key not sent whole (unchanged TOAST); reading it again",
                   table_.qualified_source(), chunk.range + 1);
      return false;  // seen_ kept: the next read checks them again
    }
    if (s.all) all = true;
    else left_out.insert(s.key);
  }
  std::erase_if(seen_, [&](const Seen& s) { return chunk.snapshot.sees(s.xid); });

  ChunkFeeder feeder{table_, sink, left_out, {}, 0, 0, 0};
  if (!in_transaction) sink.begin_transaction();
  if (!all) {
    try {
      pg::CopyBinaryParser parser(static_cast<int>(table_.target_columns.size()));
      std::rewind(chunk.data.get());
      std::vector<char> buffer(kFileBuffer);
      for (;;) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), chunk.data.get());
        if (n > 0) parser.feed(std::string_view(buffer.data(), n), feeder);
        if (n < buffer.size()) break;
      }
      if (std::ferror(chunk.data.get())) spool_failed(spool_dir_, "reading");
      parser.finish();
    } catch (const Error& e) {
      // A value the target cannot hold: this table's trouble, as in the stream (the caller stops
      // it; the sink drops what it holds of it).
      if (!table_sync::stops_only_its_table(e)) throw;
      refusal_ = Refusal{e, pipeline::key_text(table_, feeder.values)};
    }
  }
  // One past the watermark's start, inside its record: every position the stream handed over
  // before is at or below the start, every later one past the record's end, so the sink's durable
  // position reaches it only with this transaction, and needs no later change or keepalive.
  const Lsn position = lsn + 1;
  if (!in_transaction) sink.commit_transaction(position);
  if (refusal_) return true;
  sent_.push_back({chunk.range, position, feeder.rows});
  last_position_ = std::max(last_position_, position);
  rows_ += feeder.rows;
  bytes_ += feeder.bytes;
  ++chunks_;
  if (observer) observer->copied(table_, feeder.rows, feeder.bytes);
  spdlog::info("copy of {}: {} rows of range {}/{} sent in the stream's order at {}{}", table_.qualified_source(),
               feeder.rows, chunk.range + 1, progress_->size(), format_lsn(lsn),
               all ? " (none: a TRUNCATE came after its snapshot)"
                   : feeder.skipped ? fmt::format(" ({} left to the changes the stream carried)", feeder.skipped)
                                    : std::string());
  return true;
}

}  // namespace pg2ch::capture::logical

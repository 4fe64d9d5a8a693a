#include "pipeline/clickhouse_change_sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "clickhouse/ddl_runner.h"
#include "clickhouse/deduplication.h"
#include "clickhouse/insert_summary.h"
#include "clickhouse/target_table.h"

namespace pg2ch::pipeline {

ClickHouseChangeSink::ClickHouseChangeSink(clickhouse::HttpClient& client, std::string database,
                                           clickhouse::TargetLayout layout, config::BatchConfig batch,
                                           CurrentRowFetcher* toast_fetcher, RetryPolicy retry)
    : client_(client),
      database_(std::move(database)),
      layout_(std::move(layout)),
      insert_settings_(clickhouse::insert_settings(layout_)),
      limits_(batch),
      toast_fetcher_(toast_fetcher),
      retry_(retry),
      budget_(batch.max_inserts_per_second, Clock::now()) {
  if (layout_.async_insert) use_async_inserts();  // an older server is a configuration error at start
}

void ClickHouseChangeSink::set_batch_limits(const config::BatchConfig& limits) {
  limits_ = limits;
  budget_.set_rate(limits.max_inserts_per_second, Clock::now());
}

ClickHouseChangeSink::Batch& ClickHouseChangeSink::batch_for(const TableSchema& table) {
  auto it = batches_.find(&table);
  if (it != batches_.end()) return *it->second;
  auto b = std::make_unique<Batch>(table);
  b->body.reserve(std::min<std::size_t>(limits_.max_bytes + (1u << 16), 64u << 20));
  return *batches_.emplace(&table, std::move(b)).first->second;
}

void ClickHouseChangeSink::begin_transaction() {
  acks_.begin();
  xid_.reset();
}

void ClickHouseChangeSink::note_appended(Batch& b, std::uint64_t version) {
  b.lowest_version = std::min(b.lowest_version, version);
  b.highest_version = std::max(b.highest_version, version);
  if (b.first_seq == AckTracker::kNothingPending) {
    b.first_seq = acks_.current_seq();
    b.first_at = Clock::now();
  }
  ++b.rows;
  if (b.rows >= limits_.max_rows || b.body.size() >= limits_.max_bytes) {
    flush_unbudgeted(b);
    advance_acks();
  }
}

void ClickHouseChangeSink::insert(const TableSchema& table, std::span<const ValueRef> row, std::uint64_t version) {
  Batch& b = batch_for(table);
  b.encoder.encode_row(row, version, b.body);
  note_appended(b, version);
}

void ClickHouseChangeSink::update(const TableSchema& table, std::span<const ValueRef> old_row,
                                  std::span<const ValueRef> new_row, std::uint64_t version) {
  Batch& b = batch_for(table);
  // A changed key moves the row: the old key must disappear at this version.
  if (!old_row.empty() && !same_key(table, old_row, new_row)) {
    b.encoder.encode_delete(old_row, version, b.body);
    note_appended(b, version);
  }
  if (!has_unchanged_toast(new_row)) {
    b.encoder.encode_row(new_row, version, b.body);
    note_appended(b, version);
    return;
  }
  // REPLICA IDENTITY FULL sends the whole old row, detoasted: take the values from it. (With a
  // key-only old tuple the non-key columns are NULL placeholders, not values.)
  OwnedRow owned = OwnedRow::copy_of(new_row);
  const bool old_is_full = table.replica_identity == 'f' && !old_row.empty();
  bool resolved = true;
  for (std::size_t i = 0; i < owned.values.size(); ++i) {
    if (owned.values[i].kind != ValueRef::Kind::UnchangedToast) continue;
    if (old_is_full && i < old_row.size() && old_row[i].kind != ValueRef::Kind::UnchangedToast) {
      owned.values[i] = {old_row[i].kind, std::string(old_row[i].data)};
    } else {
      resolved = false;
    }
  }
  if (resolved) {
    auto refs = owned.refs();
    b.encoder.encode_row(refs, version, b.body);
  } else {
    b.toast_rows.push_back({std::move(owned), version, xid_});
  }
  note_appended(b, version);
}

void ClickHouseChangeSink::remove(const TableSchema& table, std::span<const ValueRef> old_row, std::uint64_t version) {
  Batch& b = batch_for(table);
  b.encoder.encode_delete(old_row, version, b.body);
  note_appended(b, version);
}

void ClickHouseChangeSink::truncate(const TableSchema& table) {
  flush();
  with_retries(retry_, "truncate " + table.target_name,
               [&] {
                 clickhouse::run_ddl(client_, layout_, clickhouse::truncate_statement(database_, table, layout_));
               });
  spdlog::info("truncated ClickHouse table {}.{} (TRUNCATE of {})", database_, table.target_name,
               table.qualified_source());
}

void ClickHouseChangeSink::commit_transaction(Position position) {
  acks_.commit(position);
  advance_acks();
}

void ClickHouseChangeSink::source_idle(Position position) {
  last_idle_ = Clock::now();
  acks_.idle(position);
  advance_acks();
}

std::chrono::milliseconds ClickHouseChangeSink::table_interval(const Batch& b) const {
  const auto interval = effective_table_interval(limits_.table_insert_interval, limits_.max_delay);
  return b.pressed ? std::max(interval, *b.pressed) : interval;
}

void ClickHouseChangeSink::look_at_parts(Clock::time_point now) {
  parts_looked_at_ = now;
  try {
    if (!part_limits_) part_limits_ = clickhouse::read_part_limits(client_);
    const auto parts = clickhouse::active_parts(client_, database_);
    for (auto& [schema, b] : batches_) {
      const auto found = parts.find(schema->target_name);
      const std::int64_t n = found == parts.end() ? 0 : found->second;
      if (observer_) observer_->target_parts(*schema, n);
      const auto pressed = clickhouse::pressed_interval(n, *part_limits_);
      if (pressed == b->pressed) continue;
      const std::string table = database_ + "." + schema->target_name;
      if (pressed) {
        spdlog::warn("{}: pg2ch now spaces its INSERTs into it at least {} s apart until merges bring it below {}",
                     clickhouse::describe_parts(table, n, *part_limits_),
                     std::chrono::duration_cast<std::chrono::seconds>(*pressed).count(), part_limits_->delay_at / 2);
      } else {
        spdlog::info("{} is down to {} active parts: its INSERTs follow the batch settings again", table, n);
      }
      b->pressed = pressed;
    }
  } catch (const Error& e) {
    // A look, not a write: the next INSERT meets any real trouble with the server.
    spdlog::debug("counting active parts in ClickHouse database {}: {}", database_, e.what());
  }
}

std::optional<std::chrono::milliseconds> ClickHouseChangeSink::poll() {
  const auto now = Clock::now();
  if (now - parts_looked_at_ >= kPartsLookEvery && !batches_.empty()) look_at_parts(now);
  std::vector<Due>& due = due_;
  due.clear();
  std::optional<Clock::time_point> next;
  for (auto& [_, b] : batches_) {
    if (b->rows == 0) continue;
    const auto delay =
        last_idle_ >= b->first_at ? std::min(limits_.max_delay, limits_.idle_flush) : limits_.max_delay;
    const auto at = std::max(b->first_at + delay, b->last_insert_at + table_interval(*b));
    if (at > now) {
      next = next ? std::min(*next, at) : at;
      continue;
    }
    due.push_back({b.get(), static_cast<double>(b->rows) * std::chrono::duration<double>(now - b->first_at).count()});
  }
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) { return a.row_seconds > b.row_seconds; });
  std::size_t flushed = 0;
  while (flushed < due.size() && budget_.try_take(now)) flush_batch(*due[flushed++].batch);
  if (flushed) advance_acks();
  const std::size_t waiting = due.size() - flushed;
  if (observer_) observer_->budget_waiting(waiting);
  if (waiting) {
    const auto token = budget_.next_token_at(now);
    next = next ? std::min(*next, token) : token;
  }
  if (!next) return std::nullopt;
  return std::chrono::ceil<std::chrono::milliseconds>(std::max(Clock::duration::zero(), *next - now));
}

void ClickHouseChangeSink::flush() {
  for (auto& [_, b] : batches_) {
    if (b->rows) flush_unbudgeted(*b);
  }
  advance_acks();
}

void ClickHouseChangeSink::flush_unbudgeted(Batch& b) {
  budget_.charge(Clock::now());
  flush_batch(b);
}

void ClickHouseChangeSink::discard(const TableSchema& table) {
  auto it = batches_.find(&table);
  if (it == batches_.end()) return;
  it->second->clear();
  advance_acks();
}

void ClickHouseChangeSink::resolve_toast(Batch& b) {
  if (!toast_fetcher_) {
    throw Error(ErrorKind::Internal, fmt::format("unchanged TOAST values in {} but no source connection to fetch them",
                                                 b.schema->qualified_source()));
  }
  std::vector<OwnedRow> keys;
  std::vector<std::uint64_t> xids;
  keys.reserve(b.toast_rows.size());
  for (const auto& t : b.toast_rows) {
    keys.push_back(t.row);
    if (t.xid) xids.push_back(*t.xid);
  }
  std::sort(xids.begin(), xids.end());
  xids.erase(std::unique(xids.begin(), xids.end()), xids.end());
  // A flush can come right after the commit was decoded, before the commit is visible: read
  // then, a row this transaction inserted or moved would be missing (and written as a delete),
  // and a TOAST value it set before this update would be the old one.
  std::vector<OwnedRow> current = toast_fetcher_->fetch(*b.schema, keys, xids);
  for (std::size_t r = 0; r < b.toast_rows.size(); ++r) {
    OwnedRow& row = b.toast_rows[r].row;
    const OwnedRow& now = current[r];
    if (now.values.empty()) {
      // The row is gone at the source, so a later DELETE of this key is still ahead in the
      // stream with a higher version; a key-only marker at this version is superseded by it.
      auto refs = row.refs();
      b.encoder.encode_delete(refs, b.toast_rows[r].version, b.body);
      continue;
    }
    for (std::size_t i = 0; i < row.values.size(); ++i) {
      if (row.values[i].kind == ValueRef::Kind::UnchangedToast) row.values[i] = now.values[i];
    }
    auto refs = row.refs();
    b.encoder.encode_row(refs, b.toast_rows[r].version, b.body);
  }
  b.toast_rows.clear();
}

void ClickHouseChangeSink::flush_batch(Batch& b) {
  if (!b.toast_rows.empty()) resolve_toast(b);
  const std::string what = fmt::format("insert of {} rows into {}.{}", b.rows, database_, b.schema->target_name);
  const auto started = Clock::now();
  // Built per flush, not per batch: a table whose columns changed in place (its rows before the
  // change flushed first) inserts its new columns from then on.
  const std::string insert_prefix = clickhouse::insert_statement(database_, *b.schema, layout_);
  // Asynchronous inserts: the server forms the blocks, so a token per batch means nothing to it,
  // and the answer counts no rows. A batch sent again is collapsed by (key, _version) all the same.
  const bool deduplicating = client_.capabilities().insert_deduplication_token && !layout_.async_insert;
  if (deduplicating) {
    insert_settings_["insert_deduplication_token"] =
        clickhouse::deduplication_token(b.lowest_version, b.highest_version, b.rows, b.body.view());
  }
  try {
    with_retries(retry_, what, [&] {
      const auto result = client_.insert(insert_prefix, b.body.view(), insert_settings_);
      // A Distributed table forwards the rows to the shards; what its summary counts is not checked.
      if (!layout_.distributed && !layout_.async_insert) {
        clickhouse::check_rows_written(what, b.rows, result, deduplicating);
      }
    });
  } catch (const Error& e) {
    // Retries are spent: a refusal of this table alone may stop just the table (the capture
    // decides); its rows are dropped with it and copied again before the table streams.
    if (!e.retriable() && refused_ && refused_(*b.schema, Error(e.kind(), what + ": " + e.what(), e.hint()))) {
      spdlog::warn("dropped the refused batch of {} rows for {}: the table is stopped", b.rows,
                   b.schema->qualified_source());
      b.clear();
      b.last_insert_at = Clock::now();
      return;
    }
    rethrow_with_context(e, what);  // the server's message may not name the table
  }
  if (observer_) observer_->written(*b.schema, b.rows, b.body.size(), Clock::now() - started);
  stats_.rows_written += b.rows;
  stats_.bytes_written += b.body.size();
  ++stats_.inserts;
  spdlog::debug("flushed {} rows ({} bytes) into {} in {} ms", b.rows, b.body.size(), b.schema->target_name,
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
  b.clear();
  b.last_insert_at = Clock::now();
}

void ClickHouseChangeSink::use_async_inserts() {
  const auto& caps = client_.capabilities();
  if (!caps.async_insert) {
    throw Error(ErrorKind::Config,
                fmt::format("clickhouse.async_insert = true needs ClickHouse 21.11 or newer; the server is {}",
                            caps.version.text),
                "remove clickhouse.async_insert (the insert budget, batch.max_inserts_per_second, bounds the "
                "INSERT rate on any server)");
  }
  // wait_for_async_insert: the answer comes once the server has written the rows to a part, so
  // "HTTP 200" still means durable and only then is anything acknowledged to the source.
  insert_settings_["async_insert"] = "1";
  insert_settings_["wait_for_async_insert"] = "1";
}

void ClickHouseChangeSink::advance_acks() {
  std::uint64_t oldest = AckTracker::kNothingPending;
  for (const auto& [_, b] : batches_) oldest = std::min(oldest, b->first_seq);
  acks_.advance(oldest);
}

}  // namespace pg2ch::pipeline

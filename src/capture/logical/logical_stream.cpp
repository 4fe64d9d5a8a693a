#include "capture/logical/logical_stream.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/logical/partition_watch.h"
#include "pg/pg_time.h"
#include "pipeline/key_text.h"
#include "pg/pgoutput_stream.h"
#include "pg/replication_protocol.h"
#include "pg/socket_wait.h"

namespace pg2ch::capture::logical {

namespace pgo = pg::pgoutput;

using pipeline::ValueRef;

LogicalStream::LogicalStream(pg::Connection& replication_conn, TableGate& gate, pipeline::ChangeSink& sink,
                             StreamOptions options)
    : conn_(replication_conn), gate_(gate), sink_(sink), options_(std::move(options)), spool_(options_.spool_dir) {
  sink_.set_refusal_handler([this](const pipeline::TableSchema& table, const Error& error) {
    if (!table_sync::stops_only_its_table(error)) return false;
    gate_.stop_for_refused_insert(table, error);
    return true;
  });
}

LogicalStream::~LogicalStream() { sink_.set_refusal_handler({}); }

void LogicalStream::start() {
  // Starting at 0/0 lets the server resume from the slot's confirmed_flush_lsn.
  const std::string sql = fmt::format(
      "START_REPLICATION SLOT {} LOGICAL 0/0 (proto_version '{}', publication_names {}, binary 'true', "
      "messages 'true'{})",
      conn_.quote_identifier(options_.slot), options_.streaming ? 2 : 1,
      conn_.quote_literal(conn_.quote_identifier(options_.publication)), options_.streaming ? ", streaming 'on'" : "");
  pg::Result r(PQexec(conn_.get(), sql.c_str()));
  if (r.status() != PGRES_COPY_BOTH) {
    if (r.sqlstate() == "55006") {
      // Retriable for the same reason as in drop_slot: our own lost session may still hold it.
      throw Error(ErrorKind::Config, fmt::format("replication slot {} is already active", options_.slot),
                  "another pg2ch process streams from this slot (stop it), or the server has not yet noticed "
                  "that an earlier connection of this one is gone (wal_sender_timeout)",
                  true);
    }
    if (r.sqlstate() == "55000") {
      // An invalidated slot (max_slot_wal_keep_size): the WAL it needed is gone for good.
      throw Error(ErrorKind::Schema, fmt::format("replication slot {} cannot stream: {}", options_.slot, r.error_message()),
                  "changes were lost at the source: delete the state file (state.path) and run again to take a "
                  "fresh snapshot");
    }
    if (r.sqlstate() == "42704") {
      throw Error(ErrorKind::Schema, fmt::format("replication slot {} does not exist", options_.slot),
                  "remove the state file (state.path) so `pg2ch run` takes a fresh snapshot");
    }
    throw pg::error_from_result(r, "starting replication from slot " + options_.slot);
  }
  spdlog::info("streaming from slot {} (publication {}{})", options_.slot, options_.publication,
               options_.streaming ? "; transactions larger than logical_decoding_work_mem arrive while in progress, "
                                    "spooled in " + spool_.directory()
                                  : "");
  last_status_ = Clock::now();
}

bool LogicalStream::reached_stop_at() const {
  return options_.stop_at != kInvalidLsn && sink_.durable_position().value_or(0) >= options_.stop_at;
}

capture::Turn LogicalStream::turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) {
  PGconn* c = conn_.get();
  // A bounded run of messages per turn keeps age-based flushes, status updates and the loop's
  // own work (watchdog, summary) flowing under a continuous stream.
  for (int i = 0; i < kMessagesPerTurn && !stop.load(std::memory_order_relaxed); ++i) {
    char* buf = nullptr;
    const int n = PQgetCopyData(c, &buf, /*async=*/1);
    if (n > 0) {
      std::unique_ptr<char, decltype(&PQfreemem)> owned(buf, &PQfreemem);
      handle_copy_data({buf, static_cast<std::size_t>(n)});
      if (reached_stop_at()) return capture::Turn::CaughtUp;
      continue;
    }
    if (n == 0) {
      // Everything up to the stop position has arrived: nothing more is worth waiting for, so the
      // last batches go now instead of after their delay or the table's insert interval.
      if (options_.stop_at != kInvalidLsn && !in_transaction_ && stats_.received >= options_.stop_at) sink_.flush();
      const auto next_flush = sink_.poll();
      maybe_send_status(false);
      if (reached_stop_at()) return capture::Turn::CaughtUp;
      auto timeout = options_.status_interval - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    Clock::now() - last_status_);
      if (next_flush) timeout = std::min(timeout, *next_flush);
      timeout = std::clamp(timeout, std::chrono::milliseconds(1), std::max(max_wait, std::chrono::milliseconds(1)));
      pg::wait_for_input(c, timeout, "reading the replication stream from slot " + options_.slot);
      return capture::Turn::More;
    }
    if (n == -1) {
      pg::Result r(PQgetResult(c));
      // A walsender ends the stream without an error when its server shuts down (fast shutdown
      // sends CopyDone first): the server is going away, which a retry waits out.
      if (r.sqlstate().empty() && r.error_message().empty()) {
        throw Error(ErrorKind::Connection,
                    "streaming from slot " + options_.slot + ": the server ended the stream (shutting down?)",
                    "pg2ch reconnects once PostgreSQL is back", true);
      }
      throw pg::error_from_result(r, "streaming from slot " + options_.slot + " (server ended the stream)");
    }
    throw pg::error_from_connection(c, "streaming from slot " + options_.slot);
  }
  sink_.poll();
  maybe_send_status(false);
  return reached_stop_at() ? capture::Turn::CaughtUp : capture::Turn::More;
}

std::optional<double> LogicalStream::lag_seconds() {
  const auto durable = sink_.durable_position().value_or(0);
  while (!commit_times_.empty() && commit_times_.front().first <= durable) commit_times_.pop_front();
  if (commit_times_.empty()) return 0.0;
  return std::max<double>(0.0, (pg::pg_now_micros() - commit_times_.front().second) / 1e6);
}

void LogicalStream::finish() {
  // Everything received becomes durable, then the server learns about it.
  if (!in_transaction_) sink_.flush();
  maybe_send_status(true);
}

void LogicalStream::handle_copy_data(std::string_view data) {
  if (data.empty()) throw ProtocolError("empty CopyData message in the replication stream");
  switch (static_cast<pg::ReplicationMessageType>(data[0])) {
    case pg::ReplicationMessageType::XLogData: {
      const pg::XLogData x = pg::decode_xlog_data(data);
      stats_.received = std::max(stats_.received, x.wal_end);
      handle_pgoutput(x.payload, x.data_start);
      return;
    }
    case pg::ReplicationMessageType::PrimaryKeepalive: {
      const pg::PrimaryKeepalive k = pg::decode_primary_keepalive(data);
      stats_.received = std::max(stats_.received, k.wal_end);
      if (!in_transaction_) {
        sink_.source_idle(k.wal_end);
        last_position_ = std::max(last_position_, k.wal_end);
      }
      if (k.reply_requested) {
        send_status(false);
      } else {
        maybe_send_status(false);
      }
      return;
    }
    default:
      throw ProtocolError(fmt::format("unexpected replication message type 0x{:02x}", static_cast<unsigned char>(data[0])));
  }
}

template <typename Apply>
void LogicalStream::apply_change(const pipeline::TableSchema& table, const std::vector<ValueRef>& key_row,
                                 Apply&& apply) {
  ++stats_.changes;
  try {
    apply();
  } catch (const Error& e) {
    // A value this table's target cannot hold (or cannot be decoded for it): this table's
    // trouble, not the pipeline's. Anything else (a lost connection, a server error) is.
    if (!table_sync::stops_only_its_table(e)) throw;
    gate_.stop_for_bad_change(table, e, pipeline::key_text(table, key_row));
    sink_.discard(table);
  }
}

std::span<const ValueRef> LogicalStream::convert(const pipeline::TableSchema& table, const pgo::Tuple& tuple,
                                                 std::vector<ValueRef>& scratch, std::vector<std::string>& widened) {
  // Another shape only for a row from before its columns changed in place, which the gate lets
  // through (table_gate.h): fewer columns (the added ones were NULL then, or their fast default),
  // older types (widened), columns dropped since (left out).
  const OlderShape* older = gate_.older_shape(table.relation_oid);
  const std::size_t expected = older ? older->index.size() : table.source_columns.size();
  if (tuple.size() != expected) {
    throw ProtocolError(fmt::format("tuple for {} has {} columns, expected {}", table.qualified_source(), tuple.size(),
                                    expected));
  }
  scratch.assign(table.source_columns.size(), ValueRef::null());
  if (older) {
    widened.resize(tuple.size());
    for (const auto& [i, value] : older->filled) scratch[static_cast<std::size_t>(i)] = ValueRef::binary(value);
  }
  for (std::size_t k = 0; k < tuple.size(); ++k) {
    const int at = older ? older->index[k] : static_cast<int>(k);
    if (at < 0) continue;  // a column dropped since: its target column no longer takes values
    const auto i = static_cast<std::size_t>(at);
    switch (tuple[k].kind) {
      case pgo::ValueKind::Binary:
        if (older) {
          const auto& c = table.source_columns[i];
          scratch[i] = ValueRef::binary(
              widen_value(older->types[k], {c.declared_type_oid, c.declared_typmod}, tuple[k].data, widened[k]));
        } else {
          scratch[i] = ValueRef::binary(tuple[k].data);
        }
        break;
      case pgo::ValueKind::Null: scratch[i] = ValueRef::null(); break;
      case pgo::ValueKind::UnchangedToast: scratch[i] = ValueRef::unchanged(); break;
      case pgo::ValueKind::Text:
        if (table.source_columns[i].target_index < 0) {
          scratch[i] = ValueRef::null();  // excluded column: value not needed
          break;
        }
        throw Error(ErrorKind::Schema,
                    fmt::format("column {} of {} (type {}) arrived in text format", table.source_columns[i].name,
                                table.qualified_source(), table.source_columns[i].type.name),
                    "the type has no binary send function; exclude the column in the table's config");
    }
  }
  return scratch;
}

void LogicalStream::begin_transaction(std::uint32_t xid, std::int64_t commit_time) {
  in_transaction_ = true;
  transaction_xid_ = xid;
  truncated_in_transaction_.clear();
  sink_.begin_transaction();
  sink_.transaction_context({xid, pg::pg_to_unix_micros(commit_time) / 1000});
}

void LogicalStream::commit_transaction(Lsn commit_lsn, Lsn end_lsn, std::int64_t commit_time) {
  in_transaction_ = false;
  if (recent_xids_.size() < kRecentTransactions) {
    recent_xids_.push_back(transaction_xid_);
  } else {
    recent_xids_[recent_next_] = transaction_xid_;
    recent_next_ = (recent_next_ + 1) % kRecentTransactions;
  }
  transaction_xid_ = 0;
  ++stats_.transactions;
  on_relations(commit_lsn);  // none: a Relation always comes right before a change
  // One sample per 100 ms of commit time is enough for a lag in seconds, and keeps the
  // queue small while the sink cannot write.
  constexpr std::int64_t kSampleEveryUs = 100'000;
  if (commit_times_.empty() || commit_time - commit_times_.back().second >= kSampleEveryUs) {
    commit_times_.emplace_back(end_lsn, commit_time);
  }
  sink_.commit_transaction(end_lsn);
  last_position_ = std::max(last_position_, end_lsn);
}

std::vector<std::uint32_t> LogicalStream::recent_transactions() const {
  std::vector<std::uint32_t> out = recent_xids_;
  if (in_transaction_) out.push_back(transaction_xid_);
  return out;
}

void LogicalStream::truncate_here(const pipeline::TableSchema& table) {
  if (in_transaction_) {
    sink_.truncate(table);
    return;
  }
  // At a position already handed over: it claims nothing new, and the sink makes it durable
  // only after everything sent before it (pipeline/ack_tracker.h).
  sink_.begin_transaction();
  sink_.truncate(table);
  sink_.commit_transaction(last_position_);
}

void LogicalStream::handle_streamed(std::string_view payload) {
  switch (static_cast<pgo::StreamTag>(payload.front())) {
    case pgo::StreamTag::Start: {
      const auto m = pgo::decode_stream_start(payload);
      if (in_stream_) throw ProtocolError(fmt::format("Stream Start of {} inside the block of {}", m.xid, stream_xid_));
      in_stream_ = true;
      stream_xid_ = m.xid;
      spool_.start(m.xid, m.first_segment);
      return;
    }
    case pgo::StreamTag::Stop:
      pgo::check_stream_stop(payload);
      in_stream_ = false;
      return;
    case pgo::StreamTag::Abort: {
      const auto m = pgo::decode_stream_abort(payload);
      spool_.abort(m.xid, m.subxid);
      if (m.xid == m.subxid) spdlog::debug("streamed transaction {} rolled back: its spooled changes are dropped", m.xid);
      return;
    }
    case pgo::StreamTag::Commit: {
      const auto m = pgo::decode_stream_commit(payload);
      spdlog::debug("streamed transaction {} committed at {}: applying its spooled changes", m.xid,
                    format_lsn(m.commit_lsn));
      begin_transaction(m.xid, m.commit_time);
      spool_.replay(m.xid, [&](Lsn position, std::string_view message) { handle_pgoutput(message, position); });
      commit_transaction(m.commit_lsn, m.end_lsn, m.commit_time);
      return;
    }
  }
}

void LogicalStream::handle_pgoutput(std::string_view payload, Lsn data_start) {
  if (options_.streaming && !in_transaction_) {
    // Protocol 2: a change inside a stream block waits in the spool for its transaction's end.
    if (pgo::is_stream_control(payload)) {
      handle_streamed(payload);
      return;
    }
    if (in_stream_) {
      const std::uint32_t subxid = pgo::split_streamed_change(payload, streamed_v1_);
      spool_.append(stream_xid_, subxid, data_start, streamed_v1_);
      return;
    }
  }
  switch (decoder_.decode(payload)) {
    case pgo::MessageType::Begin: {
      const auto& b = decoder_.begin();
      begin_transaction(b.xid, b.commit_time);
      return;
    }
    case pgo::MessageType::Commit: {
      const auto& c = decoder_.commit();
      commit_transaction(c.commit_lsn, c.end_lsn, c.commit_time);
      return;
    }
    case pgo::MessageType::Relation:
      // Its own position is 0/0 (a walsender gives a position only to a transaction's last write
      // for a change, and pgoutput writes a Relation as a first one): the gate hears of it with
      // the position of the change it describes, which follows it.
      // (Kept as bytes: the decoded message points into this CopyData buffer.)
      pending_relations_.emplace_back(payload);
      return;
    case pgo::MessageType::Insert: {
      const auto& m = decoder_.insert();
      on_relations(data_start);
      changed(m.relation_oid);
      const auto* t = gate_.applies(m.relation_oid);
      if (!t) return;
      apply_change(*t, new_values_, [&] {
        const auto row = convert(*t, m.new_tuple, new_values_, new_widened_);
        sink_.insert(*t, row, data_start);
        watch(*t, row);
      });
      return;
    }
    case pgo::MessageType::Update: {
      const auto& m = decoder_.update();
      on_relations(data_start);
      changed(m.relation_oid);
      const auto* t = gate_.applies(m.relation_oid);
      if (!t) return;
      apply_change(*t, new_values_, [&] {
        std::span<const ValueRef> old_row;
        if (m.has_old()) old_row = convert(*t, m.old_tuple, old_values_, old_widened_);
        const auto new_row = convert(*t, m.new_tuple, new_values_, new_widened_);
        sink_.update(*t, old_row, new_row, data_start);
        if (!old_row.empty()) watch(*t, old_row);
        watch(*t, new_row);
      });
      return;
    }
    case pgo::MessageType::Delete: {
      const auto& m = decoder_.remove();
      on_relations(data_start);
      changed(m.relation_oid);
      const auto* t = gate_.applies(m.relation_oid);
      if (!t) return;
      apply_change(*t, old_values_, [&] {
        const auto row = convert(*t, m.old_tuple, old_values_, old_widened_);
        sink_.remove(*t, row, data_start);
        watch(*t, row);
      });
      return;
    }
    case pgo::MessageType::Truncate:
      on_relations(data_start);
      for (std::uint32_t oid : decoder_.truncate().relation_oids) {
        if (const auto* t = gate_.applies(oid)) {
          truncated_in_transaction_.push_back(oid);
          ++stats_.changes;
          sink_.truncate(*t);
          gate_.truncated(*t);
          if (options_.watcher && options_.watcher->watched() == t) options_.watcher->truncated(transaction_xid_);
        }
      }
      return;
    case pgo::MessageType::Message: on_message(decoder_.message()); return;
    case pgo::MessageType::Type:
    case pgo::MessageType::Origin: return;
  }
}

void LogicalStream::on_message(const pgo::LogicalMessage& m) {
  if (m.prefix == kWatermarkPrefix && !m.transactional()) {
    if (options_.watcher) options_.watcher->watermark(m.content, m.lsn, in_transaction_);
    return;
  }
  if (m.prefix != kMessagePrefix || !m.transactional()) return;
  const auto oids = parse_truncated_message(m.content);
  if (!oids) {
    spdlog::warn("ignoring a {} message that does not list oids", kMessagePrefix);
    return;
  }
  // The partition first, then its ancestors: at most one of them is replicated (pg/catalog.h).
  for (std::uint32_t oid : *oids) {
    if (std::find(truncated_in_transaction_.begin(), truncated_in_transaction_.end(), oid) !=
        truncated_in_transaction_.end()) {
      return;  // the whole table was truncated just before: this partition was empty
    }
    if (const auto* t = gate_.applying(oid)) {
      spdlog::info("a partition of {} was truncated: copying the table again", t->qualified_source());
      if (options_.on_partition_truncated) options_.on_partition_truncated(*t);
      return;
    }
  }
}

void LogicalStream::on_relations(Lsn position) {
  for (const auto& payload : pending_relations_) {
    relation_decoder_.decode(payload);
    if (const auto* stopped = gate_.on_relation(relation_decoder_.relation(), position)) sink_.discard(*stopped);
  }
  pending_relations_.clear();
}

void LogicalStream::maybe_send_status(bool force) {
  const Lsn durable = sink_.durable_position().value_or(kInvalidLsn);
  const bool moved = durable > last_sent_flush_;
  const bool due = Clock::now() - last_status_ >= options_.status_interval;
  if (force || moved || due) send_status(false);
}

void LogicalStream::send_status(bool reply_requested) {
  pg::StandbyStatusUpdate s;
  const Lsn durable = sink_.durable_position().value_or(kInvalidLsn);
  if (options_.record_confirm_bound && durable != kInvalidLsn && durable > confirm_bound_) {
    // Everything received so far: one record covers the confirmations until the stream passes it.
    confirm_bound_ = std::max(durable, stats_.received);
    options_.record_confirm_bound(confirm_bound_);
  }
  s.write = stats_.received;
  s.flush = durable;
  s.apply = durable;
  s.client_time = pg::pg_now_micros();
  s.reply_requested = reply_requested;
  const std::string msg = pg::encode_standby_status_update(s);
  if (PQputCopyData(conn_.get(), msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(conn_.get()) != 0) {
    throw pg::error_from_connection(conn_.get(), "sending a status update for slot " + options_.slot);
  }
  last_sent_flush_ = std::max(last_sent_flush_, durable);
  stats_.confirmed = last_sent_flush_;
  last_status_ = Clock::now();
}

}  // namespace pg2ch::capture::logical

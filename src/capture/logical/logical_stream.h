#pragma once
// The streaming half of the logical capture: START_REPLICATION with pgoutput, decode, hand
// changes to the ChangeSink, and report progress back to the server.
//
// Design note (after pg_recvlogical.c and supabase/etl's apply loop):
//  * The loop reads CopyData asynchronously and, between messages, gives the sink its chance to
//    flush by age; when idle it waits on the socket until the next flush or status deadline.
//  * Standby status updates carry write = highest WAL position received and flush = apply = the
//    sink's durable position — never more. The slot's confirmed_flush_lsn therefore only moves
//    past a transaction once ClickHouse accepted all of its rows.
//  * A keepalive between transactions means the server has sent every transaction committed
//    before its wal_end, so that position is handed to the sink as idle; once everything
//    buffered is durable, the slot advances even if no published table changes (otherwise an
//    idle pipeline would pin WAL forever). Keepalives inside a transaction are not positions.
//  * A Relation message carries no position of its own (0/0); the gate learns of it at the
//    position of the change it precedes, so "before the point where a table's columns changed"
//    (table_gate.h) compares change positions.
//  * Which tables' changes are applied is the TableGate's call (table_gate.h): a table that stops
//    (a bad value, a schema change) stops alone, its buffered rows are discarded, and the others
//    stream on while the slot advances.
//  * pg_logical_emit_message() messages are asked for (`messages 'true'`) for the TRUNCATE of a
//    partition, which pgoutput does not send itself (partition_watch.h), and for the watermarks
//    of a copy beside the stream (watermark_copy.h); others are ignored.
//  * Status updates go out when the durable position moves, every status_interval, and at once
//    when the server asks (reply_requested), which keeps wal_sender_timeout from firing.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/change_source.h"
#include "capture/logical/table_gate.h"
#include "capture/logical/transaction_spool.h"
#include "common/lsn.h"
#include "pg/connection.h"
#include "pg/pgoutput_decoder.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::logical {

// The prefix of a copy's watermark messages (pg_logical_emit_message, not transactional).
inline constexpr std::string_view kWatermarkPrefix = "pg2ch.copy";

// A copy beside the stream that sends its rows in the stream's order (watermark_copy.h): told, on
// the loop's thread, of every change the stream applies to the table it copies, and of every
// watermark message.
class StreamWatcher {
 public:
  virtual ~StreamWatcher() = default;
  // The table watched, if any (asked for every change: cheap).
  virtual const pipeline::TableSchema* watched() const = 0;
  // A row (by source column) a change of transaction `xid` touched: an INSERT's, an UPDATE's old
  // (when sent) and new, a DELETE's.
  virtual void changed(std::uint32_t xid, std::span<const pipeline::ValueRef> row) = 0;
  virtual void truncated(std::uint32_t xid) = 0;
  // A non-transactional message with prefix kWatermarkPrefix, at `lsn`; `in_transaction` when it
  // came inside a transaction being decoded.
  virtual void watermark(std::string_view content, Lsn lsn, bool in_transaction) = 0;
};

struct StreamOptions {
  std::string slot;
  std::string publication;
  std::chrono::milliseconds status_interval{10000};
  // pgoutput protocol 2 with `streaming 'on'` (PostgreSQL 14+): large transactions arrive while
  // they run and wait in a TransactionSpool under spool_dir until their commit.
  bool streaming = false;
  std::string spool_dir;
  // Stop after this position was made durable (tests and benchmarks); 0 = run until stopped.
  Lsn stop_at = kInvalidLsn;
  // A partition of a table the gate applies was truncated (partition_watch.h): called at once,
  // before the stream reads on, so a durable request is stored before the slot can move past it.
  std::function<void(const pipeline::TableSchema&)> on_partition_truncated;
  // Called before the server hears of a flush position past the last bound it recorded, with a
  // new bound (at least that position): the slot is never confirmed past a recorded bound, so a
  // slot found past it later was moved by someone else (dropped and created again, or advanced).
  std::function<void(Lsn)> record_confirm_bound;
  // May be null; must outlive the stream's turns.
  StreamWatcher* watcher = nullptr;
};

struct StreamStats {
  std::uint64_t transactions = 0;
  std::uint64_t changes = 0;
  Lsn received = kInvalidLsn;
  Lsn confirmed = kInvalidLsn;
};

class LogicalStream {
 public:
  // Registers itself as the sink's refusal handler (a refused table stops through the gate) ...
  LogicalStream(pg::Connection& replication_conn, TableGate& gate, pipeline::ChangeSink& sink, StreamOptions options);
  // ... until it is gone.
  ~LogicalStream();
  LogicalStream(const LogicalStream&) = delete;
  LogicalStream& operator=(const LogicalStream&) = delete;

  // START_REPLICATION from the slot's confirmed position.
  void start();
  // Decodes what has arrived into the sink, or waits up to `max_wait` for more; sends status
  // updates as due. CaughtUp once StreamOptions::stop_at is durable.
  capture::Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop);
  // Orderly stop: flushes and confirms what is durable.
  void finish();
  // Seconds since the commit of the oldest transaction received and not yet durable (0 when
  // everything received is durable), to 100 ms; source and local clocks are assumed in step.
  std::optional<double> lag_seconds();

  const StreamStats& stats() const { return stats_; }
  // The transaction whose changes are being decoded (pgoutput's 32-bit xid); 0 between them.
  std::uint32_t transaction_xid() const { return transaction_xid_; }
  // The transactions whose changes the stream handed to the sink lately: the last
  // kRecentTransactions committed, and the one being decoded. A copy beside the stream checks
  // its snapshots see them (watermark_copy.h: a commit is decoded a moment before snapshots see it).
  std::vector<std::uint32_t> recent_transactions() const;
  // Sends a TRUNCATE of `table` through the sink at this point of the stream: inside the
  // transaction being decoded, or in one of its own at the last position handed to the sink.
  void truncate_here(const pipeline::TableSchema& table);

 private:
  using Clock = std::chrono::steady_clock;

  static constexpr int kMessagesPerTurn = 1024;
  static constexpr std::size_t kRecentTransactions = 65536;

  bool reached_stop_at() const;
  void handle_copy_data(std::string_view data);
  void handle_pgoutput(std::string_view payload, Lsn data_start);
  // Stream Start/Stop/Commit/Abort (pg/pgoutput_stream.h).
  void handle_streamed(std::string_view payload);
  void begin_transaction(std::uint32_t xid, std::int64_t commit_time);
  void commit_transaction(Lsn commit_lsn, Lsn end_lsn, std::int64_t commit_time);
  // Hands the Relation messages received since the last change to the gate, at `position`: the
  // change they came before.
  void on_relations(Lsn position);
  // A pg_logical_emit_message() message (partition_watch.h).
  void on_message(const pg::pgoutput::LogicalMessage& m);
  // A change of relation `oid`: a partition truncated after it is no longer known to be empty.
  void changed(std::uint32_t oid) {
    if (!truncated_in_transaction_.empty()) std::erase(truncated_in_transaction_, oid);
  }
  // Hands one change of `table` to the sink; a value the target cannot hold stops the table.
  // `key_row` is where the change's row is decoded to (for the key in the error).
  template <typename Apply>
  void apply_change(const pipeline::TableSchema& table, const std::vector<pipeline::ValueRef>& key_row, Apply&& apply);
  // `widened` holds the bytes of values widened from an older type, which `scratch` points into.
  std::span<const pipeline::ValueRef> convert(const pipeline::TableSchema& table, const pg::pgoutput::Tuple& tuple,
                                              std::vector<pipeline::ValueRef>& scratch,
                                              std::vector<std::string>& widened);
  // Tells the watcher of a row a change of `table` touched, when it watches the table.
  void watch(const pipeline::TableSchema& table, std::span<const pipeline::ValueRef> row) {
    if (options_.watcher && options_.watcher->watched() == &table) options_.watcher->changed(transaction_xid_, row);
  }
  void maybe_send_status(bool force);
  void send_status(bool reply_requested);

  pg::Connection& conn_;
  TableGate& gate_;
  pipeline::ChangeSink& sink_;
  StreamOptions options_;
  pg::PgoutputDecoder decoder_;
  TransactionSpool spool_;
  bool in_stream_ = false;         // between Stream Start and Stream Stop
  std::uint32_t stream_xid_ = 0;   // the transaction of that block
  std::uint32_t transaction_xid_ = 0;  // transaction_xid()
  std::vector<std::uint32_t> recent_xids_;  // a ring of the last committed (recent_transactions())
  std::size_t recent_next_ = 0;
  Lsn last_position_ = kInvalidLsn;  // the last commit or idle position handed to the sink
  std::string streamed_v1_;        // a streamed change rewritten in protocol 1 layout
  std::vector<pipeline::ValueRef> old_values_;
  std::vector<pipeline::ValueRef> new_values_;
  std::vector<std::string> old_widened_;
  std::vector<std::string> new_widened_;
  std::vector<std::string> pending_relations_;  // Relation messages not yet given to the gate
  pg::PgoutputDecoder relation_decoder_;         // decodes them when they are
  bool in_transaction_ = false;
  // Tables truncated in this transaction with no change of them since: their partitions are empty.
  std::vector<std::uint32_t> truncated_in_transaction_;
  std::deque<std::pair<Lsn, std::int64_t>> commit_times_;  // (end LSN, commit time in PostgreSQL µs)
  Lsn last_sent_flush_ = kInvalidLsn;
  Lsn confirm_bound_ = kInvalidLsn;  // recorded through record_confirm_bound
  Clock::time_point last_status_{};
  StreamStats stats_;
};

}  // namespace pg2ch::capture::logical

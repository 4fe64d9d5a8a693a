#pragma once
// Where the changes of a transaction streamed while in progress (pgoutput protocol 2, see
// pg/pgoutput_stream.h) wait for its Stream Commit or Stream Abort.
//
// Nothing of an uncommitted transaction may reach ClickHouse or be acknowledged, and a
// transaction of any size must not cost memory, so each one is written to an anonymous file
// (O_TMPFILE: it disappears with the process, whatever the way it ends) in protocol 1 layout
// with its (sub)transaction xid and WAL position per change. At Stream Commit the changes are
// read back in order and handed to the capture like an ordinary transaction's; at Stream Abort
// the file is closed. This mirrors what PostgreSQL's own apply worker does with streamed
// transactions (replication/logical/worker.c, "stream_open_file").
//
// Why no fsync and no state: the spool never needs to survive a crash. The slot's position only
// moves past a transaction when its commit is durable in ClickHouse, so after a restart the
// server decodes and streams any transaction not yet committed from its first change again
// (with first_segment set).
//
// A subtransaction rolled back (Stream Abort with subxid != xid) drops its changes at replay —
// except its Relation messages: pgoutput sends a table's Relation once per streamed transaction,
// so a later change of another subtransaction may rely on one that came with the aborted one.
//
// Errors: exceptions (pg2ch::Error) naming the spool directory; a full disk stops the pipeline
// with the path and the fix.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "capture/logical/anonymous_file.h"
#include "common/lsn.h"

namespace pg2ch::capture::logical {

class TransactionSpool {
 public:
  // `directory`: where the anonymous files live (created if missing).
  explicit TransactionSpool(std::string directory);

  // A Stream Start: the first block of `xid` drops anything kept for it before.
  void start(std::uint32_t xid, bool first_segment);
  // One change of subtransaction `subxid` (== xid for the top level) of streamed transaction
  // `xid`, at WAL position `position`, as a protocol 1 message.
  void append(std::uint32_t xid, std::uint32_t subxid, Lsn position, std::string_view message);
  // Stream Abort: the whole transaction (subxid == xid) or one subtransaction.
  void abort(std::uint32_t xid, std::uint32_t subxid);
  // Stream Commit: hands each kept change to `apply` in the order received, then forgets xid.
  // A transaction never streamed before its commit replays nothing.
  void replay(std::uint32_t xid, const std::function<void(Lsn, std::string_view)>& apply);

  std::size_t open_transactions() const { return open_.size(); }
  std::uint64_t bytes() const;  // written for the open transactions
  const std::string& directory() const { return directory_; }

 private:
  struct Open {
    FilePtr file;
    std::uint64_t bytes = 0;
    std::uint64_t changes = 0;
    std::unordered_set<std::uint32_t> aborted_subxids;
  };

  Open& open_file(std::uint32_t xid);
  [[noreturn]] void fail(std::string_view doing, std::uint32_t xid) const;

  std::string directory_;
  std::unordered_map<std::uint32_t, Open> open_;
  std::string header_;  // append()'s record header, kept to reuse its allocation
};

}  // namespace pg2ch::capture::logical

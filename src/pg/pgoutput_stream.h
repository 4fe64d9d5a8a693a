#pragma once
// pgoutput protocol version 2: streaming of in-progress transactions (PostgreSQL 14+,
// START_REPLICATION option `streaming 'on'`; docs "Logical Replication Message Formats").
//
// A transaction larger than the server's logical_decoding_work_mem is sent while it runs, in
// blocks: Stream Start (its top-level xid) ... changes ... Stream Stop, repeated, interleaved
// with ordinary transactions, and ended by Stream Commit or Stream Abort. Inside a block, every
// Relation, Type, Insert, Update, Delete, Truncate and Message carries the xid of the
// (sub)transaction that made it right after its tag; otherwise the layouts are protocol 1's.
// A Stream Abort whose subxid differs from its xid rolls back only that subtransaction.
//
// Bounds-checked like PgoutputDecoder; a malformed message throws ProtocolError.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/lsn.h"

namespace pg2ch::pg::pgoutput {

enum class StreamTag : char {
  Start = 'S',
  Stop = 'E',
  Commit = 'c',
  Abort = 'A',
};

struct StreamStart {
  std::uint32_t xid = 0;
  bool first_segment = false;  // the transaction's first block: anything kept for xid is stale
};

struct StreamCommit {
  std::uint32_t xid = 0;
  Lsn commit_lsn = kInvalidLsn;
  Lsn end_lsn = kInvalidLsn;
  std::int64_t commit_time = 0;  // PG epoch microseconds
};

struct StreamAbort {
  std::uint32_t xid = 0;     // top-level
  std::uint32_t subxid = 0;  // == xid: the whole transaction
};

// Whether `payload` is one of the four stream control messages.
bool is_stream_control(std::string_view payload) noexcept;

StreamStart decode_stream_start(std::string_view payload);
void check_stream_stop(std::string_view payload);
StreamCommit decode_stream_commit(std::string_view payload);
StreamAbort decode_stream_abort(std::string_view payload);

// A change message from inside a stream block: the (sub)transaction's xid, and the message in
// protocol 1 layout (tag + the bytes after the xid) written to `v1` for PgoutputDecoder.
std::uint32_t split_streamed_change(std::string_view payload, std::string& v1);

// Encoders, for tests and fuzz seeds.
std::string encode_stream_start(const StreamStart& m);
std::string encode_stream_stop();
std::string encode_stream_commit(const StreamCommit& m);
std::string encode_stream_abort(const StreamAbort& m);
// A protocol 1 change message as it appears inside a stream block.
std::string streamed_change(std::uint32_t xid, std::string_view v1);

}  // namespace pg2ch::pg::pgoutput

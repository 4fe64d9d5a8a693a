#pragma once
// The streaming replication sub-protocol carried inside CopyData once START_REPLICATION has
// switched the connection to COPY BOTH (PostgreSQL docs, "Streaming Replication Protocol").
//
// Design note: like PostgreSQL's own proto.c, every message has an encoder and a decoder side by
// side in replication_protocol.cpp so the layouts are written down once and round-trip tested.
// Server -> client: 'w' XLogData and 'k' primary keepalive. Client -> server: 'r' standby status
// update (the only one pg2ch sends; the server needs it to advance the slot's confirmed_flush).
// Decoders check the tag and the exact length and throw ProtocolError otherwise; the XLogData
// payload is a view into the caller's buffer (no copy).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/lsn.h"
#include "pg/pg_time.h"

namespace pg2ch::pg {

enum class ReplicationMessageType : char {
  XLogData = 'w',
  PrimaryKeepalive = 'k',
  StandbyStatusUpdate = 'r',
};

struct XLogData {
  Lsn data_start = kInvalidLsn;   // WAL position of the payload (0 for some logical messages)
  Lsn wal_end = kInvalidLsn;      // server's current end of WAL
  std::int64_t send_time = 0;     // PG epoch microseconds
  std::string_view payload;       // one pgoutput message; view into the CopyData buffer
};

struct PrimaryKeepalive {
  Lsn wal_end = kInvalidLsn;
  std::int64_t send_time = 0;     // PG epoch microseconds
  bool reply_requested = false;   // the server wants a status update now (wal_sender_timeout)
};

struct StandbyStatusUpdate {
  Lsn write = kInvalidLsn;        // last WAL byte + 1 received
  Lsn flush = kInvalidLsn;        // ... durably stored on our side (ClickHouse acknowledged)
  Lsn apply = kInvalidLsn;        // ... applied
  std::int64_t client_time = 0;   // PG epoch microseconds
  bool reply_requested = false;
};

// One decoded server message; only the member named by `type` is meaningful.
struct ReplicationMessage {
  ReplicationMessageType type = ReplicationMessageType::XLogData;
  XLogData xlog;
  PrimaryKeepalive keepalive;
};

// Decodes a CopyData payload received from the server ('w' or 'k'); anything else throws
// ProtocolError.
ReplicationMessage decode_replication_message(std::string_view copy_data);
XLogData decode_xlog_data(std::string_view copy_data);
// The XLogData payload is a view: decoding a temporary string would leave it dangling.
ReplicationMessage decode_replication_message(std::string&&) = delete;
XLogData decode_xlog_data(std::string&&) = delete;
PrimaryKeepalive decode_primary_keepalive(std::string_view copy_data);
StandbyStatusUpdate decode_standby_status_update(std::string_view copy_data);

// Encoders append one complete CopyData payload (tag included) to `out`.
void encode_xlog_data(const XLogData& m, std::string& out);
void encode_primary_keepalive(const PrimaryKeepalive& m, std::string& out);
void encode_standby_status_update(const StandbyStatusUpdate& m, std::string& out);
std::string encode_standby_status_update(const StandbyStatusUpdate& m);

inline constexpr std::size_t kXLogDataHeaderSize = 1 + 8 + 8 + 8;
inline constexpr std::size_t kPrimaryKeepaliveSize = 1 + 8 + 8 + 1;
inline constexpr std::size_t kStandbyStatusUpdateSize = 1 + 8 + 8 + 8 + 8 + 1;

}  // namespace pg2ch::pg

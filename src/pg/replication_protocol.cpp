#include "pg/replication_protocol.h"

#include <fmt/format.h>

#include "common/error.h"
#include "pg/wire_reader.h"
#include "pg/wire_writer.h"

namespace pg2ch::pg {
namespace {

void expect_tag(WireReader& r, ReplicationMessageType type) {
  const char tag = r.ch();
  if (tag != static_cast<char>(type)) {
    r.fail(fmt::format("expected tag '{}', got byte 0x{:02x}", static_cast<char>(type),
                       static_cast<unsigned char>(tag)));
  }
}

// The server writes exactly 0 or 1; anything else means we are not reading what we think.
bool read_bool(WireReader& r) {
  const std::uint8_t b = r.u8();
  if (b > 1) r.fail(fmt::format("invalid boolean byte {}", b));
  return b == 1;
}

}  // namespace

// ---- 'w' XLogData ------------------------------------------------------------------------------

XLogData decode_xlog_data(std::string_view copy_data) {
  WireReader r(copy_data, "replication XLogData");
  expect_tag(r, ReplicationMessageType::XLogData);
  XLogData m;
  m.data_start = r.u64();
  m.wal_end = r.u64();
  m.send_time = r.i64();
  m.payload = r.rest();
  return m;
}

void encode_xlog_data(const XLogData& m, std::string& out) {
  WireWriter w(out);
  w.ch(static_cast<char>(ReplicationMessageType::XLogData)).u64(m.data_start).u64(m.wal_end).i64(m.send_time);
  w.bytes(m.payload);
}

// ---- 'k' primary keepalive ---------------------------------------------------------------------

PrimaryKeepalive decode_primary_keepalive(std::string_view copy_data) {
  WireReader r(copy_data, "replication keepalive");
  expect_tag(r, ReplicationMessageType::PrimaryKeepalive);
  PrimaryKeepalive m;
  m.wal_end = r.u64();
  m.send_time = r.i64();
  m.reply_requested = read_bool(r);
  r.expect_end();
  return m;
}

void encode_primary_keepalive(const PrimaryKeepalive& m, std::string& out) {
  WireWriter(out)
      .ch(static_cast<char>(ReplicationMessageType::PrimaryKeepalive))
      .u64(m.wal_end)
      .i64(m.send_time)
      .u8(m.reply_requested ? 1 : 0);
}

// ---- 'r' standby status update -----------------------------------------------------------------

StandbyStatusUpdate decode_standby_status_update(std::string_view copy_data) {
  WireReader r(copy_data, "replication status update");
  expect_tag(r, ReplicationMessageType::StandbyStatusUpdate);
  StandbyStatusUpdate m;
  m.write = r.u64();
  m.flush = r.u64();
  m.apply = r.u64();
  m.client_time = r.i64();
  m.reply_requested = read_bool(r);
  r.expect_end();
  return m;
}

void encode_standby_status_update(const StandbyStatusUpdate& m, std::string& out) {
  WireWriter(out)
      .ch(static_cast<char>(ReplicationMessageType::StandbyStatusUpdate))
      .u64(m.write)
      .u64(m.flush)
      .u64(m.apply)
      .i64(m.client_time)
      .u8(m.reply_requested ? 1 : 0);
}

std::string encode_standby_status_update(const StandbyStatusUpdate& m) {
  std::string out;
  out.reserve(kStandbyStatusUpdateSize);
  encode_standby_status_update(m, out);
  return out;
}

// ---- dispatch ----------------------------------------------------------------------------------

ReplicationMessage decode_replication_message(std::string_view copy_data) {
  ReplicationMessage m;
  if (copy_data.empty()) throw ProtocolError("replication message: empty CopyData at offset 0");
  switch (copy_data.front()) {
    case static_cast<char>(ReplicationMessageType::XLogData):
      m.type = ReplicationMessageType::XLogData;
      m.xlog = decode_xlog_data(copy_data);
      return m;
    case static_cast<char>(ReplicationMessageType::PrimaryKeepalive):
      m.type = ReplicationMessageType::PrimaryKeepalive;
      m.keepalive = decode_primary_keepalive(copy_data);
      return m;
    default:
      throw ProtocolError(fmt::format("replication message: unknown tag byte 0x{:02x} at offset 0",
                                      static_cast<unsigned char>(copy_data.front())));
  }
}

}  // namespace pg2ch::pg

#include "pg/replication_protocol.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "pg_test_util.h"

namespace pg2ch::pg {
namespace {

using test::hex;
using test::unhex;

TEST(PgReplicationProtocol, StandbyStatusUpdateHasTheDocumentedLayout) {
  StandbyStatusUpdate m{.write = 0x0102030405060708ULL, .flush = 0x1534AF0, .apply = 0, .client_time = -1,
                        .reply_requested = true};
  const std::string bytes = encode_standby_status_update(m);
  ASSERT_EQ(bytes.size(), kStandbyStatusUpdateSize);
  EXPECT_EQ(hex(bytes),
            "72"                  // 'r'
            "0102030405060708"    // write
            "0000000001534af0"    // flush
            "0000000000000000"    // apply
            "ffffffffffffffff"    // client time
            "01");                // reply requested
  const StandbyStatusUpdate back = decode_standby_status_update(bytes);
  EXPECT_EQ(back.write, m.write);
  EXPECT_EQ(back.flush, m.flush);
  EXPECT_EQ(back.apply, m.apply);
  EXPECT_EQ(back.client_time, m.client_time);
  EXPECT_TRUE(back.reply_requested);
}

TEST(PgReplicationProtocol, XLogDataRoundTripKeepsPayloadAsView) {
  const std::string payload = std::string("B\0\x01", 3);
  std::string bytes;
  encode_xlog_data({.data_start = 0x10, .wal_end = 0x20, .send_time = 12345, .payload = payload}, bytes);
  ASSERT_EQ(bytes.size(), kXLogDataHeaderSize + payload.size());
  const ReplicationMessage m = decode_replication_message(bytes);
  ASSERT_EQ(m.type, ReplicationMessageType::XLogData);
  EXPECT_EQ(m.xlog.data_start, 0x10u);
  EXPECT_EQ(m.xlog.wal_end, 0x20u);
  EXPECT_EQ(m.xlog.send_time, 12345);
  EXPECT_EQ(m.xlog.payload, payload);
  EXPECT_EQ(m.xlog.payload.data(), bytes.data() + kXLogDataHeaderSize);
}

TEST(PgReplicationProtocol, XLogDataMayHaveEmptyPayload) {
  std::string bytes;
  encode_xlog_data({.data_start = 1, .wal_end = 2, .send_time = 3, .payload = {}}, bytes);
  EXPECT_TRUE(decode_xlog_data(bytes).payload.empty());
}

TEST(PgReplicationProtocol, KeepaliveRoundTrip) {
  for (const bool reply : {false, true}) {
    std::string bytes;
    encode_primary_keepalive({.wal_end = 0xABCDEF, .send_time = -5, .reply_requested = reply}, bytes);
    ASSERT_EQ(bytes.size(), kPrimaryKeepaliveSize);
    const ReplicationMessage m = decode_replication_message(bytes);
    ASSERT_EQ(m.type, ReplicationMessageType::PrimaryKeepalive);
    EXPECT_EQ(m.keepalive.wal_end, 0xABCDEFu);
    EXPECT_EQ(m.keepalive.send_time, -5);
    EXPECT_EQ(m.keepalive.reply_requested, reply);
  }
}

TEST(PgReplicationProtocol, DecodesBytesAsPostgresSendsThem) {
  // A keepalive as written by walsender: 'k', end of WAL 0/1534AF0, a 2026 timestamp, reply 0.
  const std::string bytes = unhex("6b" "0000000001534af0" "00030415c2a18cac" "00");
  const ReplicationMessage m = decode_replication_message(bytes);
  ASSERT_EQ(m.type, ReplicationMessageType::PrimaryKeepalive);
  EXPECT_EQ(m.keepalive.wal_end, 0x1534AF0u);
  EXPECT_EQ(m.keepalive.send_time, 0x00030415c2a18cacLL);
  EXPECT_FALSE(m.keepalive.reply_requested);
}

TEST(PgReplicationProtocol, EveryTruncationThrows) {
  std::string keepalive, status, xlog;
  encode_primary_keepalive({.wal_end = 1, .send_time = 2, .reply_requested = true}, keepalive);
  encode_standby_status_update({.write = 1, .flush = 2, .apply = 3, .client_time = 4, .reply_requested = false}, status);
  encode_xlog_data({.data_start = 1, .wal_end = 2, .send_time = 3, .payload = "x"}, xlog);
  for (std::size_t n = 0; n < keepalive.size(); ++n) {
    EXPECT_THROW(decode_replication_message(std::string_view(keepalive).substr(0, n)), ProtocolError) << n;
  }
  for (std::size_t n = 0; n < status.size(); ++n) {
    EXPECT_THROW(decode_standby_status_update(std::string_view(status).substr(0, n)), ProtocolError) << n;
  }
  // XLogData's payload is "the rest", so only cuts inside the header are errors.
  for (std::size_t n = 0; n < kXLogDataHeaderSize; ++n) {
    EXPECT_THROW(decode_replication_message(std::string_view(xlog).substr(0, n)), ProtocolError) << n;
  }
}

TEST(PgReplicationProtocol, RejectsUnknownTagsTrailingBytesAndBadBooleans) {
  EXPECT_THROW(decode_replication_message(std::string_view(unhex("72" + std::string(66, '0')))), ProtocolError);   // 'r' is ours
  EXPECT_THROW(decode_replication_message(std::string_view(unhex("68"))), ProtocolError);                          // 'h'
  EXPECT_THROW(decode_replication_message(std::string_view(unhex("00"))), ProtocolError);
  std::string keepalive;
  encode_primary_keepalive({.wal_end = 1, .send_time = 2, .reply_requested = false}, keepalive);
  EXPECT_THROW(decode_primary_keepalive(keepalive + "x"), ProtocolError);
  keepalive.back() = 2;
  EXPECT_THROW(decode_primary_keepalive(keepalive), ProtocolError);
  EXPECT_THROW(decode_xlog_data(std::string_view(unhex("6b" + std::string(48, '0')))), ProtocolError);   // keepalive, not 'w'
  try {
    decode_replication_message(std::string_view(unhex("7a00")));
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("0x7a"), std::string::npos) << e.what();
  }
}

TEST(PgReplicationProtocol, PgEpochConversions) {
  EXPECT_EQ(unix_to_pg_micros(946'684'800'000'000), 0);
  EXPECT_EQ(pg_to_unix_micros(0), 946'684'800'000'000);
  EXPECT_EQ(pg_to_unix_micros(unix_to_pg_micros(1'700'000'000'123'456)), 1'700'000'000'123'456);
  // 2024-01-02 03:04:05.123456 UTC, as it appears in pgoutput commit timestamps.
  EXPECT_EQ(pg_to_unix_micros(757'479'845'123'456), 1'704'164'645'123'456);
  // Garbage from the network saturates instead of overflowing.
  EXPECT_EQ(pg_to_unix_micros(INT64_MAX), INT64_MAX);
  EXPECT_EQ(unix_to_pg_micros(INT64_MIN), INT64_MIN);
  const std::int64_t now = pg_now_micros();
  EXPECT_GT(now, 757'479'845'000'000);   // after 2024
  EXPECT_LT(now, 3'155'760'000'000'000);  // before 2100
}

}  // namespace
}  // namespace pg2ch::pg

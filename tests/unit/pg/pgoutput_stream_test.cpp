#include "pg/pgoutput_stream.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "pg/pgoutput_decoder.h"
#include "pg/pgoutput_encoder.h"

namespace pg2ch::pg::pgoutput {
namespace {

TEST(PgoutputStream, ControlMessagesRoundTrip) {
  const auto start = decode_stream_start(encode_stream_start({0xdeadbeef, true}));
  EXPECT_EQ(start.xid, 0xdeadbeefu);
  EXPECT_TRUE(start.first_segment);
  EXPECT_FALSE(decode_stream_start(encode_stream_start({7, false})).first_segment);

  check_stream_stop(encode_stream_stop());

  StreamCommit c;
  c.xid = 42;
  c.commit_lsn = 0x1'0000'0010;
  c.end_lsn = 0x1'0000'0040;
  c.commit_time = 123456789;
  const auto commit = decode_stream_commit(encode_stream_commit(c));
  EXPECT_EQ(commit.xid, 42u);
  EXPECT_EQ(commit.commit_lsn, c.commit_lsn);
  EXPECT_EQ(commit.end_lsn, c.end_lsn);
  EXPECT_EQ(commit.commit_time, c.commit_time);

  const auto abort = decode_stream_abort(encode_stream_abort({42, 43}));
  EXPECT_EQ(abort.xid, 42u);
  EXPECT_EQ(abort.subxid, 43u);
}

TEST(PgoutputStream, OnlyTheFourControlTagsAreControl) {
  for (char tag : {'S', 'E', 'c', 'A'}) EXPECT_TRUE(is_stream_control(std::string(1, tag))) << tag;
  for (char tag : {'B', 'C', 'I', 'U', 'D', 'R', 'T', 'M', 'Y', 'O'}) {
    EXPECT_FALSE(is_stream_control(std::string(1, tag))) << tag;
  }
  EXPECT_FALSE(is_stream_control(""));
}

TEST(PgoutputStream, MalformedControlMessagesThrow) {
  EXPECT_THROW(decode_stream_start("S\x00\x00"), ProtocolError);                       // short
  EXPECT_THROW(decode_stream_start(std::string("S\0\0\0\1\2", 6)), ProtocolError);     // flag 2
  EXPECT_THROW(decode_stream_abort(encode_stream_abort({1, 1}) + "xx"), ProtocolError);  // protocol 4 fields
  EXPECT_THROW(check_stream_stop("Ex"), ProtocolError);
  EXPECT_THROW(decode_stream_commit(encode_stream_start({1, true})), ProtocolError);    // another kind
}

TEST(PgoutputStream, AStreamedChangeBecomesItsProtocol1Message) {
  Insert ins;
  ins.relation_oid = 16384;
  ins.new_tuple = {{ValueKind::Binary, std::string_view("\0\0\0\5", 4)}, {ValueKind::Null, {}}};
  const std::string v1 = encoded(ins);
  std::string out;
  EXPECT_EQ(split_streamed_change(streamed_change(99, v1), out), 99u);
  EXPECT_EQ(out, v1);
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(out), MessageType::Insert);
  EXPECT_EQ(d.insert().relation_oid, 16384u);
  EXPECT_THROW(split_streamed_change("I\0\0", out), ProtocolError);
}

}  // namespace
}  // namespace pg2ch::pg::pgoutput

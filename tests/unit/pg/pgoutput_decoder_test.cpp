#include "pg/pgoutput_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "pg_test_util.h"
#include "pg/pgoutput_encoder.h"

namespace pg2ch::pg {
namespace {

using namespace pgoutput;
using test::hex;

void expect_tuple_eq(const Tuple& actual, const Tuple& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].kind, expected[i].kind) << "column " << i;
    EXPECT_EQ(actual[i].data, expected[i].data) << "column " << i;
  }
}

// For inputs whose decoded views are not looked at (error tests): an explicit view of a
// temporary, which the deleted decode(std::string&&) overload otherwise refuses.
PgoutputDecoder::MessageType decode_temporary(PgoutputDecoder& d, const std::string& bytes) {
  return d.decode(std::string_view(bytes));
}

const Tuple kSampleTuple = {
    {ValueKind::Text, "42"},
    {ValueKind::Null, {}},
    {ValueKind::UnchangedToast, {}},
    {ValueKind::Binary, std::string_view("\x00\x00\x00\x2a", 4)},
    {ValueKind::Text, ""},
};

TEST(PgoutputDecoder, BeginRoundTrip) {
  const Begin m{.final_lsn = 0x1534AC0, .commit_time = 757'479'845'123'456, .xid = 729};
  const std::string bytes = encoded(m);
  EXPECT_EQ(hex(bytes), "420000000001534ac0" "0002b0ec8517d580" "000002d9");
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Begin);
  EXPECT_EQ(d.begin().final_lsn, m.final_lsn);
  EXPECT_EQ(d.begin().commit_time, m.commit_time);
  EXPECT_EQ(d.begin().xid, m.xid);
}

TEST(PgoutputDecoder, CommitRoundTrip) {
  const Commit m{.flags = 0, .commit_lsn = 0x1534AC0, .end_lsn = 0x1534AF0, .commit_time = -1};
  const std::string bytes = encoded(m);
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Commit);
  EXPECT_EQ(d.commit().flags, 0);
  EXPECT_EQ(d.commit().commit_lsn, m.commit_lsn);
  EXPECT_EQ(d.commit().end_lsn, m.end_lsn);
  EXPECT_EQ(d.commit().commit_time, -1);
}

TEST(PgoutputDecoder, OriginRoundTrip) {
  const Origin m{.commit_lsn = 0xABCDEF, .name = "upstream"};
  const std::string bytes = encoded(m);   // decoded views point into it: keep it alive
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Origin);
  EXPECT_EQ(d.origin().commit_lsn, 0xABCDEFu);
  EXPECT_EQ(d.origin().name, "upstream");
}

TEST(PgoutputDecoder, RelationRoundTrip) {
  Relation m{.oid = 16391, .namespace_name = "public", .name = "items", .replica_identity = 'f', .columns = {}};
  m.columns = {{.flags = 1, .name = "id", .type_oid = 20, .type_modifier = -1},
               {.flags = 0, .name = "price", .type_oid = 1700, .type_modifier = (12 << 16 | 2) + 4},
               {.flags = 0, .name = "", .type_oid = 25, .type_modifier = -1}};
  const std::string bytes = encoded(m);
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Relation);
  const Relation& r = d.relation();
  EXPECT_EQ(r.oid, 16391u);
  EXPECT_EQ(r.namespace_name, "public");
  EXPECT_EQ(r.name, "items");
  EXPECT_EQ(r.replica_identity, 'f');
  ASSERT_EQ(r.columns.size(), 3u);
  EXPECT_TRUE(r.columns[0].is_key());
  EXPECT_FALSE(r.columns[1].is_key());
  EXPECT_EQ(r.columns[1].name, "price");
  EXPECT_EQ(r.columns[1].type_oid, 1700u);
  EXPECT_EQ(r.columns[1].type_modifier, (12 << 16 | 2) + 4);
  EXPECT_EQ(r.columns[2].name, "");

  // A relation without columns is legal (CREATE TABLE t ()).
  const std::string empty = encoded(Relation{.oid = 1, .namespace_name = "", .name = "t", .replica_identity = 'n', .columns = {}});
  ASSERT_EQ(d.decode(empty), MessageType::Relation);
  EXPECT_TRUE(d.relation().columns.empty());
  EXPECT_EQ(d.relation().namespace_name, "");
}

TEST(PgoutputDecoder, TypeRoundTrip) {
  const std::string bytes = encoded(Type{.oid = 16385, .namespace_name = "public", .name = "mood"});
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Type);
  EXPECT_EQ(d.type().oid, 16385u);
  EXPECT_EQ(d.type().namespace_name, "public");
  EXPECT_EQ(d.type().name, "mood");
}

TEST(PgoutputDecoder, InsertRoundTrip) {
  const Insert m{.relation_oid = 16391, .new_tuple = kSampleTuple};
  const std::string bytes = encoded(m);
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Insert);
  EXPECT_EQ(d.insert().relation_oid, 16391u);
  expect_tuple_eq(d.insert().new_tuple, kSampleTuple);
  // Values are views into the payload, not copies.
  EXPECT_GE(d.insert().new_tuple[0].data.data(), bytes.data());
  EXPECT_LT(d.insert().new_tuple[0].data.data(), bytes.data() + bytes.size());
}

TEST(PgoutputDecoder, UpdateRoundTripAllOldTupleKinds) {
  const Tuple new_tuple = {{ValueKind::Text, "new"}, {ValueKind::UnchangedToast, {}}};
  for (const OldTupleKind kind : {OldTupleKind::None, OldTupleKind::Key, OldTupleKind::Full}) {
    Update m{.relation_oid = 7, .old_kind = kind, .old_tuple = {}, .new_tuple = new_tuple};
    if (kind != OldTupleKind::None) m.old_tuple = {{ValueKind::Text, "old"}, {ValueKind::Null, {}}};
    const std::string bytes = encoded(m);
    PgoutputDecoder d;
    ASSERT_EQ(d.decode(bytes), MessageType::Update);
    EXPECT_EQ(d.update().relation_oid, 7u);
    EXPECT_EQ(d.update().old_kind, kind);
    EXPECT_EQ(d.update().has_old(), kind != OldTupleKind::None);
    expect_tuple_eq(d.update().old_tuple, m.old_tuple);
    expect_tuple_eq(d.update().new_tuple, new_tuple);
  }
}

TEST(PgoutputDecoder, UpdateWithoutOldTupleClearsThePreviousOne) {
  PgoutputDecoder d;
  const std::string with_old = encoded(Update{.relation_oid = 7, .old_kind = OldTupleKind::Key,
                                              .old_tuple = {{ValueKind::Text, "k"}}, .new_tuple = {{ValueKind::Text, "n"}}});
  const std::string without_old = encoded(Update{.relation_oid = 7, .old_kind = OldTupleKind::None, .old_tuple = {},
                                                 .new_tuple = {{ValueKind::Text, "n"}}});
  d.decode(with_old);
  d.decode(without_old);
  EXPECT_FALSE(d.update().has_old());
  EXPECT_TRUE(d.update().old_tuple.empty());
}

TEST(PgoutputDecoder, DeleteRoundTrip) {
  for (const OldTupleKind kind : {OldTupleKind::Key, OldTupleKind::Full}) {
    const Delete m{.relation_oid = 9, .old_kind = kind, .old_tuple = kSampleTuple};
    const std::string bytes = encoded(m);
    PgoutputDecoder d;
    ASSERT_EQ(d.decode(bytes), MessageType::Delete);
    EXPECT_EQ(d.remove().relation_oid, 9u);
    EXPECT_EQ(d.remove().old_kind, kind);
    expect_tuple_eq(d.remove().old_tuple, kSampleTuple);
  }
}

TEST(PgoutputDecoder, TruncateRoundTrip) {
  const Truncate m{.options = Truncate::kCascade | Truncate::kRestartIdentity, .relation_oids = {16391, 16398}};
  const std::string bytes = encoded(m);
  EXPECT_EQ(hex(bytes), "54" "00000002" "03" "00004007" "0000400e");
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Truncate);
  EXPECT_TRUE(d.truncate().cascade());
  EXPECT_TRUE(d.truncate().restart_identity());
  EXPECT_EQ(d.truncate().relation_oids, (std::vector<std::uint32_t>{16391, 16398}));
  const std::string single = encoded(Truncate{.options = 0, .relation_oids = {1}});
  ASSERT_EQ(d.decode(single), MessageType::Truncate);
  EXPECT_FALSE(d.truncate().cascade());
  EXPECT_FALSE(d.truncate().restart_identity());
  EXPECT_EQ(d.truncate().relation_oids.size(), 1u);
}

TEST(PgoutputDecoder, LogicalMessageRoundTrip) {
  const LogicalMessage m{.flags = LogicalMessage::kTransactional, .lsn = 0x1534E78, .prefix = "pg2ch",
                         .content = std::string_view("he\0lo", 5)};
  const std::string bytes = encoded(m);
  PgoutputDecoder d;
  ASSERT_EQ(d.decode(bytes), MessageType::Message);
  EXPECT_TRUE(d.message().transactional());
  EXPECT_EQ(d.message().lsn, 0x1534E78u);
  EXPECT_EQ(d.message().prefix, "pg2ch");
  EXPECT_EQ(d.message().content, std::string_view("he\0lo", 5));
}

TEST(PgoutputDecoder, SteadyStateReusesTupleStorage) {
  PgoutputDecoder d;
  const std::string first = encoded(Insert{.relation_oid = 1, .new_tuple = kSampleTuple});
  const std::string second = encoded(Insert{.relation_oid = 2, .new_tuple = {{ValueKind::Text, "x"}}});
  d.decode(first);
  const TupleValue* storage = d.insert().new_tuple.data();
  d.decode(second);
  d.decode(first);
  EXPECT_EQ(d.insert().new_tuple.data(), storage);
  EXPECT_EQ(d.insert().relation_oid, 1u);
}

// ---- malformed input ---------------------------------------------------------------------------

std::vector<std::string> sample_messages() {
  Relation rel{.oid = 16391, .namespace_name = "public", .name = "items", .replica_identity = 'd', .columns = {}};
  rel.columns = {{.flags = 1, .name = "id", .type_oid = 20, .type_modifier = -1},
                 {.flags = 0, .name = "name", .type_oid = 25, .type_modifier = -1}};
  return {
      encoded(Begin{.final_lsn = 1, .commit_time = 2, .xid = 3}),
      encoded(Commit{.flags = 0, .commit_lsn = 1, .end_lsn = 2, .commit_time = 3}),
      encoded(Origin{.commit_lsn = 1, .name = "o"}),
      encoded(rel),
      encoded(Type{.oid = 1, .namespace_name = "public", .name = "mood"}),
      encoded(Insert{.relation_oid = 1, .new_tuple = kSampleTuple}),
      encoded(Update{.relation_oid = 1, .old_kind = OldTupleKind::None, .old_tuple = {}, .new_tuple = kSampleTuple}),
      encoded(Update{.relation_oid = 1, .old_kind = OldTupleKind::Key, .old_tuple = kSampleTuple, .new_tuple = kSampleTuple}),
      encoded(Update{.relation_oid = 1, .old_kind = OldTupleKind::Full, .old_tuple = kSampleTuple, .new_tuple = kSampleTuple}),
      encoded(Delete{.relation_oid = 1, .old_kind = OldTupleKind::Key, .old_tuple = kSampleTuple}),
      encoded(Delete{.relation_oid = 1, .old_kind = OldTupleKind::Full, .old_tuple = kSampleTuple}),
      encoded(Truncate{.options = 1, .relation_oids = {1, 2, 3}}),
      encoded(LogicalMessage{.flags = 0, .lsn = 1, .prefix = "p", .content = "content"}),
  };
}

TEST(PgoutputFuzz, EveryTruncationThrowsProtocolError) {
  PgoutputDecoder d;
  for (const std::string& message : sample_messages()) {
    ASSERT_NO_THROW(d.decode(message)) << hex(message);
    for (std::size_t n = 0; n < message.size(); ++n) {
      // A copy of exactly n bytes, so sanitizers catch any read past the end.
      const std::string prefix = message.substr(0, n);
      EXPECT_THROW(d.decode(prefix), ProtocolError) << "prefix " << n << " of " << hex(message);
    }
  }
}

TEST(PgoutputFuzz, TrailingBytesThrow) {
  PgoutputDecoder d;
  for (const std::string& message : sample_messages()) {
    EXPECT_THROW(decode_temporary(d, message + '\0'), ProtocolError) << hex(message);
  }
}

TEST(PgoutputFuzz, BadTagsThrow) {
  PgoutputDecoder d;
  // Protocol 2+ tags (stream start/stop/commit/abort, prepare...) and garbage.
  for (const char tag : {'S', 'E', 'c', 'A', 'P', 'K', 'r', 'b', 'x', '\0', '\xff'}) {
    EXPECT_THROW(decode_temporary(d, std::string(1, tag) + std::string(40, '\0')), ProtocolError) << tag;
  }
  EXPECT_THROW(decode_temporary(d, ""), ProtocolError);
  // Insert without the 'N' marker, with an unknown value kind, with a negative length.
  EXPECT_THROW(decode_temporary(d, test::unhex("4900000001" "4b" "0001" "6e")), ProtocolError);
  EXPECT_THROW(decode_temporary(d, test::unhex("4900000001" "4e" "0001" "78")), ProtocolError);
  EXPECT_THROW(decode_temporary(d, test::unhex("4900000001" "4e" "0001" "74ffffffff")), ProtocolError);
  // Negative and oversized column counts are rejected before allocating.
  EXPECT_THROW(decode_temporary(d, test::unhex("4900000001" "4e" "ffff")), ProtocolError);
  EXPECT_THROW(decode_temporary(d, test::unhex("4900000001" "4e" "7fff" "6e")), ProtocolError);
  EXPECT_THROW(decode_temporary(d, test::unhex("54" "7fffffff" "00" "00000001")), ProtocolError);
  EXPECT_THROW(decode_temporary(d, test::unhex("54" "ffffffff" "00")), ProtocolError);
  // Update with a marker other than K/O/N, Delete with N.
  EXPECT_THROW(decode_temporary(d, test::unhex("5500000001" "58" "0000")), ProtocolError);
  EXPECT_THROW(decode_temporary(d, test::unhex("4400000001" "4e" "0000")), ProtocolError);
  // Relation with an unknown replica identity.
  EXPECT_THROW(decode_temporary(d, test::unhex("5200000001" "00" "7400" "78" "0000")), ProtocolError);
  EXPECT_NO_THROW(decode_temporary(d, test::unhex("5200000001" "00" "7400" "66" "0000")));
}

TEST(PgoutputFuzz, RandomMutationsNeverEscapeAsOtherErrors) {
  // Cheap mutation fuzz: flip bytes of valid messages; the decoder must either accept the result
  // or throw ProtocolError (run under -fsanitize=address,undefined to check for UB too).
  std::mt19937 rng(20240607);
  PgoutputDecoder d;
  const std::vector<std::string> seeds = sample_messages();
  int accepted = 0, rejected = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string m = seeds[rng() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] = static_cast<char>(rng());
    try {
      d.decode(m);
      ++accepted;
    } catch (const ProtocolError&) {
      ++rejected;
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace pg2ch::pg

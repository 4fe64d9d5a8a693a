// Decodes bytes captured from a real PostgreSQL 15.18 (tests/unit/data/pg/, workload in
// capture.sql): guards the decoders against a misreading of the docs that round-trip tests with
// our own encoder cannot catch.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/lsn.h"
#include "pg/copy_binary_parser.h"
#include "pg/pgoutput_decoder.h"
#include "pg/pgoutput_encoder.h"
#include "pg/replication_protocol.h"
#include "pg/wire_reader.h"
#include "pg_test_util.h"

namespace pg2ch::pg {
namespace {

using namespace pgoutput;

struct CapturedMessage {
  Lsn lsn;
  std::uint32_t xid;
  std::string bytes;
};

std::vector<CapturedMessage> load_capture(std::string_view name) {
  std::vector<CapturedMessage> out;
  for (const std::string& line : test::data_lines(name)) {
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    const auto lsn = parse_lsn(std::string_view(line).substr(0, sp1));
    EXPECT_TRUE(lsn.has_value()) << line;
    out.push_back({lsn.value_or(0), static_cast<std::uint32_t>(std::stoul(line.substr(sp1 + 1, sp2 - sp1 - 1))),
                   test::unhex(std::string_view(line).substr(sp2 + 1))});
  }
  return out;
}

std::string message_types(std::string_view name) {
  PgoutputDecoder d;
  std::string types;
  for (const CapturedMessage& m : load_capture(name)) types.push_back(static_cast<char>(d.decode(m.bytes)));
  return types;
}

std::int64_t int8_value(std::string_view be) {
  WireReader r(be);
  const std::int64_t v = r.i64();
  r.expect_end();
  return v;
}

// The workload in capture.sql, one letter per message (B=begin, Y=type, R=relation, ...).
constexpr std::string_view kExpectedTypes =
    "BYRIIIIRIIC"   // tx 1: inserts into items (Type for the enum first) and events
    "BUC"           // tx 2: update, no key change
    "BUC"           // tx 3: key change
    "BUC"           // tx 4: REPLICA IDENTITY FULL update
    "BDDC"          // tx 5: deletes
    "BMC"           // tx 6: transactional logical message
    "M"             // non-transactional logical message: no Begin/Commit
    "BYRRTC"        // tx 7: TRUNCATE re-sends Type/Relation (relcache invalidation)
    "BORIC";        // tx 8: replayed from origin "upstream"

TEST(PgRealCapture, MessageSequenceMatchesTheWorkload) {
  EXPECT_EQ(message_types("pgoutput_v1_binary.hex"), kExpectedTypes);
  EXPECT_EQ(message_types("pgoutput_v1_text.hex"), kExpectedTypes);
}

TEST(PgRealCapture, BinaryModeSendsEveryNonNullValueAsBinary) {
  // PostgreSQL 15 pgoutput uses the type's send function for every column when binary is on
  // (enum, jsonb, numeric, arrays, varchar alike); text mode only ever sends 't'.
  for (const auto& [file, kind] : {std::pair{"pgoutput_v1_binary.hex", ValueKind::Binary},
                                   std::pair{"pgoutput_v1_text.hex", ValueKind::Text}}) {
    PgoutputDecoder d;
    int values = 0;
    const auto check = [&](const Tuple& t) {
      for (const TupleValue& v : t) {
        if (v.kind == ValueKind::Null || v.kind == ValueKind::UnchangedToast) continue;
        EXPECT_EQ(v.kind, kind) << file;
        ++values;
      }
    };
    for (const CapturedMessage& m : load_capture(file)) {
      switch (d.decode(m.bytes)) {
        case MessageType::Insert: check(d.insert().new_tuple); break;
        case MessageType::Update: check(d.update().old_tuple); check(d.update().new_tuple); break;
        case MessageType::Delete: check(d.remove().old_tuple); break;
        default: break;
      }
    }
    EXPECT_GT(values, 50) << file;
  }
}

TEST(PgRealCapture, DecodesEveryMessageOfTheBinaryStream) {
  const std::vector<CapturedMessage> capture = load_capture("pgoutput_v1_binary.hex");
  ASSERT_EQ(capture.size(), kExpectedTypes.size());
  PgoutputDecoder d;
  std::map<std::string, std::uint32_t> relation_oids;
  std::uint32_t mood_oid = 0;
  std::optional<Begin> open_tx;
  std::vector<std::string> update_summaries, delete_summaries;
  for (const CapturedMessage& m : capture) {
    const MessageType type = d.decode(m.bytes);
    switch (type) {
      case MessageType::Begin:
        EXPECT_FALSE(open_tx.has_value());
        open_tx = d.begin();
        EXPECT_EQ(d.begin().xid, m.xid);
        break;
      case MessageType::Commit:
        ASSERT_TRUE(open_tx.has_value());
        EXPECT_EQ(d.commit().flags, 0);
        EXPECT_EQ(d.commit().commit_lsn, open_tx->final_lsn);
        EXPECT_EQ(d.commit().commit_time, open_tx->commit_time);
        EXPECT_GT(d.commit().end_lsn, d.commit().commit_lsn);
        EXPECT_EQ(d.commit().end_lsn, m.lsn);   // the slot reports the end LSN for the commit
        open_tx.reset();
        break;
      case MessageType::Type:
        EXPECT_EQ(d.type().namespace_name, "public");
        EXPECT_EQ(d.type().name, "mood");
        mood_oid = d.type().oid;
        break;
      case MessageType::Relation: {
        const Relation& r = d.relation();
        EXPECT_EQ(r.namespace_name, "public");
        relation_oids[std::string(r.name)] = r.oid;
        if (r.name == "items") {
          EXPECT_EQ(r.replica_identity, 'd');
          ASSERT_EQ(r.columns.size(), 16u);
          EXPECT_EQ(r.columns[0].name, "id");
          EXPECT_TRUE(r.columns[0].is_key());
          EXPECT_EQ(r.columns[0].type_oid, 20u);
          for (std::size_t i = 1; i < r.columns.size(); ++i) EXPECT_FALSE(r.columns[i].is_key()) << i;
          EXPECT_EQ(r.columns[3].name, "price");
          EXPECT_EQ(r.columns[3].type_modifier, (12 << 16 | 2) + 4);   // numeric(12,2)
          EXPECT_EQ(r.columns[7].type_oid, 1009u);                      // text[]
          EXPECT_EQ(r.columns[13].type_oid, mood_oid);                  // Type came first
          EXPECT_EQ(r.columns[14].type_modifier, 10 + 4);               // varchar(10)
        } else {
          EXPECT_EQ(r.name, "events");
          EXPECT_EQ(r.replica_identity, 'f');
          ASSERT_EQ(r.columns.size(), 2u);
          // REPLICA IDENTITY FULL marks every column as part of the key.
          EXPECT_TRUE(r.columns[0].is_key());
          EXPECT_TRUE(r.columns[1].is_key());
        }
        break;
      }
      case MessageType::Insert:
        EXPECT_TRUE(open_tx.has_value());
        break;
      case MessageType::Update: {
        const Update& u = d.update();
        std::string s = std::to_string(static_cast<int>(u.old_kind)) + ":";
        for (const TupleValue& v : u.old_tuple) s.push_back(static_cast<char>(v.kind));
        s += ":";
        for (const TupleValue& v : u.new_tuple) s.push_back(static_cast<char>(v.kind));
        update_summaries.push_back(s);
        if (u.old_kind == OldTupleKind::Key) {
          EXPECT_EQ(int8_value(u.old_tuple[0].data), 2);
          EXPECT_EQ(int8_value(u.new_tuple[0].data), 20);
        }
        break;
      }
      case MessageType::Delete: {
        std::string s(1, static_cast<char>(d.remove().old_kind));
        for (const TupleValue& v : d.remove().old_tuple) s.push_back(static_cast<char>(v.kind));
        delete_summaries.push_back(s);
        break;
      }
      case MessageType::Truncate:
        EXPECT_TRUE(d.truncate().cascade());
        EXPECT_TRUE(d.truncate().restart_identity());
        EXPECT_EQ(d.truncate().relation_oids,
                  (std::vector<std::uint32_t>{relation_oids["items"], relation_oids["events"]}));
        break;
      case MessageType::Message:
        EXPECT_EQ(d.message().prefix, "pg2ch");
        EXPECT_EQ(d.message().lsn, m.lsn);
        if (d.message().transactional()) {
          EXPECT_TRUE(open_tx.has_value());
          EXPECT_EQ(d.message().content, "hello");
        } else {
          EXPECT_FALSE(open_tx.has_value());
          EXPECT_EQ(m.xid, 0u);
          EXPECT_EQ(d.message().content, "outside");
        }
        break;
      case MessageType::Origin:
        EXPECT_TRUE(open_tx.has_value());
        EXPECT_EQ(d.origin().name, "upstream");
        EXPECT_EQ(d.origin().commit_lsn, 0xABCDEFu);
        // Begin carries the origin's commit time (pg_replication_origin_xact_setup), not ours.
        EXPECT_EQ(open_tx->commit_time, unix_to_pg_micros(1'714'979'289'000'000));   // 2024-05-06 07:08:09Z
        break;
    }
  }
  EXPECT_FALSE(open_tx.has_value());
  // tx 2: no old tuple, the untouched TOASTed column is 'u'; tx 3: old key only; tx 4: full old row.
  EXPECT_EQ(update_summaries,
            (std::vector<std::string>{"0::bbbbnbbnnnbbnbnu", "75:bnnnnnnnnnnnnnnn:bbnnbnnbbnnnbnbn", "79:bb:bb"}));
  EXPECT_EQ(delete_summaries, (std::vector<std::string>{"Kbnnnnnnnnnnnnnnn", "Obb"}));
}

TEST(PgRealCapture, ReEncodingReproducesTheServerBytes) {
  // Our encoder is the exact inverse of the decoder on real data, so it is safe for replay/fuzzing.
  for (const char* file : {"pgoutput_v1_binary.hex", "pgoutput_v1_text.hex"}) {
    PgoutputDecoder d;
    for (const CapturedMessage& m : load_capture(file)) {
      std::string again;
      switch (d.decode(m.bytes)) {
        case MessageType::Begin: encode(d.begin(), again); break;
        case MessageType::Commit: encode(d.commit(), again); break;
        case MessageType::Origin: encode(d.origin(), again); break;
        case MessageType::Relation: encode(d.relation(), again); break;
        case MessageType::Type: encode(d.type(), again); break;
        case MessageType::Insert: encode(d.insert(), again); break;
        case MessageType::Update: encode(d.update(), again); break;
        case MessageType::Delete: encode(d.remove(), again); break;
        case MessageType::Truncate: encode(d.truncate(), again); break;
        case MessageType::Message: encode(d.message(), again); break;
      }
      EXPECT_EQ(test::hex(again), test::hex(m.bytes)) << file;
    }
  }
}

TEST(PgRealCapture, EveryPrefixOfEveryRealMessageThrows) {
  PgoutputDecoder d;
  for (const CapturedMessage& m : load_capture("pgoutput_v1_binary.hex")) {
    const std::size_t limit = std::min<std::size_t>(m.bytes.size(), 400);   // skip the 12 kB TOAST tail
    for (std::size_t n = 0; n < limit; ++n) {
      const std::string prefix = m.bytes.substr(0, n);
      EXPECT_THROW(d.decode(prefix), ProtocolError) << n << " of " << test::hex(m.bytes).substr(0, 60);
    }
  }
}

TEST(PgRealCapture, StreamedThroughXLogData) {
  // What the replication loop will do: CopyData 'w' -> payload -> pgoutput.
  PgoutputDecoder d;
  std::string copy_data;
  for (const CapturedMessage& m : load_capture("pgoutput_v1_text.hex")) {
    copy_data.clear();
    encode_xlog_data({.data_start = m.lsn, .wal_end = m.lsn, .send_time = 0, .payload = m.bytes}, copy_data);
    const ReplicationMessage r = decode_replication_message(copy_data);
    ASSERT_EQ(r.type, ReplicationMessageType::XLogData);
    EXPECT_EQ(r.xlog.data_start, m.lsn);
    EXPECT_NO_THROW(d.decode(r.xlog.payload));
  }
}

// ---- COPY binary -------------------------------------------------------------------------------

std::string load_copy_capture() {
  std::string hex;
  for (const std::string& line : test::data_lines("items_copy_binary.hex")) hex += line;
  return test::unhex(hex);
}

using Row = std::vector<std::optional<std::string>>;

struct RowSink {
  std::vector<Row> rows;
  void row(std::span<const FieldView> fields) {
    Row r;
    for (const FieldView& f : fields) r.push_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.view()));
    rows.push_back(std::move(r));
  }
};

// A cheap digest of everything the parser hands out, for the split-everywhere test.
struct DigestSink {
  std::string digest;
  void row(std::span<const FieldView> fields) {
    digest += '|';
    for (const FieldView& f : fields) {
      digest += std::to_string(f.length) + ':';
      digest.append(f.view());
    }
  }
};

TEST(PgRealCapture, CopyBinaryOutputParses) {
  const std::string stream = load_copy_capture();
  CopyBinaryParser parser(16);
  RowSink sink;
  parser.feed(stream, sink);
  parser.finish();
  ASSERT_EQ(sink.rows.size(), 4u);
  for (const Row& r : sink.rows) ASSERT_EQ(r.size(), 16u);
  EXPECT_EQ(int8_value(*sink.rows[0][0]), 1);
  EXPECT_EQ(sink.rows[0][1], "apple");
  EXPECT_EQ(sink.rows[0][12], std::string("\xde\xad\xbe\xef"));
  EXPECT_EQ(sink.rows[0][13], "happy");                 // enum_send: the label
  EXPECT_EQ(sink.rows[1][1], "");                       // empty string is not NULL
  EXPECT_EQ(sink.rows[1][2], std::nullopt);
  EXPECT_EQ(sink.rows[1][12], "");                      // '\x' bytea
  EXPECT_EQ(sink.rows[2][15]->size(), 12800u);          // the TOASTed text, detoasted
  EXPECT_EQ(int8_value(*sink.rows[3][0]), 4);
}

TEST(PgRealCapture, CopyBinarySplitAnywhereYieldsTheSameRows) {
  const std::string stream = load_copy_capture();
  DigestSink whole;
  {
    CopyBinaryParser parser;
    parser.feed(stream, whole);
    parser.finish();
  }
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    CopyBinaryParser parser;
    DigestSink sink;
    sink.digest.reserve(whole.digest.size());
    parser.feed(std::string_view(stream).substr(0, cut), sink);
    parser.feed(std::string_view(stream).substr(cut), sink);
    parser.finish();
    ASSERT_EQ(sink.digest, whole.digest) << "cut at " << cut;
  }
}

TEST(PgRealCapture, CopyBinaryAndPgoutputBinaryValuesAreTheSameBytes) {
  // Both use the types' send functions, so one set of binary value decoders serves the snapshot
  // (COPY) and the stream (pgoutput 'b').
  const std::string stream = load_copy_capture();
  CopyBinaryParser parser;
  RowSink copy_rows;
  parser.feed(stream, copy_rows);
  parser.finish();

  PgoutputDecoder d;
  std::vector<Row> inserted;
  const std::vector<CapturedMessage> capture = load_capture("pgoutput_v1_binary.hex");
  for (const CapturedMessage& m : capture) {
    if (d.decode(m.bytes) == MessageType::Insert && d.insert().new_tuple.size() == 16) {
      Row r;
      for (const TupleValue& v : d.insert().new_tuple) {
        r.push_back(v.kind == ValueKind::Null ? std::nullopt : std::optional<std::string>(v.data));
      }
      inserted.push_back(std::move(r));
    }
  }
  EXPECT_EQ(inserted, copy_rows.rows);
}

}  // namespace
}  // namespace pg2ch::pg

#include "pg/copy_binary_parser.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "pg_test_util.h"
#include "pg/wire_writer.h"

namespace pg2ch::pg {
namespace {

using Row = std::vector<std::optional<std::string>>;

struct CollectSink {
  std::vector<Row> rows;
  void row(std::span<const FieldView> fields) {
    Row r;
    for (const FieldView& f : fields) {
      if (f.is_null()) {
        r.emplace_back(std::nullopt);
      } else {
        r.emplace_back(std::string(f.view()));
      }
    }
    rows.push_back(std::move(r));
  }
};

const std::string kSignature("PGCOPY\n\377\r\n\0", 11);

std::string header(std::string_view extension = {}, std::uint32_t flags = 0) {
  std::string out = kSignature;
  WireWriter(out).u32(flags).i32(static_cast<std::int32_t>(extension.size())).bytes(extension);
  return out;
}

std::string encode_rows(const std::vector<Row>& rows) {
  std::string out;
  WireWriter w(out);
  for (const Row& row : rows) {
    w.i16(static_cast<std::int16_t>(row.size()));
    for (const auto& field : row) {
      if (field) {
        w.i32(static_cast<std::int32_t>(field->size())).bytes(*field);
      } else {
        w.i32(-1);
      }
    }
  }
  return out;
}

const std::string kTrailer("\xff\xff", 2);

const std::vector<Row> kRows = {
    {"1", "apple", std::nullopt},
    {"", std::nullopt, std::string(300, 'x')},
    {std::string("\0\1\2", 3), "b", "c"},
    {std::nullopt, std::nullopt, std::nullopt},
};

std::vector<Row> parse_in_chunks(std::string_view stream, const std::vector<std::size_t>& cuts, int expected = -1) {
  CopyBinaryParser parser(expected);
  CollectSink sink;
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    parser.feed(stream.substr(start, cut - start), sink);
    start = cut;
  }
  parser.feed(stream.substr(start), sink);
  parser.finish();
  EXPECT_TRUE(parser.finished());
  EXPECT_EQ(parser.rows(), sink.rows.size());
  return sink.rows;
}

TEST(PgCopyBinaryParser, ParsesWholeStream) {
  const std::string stream = header() + encode_rows(kRows) + kTrailer;
  EXPECT_EQ(parse_in_chunks(stream, {}), kRows);
  EXPECT_EQ(parse_in_chunks(stream, {}, 3), kRows);
}

TEST(PgCopyBinaryParser, FastPathIsZeroCopy) {
  const std::string stream = header() + encode_rows({{"abc"}}) + kTrailer;
  CopyBinaryParser parser;
  struct Sink {
    const char* begin;
    const char* end;
    bool inside = false;
    void row(std::span<const FieldView> f) { inside = f[0].data >= begin && f[0].data < end; }
  } sink{stream.data(), stream.data() + stream.size()};
  parser.feed(stream, sink);
  EXPECT_TRUE(sink.inside);
}

TEST(PgCopyBinaryParser, EverySingleSplitYieldsTheSameRows) {
  const std::string stream = header("ext") + encode_rows(kRows) + kTrailer;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(parse_in_chunks(stream, {cut}), kRows) << "cut at " << cut;
  }
}

TEST(PgCopyBinaryParser, EveryPairOfSplitsYieldsTheSameRows) {
  const std::vector<Row> rows = {{"1", std::nullopt}, {"", "abcdef"}, {"22", "x"}};
  const std::string stream = header() + encode_rows(rows) + kTrailer;
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      ASSERT_EQ(parse_in_chunks(stream, {a, b}), rows) << "cuts at " << a << ", " << b;
    }
  }
}

TEST(PgCopyBinaryParser, ByteByByte) {
  const std::string stream = header("extension") + encode_rows(kRows) + kTrailer;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(parse_in_chunks(stream, cuts), kRows);
}

TEST(PgCopyBinaryParser, ZeroColumnRowsAndEmptyCopy) {
  EXPECT_EQ(parse_in_chunks(header() + encode_rows({{}, {}}) + kTrailer, {}), (std::vector<Row>{{}, {}}));
  EXPECT_TRUE(parse_in_chunks(header() + kTrailer, {}).empty());
}

template <class F>
std::string protocol_error(F&& f) {
  try {
    f();
  } catch (const ProtocolError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ProtocolError";
  return {};
}

std::string feed_all(const std::string& stream, int expected = -1) {
  return protocol_error([&] {
    CopyBinaryParser parser(expected);
    CollectSink sink;
    parser.feed(stream, sink);
    parser.finish();
  });
}

TEST(PgCopyBinaryParser, FieldCountMismatchNamesTheRow) {
  const std::string stream = header() + encode_rows({{"a", "b"}, {"c", "d"}, {"e"}}) + kTrailer;
  const std::string message = feed_all(stream);
  EXPECT_NE(message.find("row 3"), std::string::npos) << message;
  EXPECT_NE(message.find("1 fields, expected 2"), std::string::npos) << message;
  // Against the caller's column count, also when the row straddles chunks.
  EXPECT_NE(feed_all(header() + encode_rows({{"a"}}) + kTrailer, 2).find("row 1"), std::string::npos);
  EXPECT_THROW(parse_in_chunks(stream, {25}), ProtocolError);
  EXPECT_THROW(parse_in_chunks(stream, {stream.size() - 5}), ProtocolError);
}

TEST(PgCopyBinaryParser, RejectsGarbage) {
  EXPECT_NE(feed_all("PGCOPX\n\377\r\n" + std::string(9, '\0')).find("signature"), std::string::npos);
  EXPECT_NE(feed_all(header({}, 0x00010000) + kTrailer).find("flags"), std::string::npos);   // OIDs
  EXPECT_NO_THROW(parse_in_chunks(header({}, 0x00000001) + kTrailer, {}));                   // non-critical bit
  std::string negative_ext = kSignature;
  WireWriter(negative_ext).u32(0).i32(-1);
  EXPECT_NE(feed_all(negative_ext).find("extension"), std::string::npos);
  std::string bad_count = header();
  WireWriter(bad_count).i16(-2);
  EXPECT_NE(feed_all(bad_count).find("field count -2"), std::string::npos);
  std::string bad_length = header() + encode_rows({{"a"}});
  WireWriter(bad_length).i16(1).i32(-7);
  const std::string message = feed_all(bad_length);
  EXPECT_NE(message.find("row 2"), std::string::npos) << message;
  EXPECT_NE(message.find("length -7"), std::string::npos) << message;
  EXPECT_NE(feed_all(header() + kTrailer + "x").find("after the trailer"), std::string::npos);
}

TEST(PgCopyBinaryParser, BytesAfterTrailerInALaterChunkThrow) {
  CopyBinaryParser parser;
  CollectSink sink;
  parser.feed(header() + kTrailer, sink);
  EXPECT_TRUE(parser.finished());
  parser.feed("", sink);
  EXPECT_THROW(parser.feed("x", sink), ProtocolError);
}

TEST(PgCopyBinaryParser, EveryTruncatedStreamFailsOnFinish) {
  const std::string stream = header("e") + encode_rows(kRows) + kTrailer;
  for (std::size_t n = 0; n < stream.size(); ++n) {
    CopyBinaryParser parser;
    CollectSink sink;
    const std::string prefix = stream.substr(0, n);
    parser.feed(prefix, sink);
    EXPECT_FALSE(parser.finished()) << n;
    EXPECT_THROW(parser.finish(), ProtocolError) << n;
  }
}

TEST(PgCopyBinaryParser, PullInterface) {
  const std::string stream = header() + encode_rows(kRows) + kTrailer;
  CopyBinaryParser parser;
  parser.begin_chunk(std::string_view(stream).substr(0, 40));
  std::span<const FieldView> row;
  std::size_t rows = 0;
  while (parser.next_row(row)) ++rows;
  parser.begin_chunk(std::string_view(stream).substr(40));
  while (parser.next_row(row)) {
    ++rows;
    EXPECT_EQ(row.size(), 3u);
  }
  EXPECT_EQ(rows, kRows.size());
  EXPECT_TRUE(parser.finished());
  EXPECT_EQ(parser.field_count(), 3);
}

}  // namespace
}  // namespace pg2ch::pg

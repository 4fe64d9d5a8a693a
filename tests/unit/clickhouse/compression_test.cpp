#include "clickhouse/compression.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "clickhouse/chunked_body.h"
#include "test_codecs.h"

namespace pg2ch::clickhouse {
namespace {

std::string decode(Compression c, std::string_view wire) {
  return c == Compression::Gzip ? test::gunzip(wire) : test::unzstd(wire);
}

// Compressible but not trivial: repeating records with a counter, plus random bytes.
std::string sample_body(std::size_t size) {
  std::string s;
  std::mt19937 rng(42);
  for (std::size_t i = 0; s.size() < size; ++i) {
    s += "row " + std::to_string(i) + " value ";
    s.push_back(static_cast<char>(rng()));
  }
  s.resize(size);
  return s;
}

class ClickHouseCompression : public ::testing::TestWithParam<Compression> {};

TEST_P(ClickHouseCompression, OneShotRoundTrip) {
  auto compressor = make_body_compressor(GetParam());
  ASSERT_NE(compressor, nullptr);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{3} << 20}) {
    std::string body = sample_body(size);
    ByteBuffer out;
    compressor->compress(body, out);
    EXPECT_EQ(decode(GetParam(), out.view()), body) << size;
    if (size > 1000) {
      EXPECT_LT(out.size(), body.size() / 2);
    }
  }
}

TEST_P(ClickHouseCompression, ReuseKeepsBuffersAndProducesIndependentBodies) {
  auto compressor = make_body_compressor(GetParam());
  ByteBuffer out;
  std::string first = sample_body(200000);
  compressor->compress(first, out);
  const std::size_t capacity = out.capacity();
  const char* storage = out.data();
  for (int i = 0; i < 5; ++i) {
    out.clear();
    std::string body = sample_body(150000 + static_cast<std::size_t>(i));
    compressor->compress(body, out);
    EXPECT_EQ(decode(GetParam(), out.view()), body);
  }
  // Steady state: the output buffer never had to grow again.
  EXPECT_EQ(out.capacity(), capacity);
  EXPECT_EQ(out.data(), storage);
}

TEST_P(ClickHouseCompression, StreamingWritesEqualTheWholeBody) {
  auto compressor = make_body_compressor(GetParam());
  std::string body = sample_body(1 << 20);
  ByteBuffer out;
  compressor->reset();
  for (std::size_t pos = 0; pos < body.size(); pos += 7777)
    compressor->write(std::string_view(body).substr(pos, 7777), out);
  compressor->finish(out);
  EXPECT_EQ(decode(GetParam(), out.view()), body);
}

TEST_P(ClickHouseCompression, ChunkedBodyCompressesOnTheWay) {
  auto compressor = make_body_compressor(GetParam());
  std::string body = sample_body(500000);
  std::size_t pos = 0;
  std::function<std::string_view()> next = [&] {
    std::string_view piece = std::string_view(body).substr(pos, 10000);
    pos += piece.size();
    return piece;
  };
  ByteBuffer scratch;
  ChunkedBody chunked(next, compressor.get(), scratch);
  std::string wire;
  char buf[3000];
  while (std::size_t n = chunked.read(buf, sizeof buf)) wire.append(buf, n);
  EXPECT_EQ(chunked.read(buf, sizeof buf), 0u);
  EXPECT_EQ(decode(GetParam(), wire), body);
}

INSTANTIATE_TEST_SUITE_P(ClickHouse, ClickHouseCompression, ::testing::Values(Compression::Gzip, Compression::Zstd),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(ClickHouseCompressionNames, HeaderValues) {
  EXPECT_EQ(make_body_compressor(Compression::None), nullptr);
  EXPECT_EQ(content_encoding(Compression::None), "");
  EXPECT_EQ(content_encoding(Compression::Gzip), "gzip");
  EXPECT_EQ(content_encoding(Compression::Zstd), "zstd");
  EXPECT_EQ(to_string(Compression::None), "none");
}

TEST(ClickHouseChunkedBody, PassesChunksThroughAndStopsAtTheEmptyOne) {
  std::vector<std::string> chunks = {"abc", "defgh", "i", ""};
  std::size_t calls = 0;
  std::function<std::string_view()> next = [&] { return std::string_view(chunks.at(calls++)); };
  ByteBuffer scratch;
  ChunkedBody body(next, nullptr, scratch);
  char buf[4];
  std::string got;
  while (std::size_t n = body.read(buf, sizeof buf)) got.append(buf, n);
  EXPECT_EQ(got, "abcdefghi");
  EXPECT_EQ(calls, 4u);
  EXPECT_EQ(body.read(buf, sizeof buf), 0u);
  EXPECT_EQ(calls, 4u);  // never asks the producer again after the end
}

TEST(ClickHouseChunkedBody, ProducerExceptionsPassThrough) {
  std::function<std::string_view()> next = []() -> std::string_view { throw std::runtime_error("source failed"); };
  ByteBuffer scratch;
  ChunkedBody body(next, nullptr, scratch);
  char buf[16];
  EXPECT_THROW(body.read(buf, sizeof buf), std::runtime_error);
}

}  // namespace
}  // namespace pg2ch::clickhouse

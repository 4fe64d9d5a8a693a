// Reading change events back (the consumer's first step): every shape the producers write, and
// clear errors for what is not a change event.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>
#include <string>

#include "common/error.h"
#include "kafka/change_event.h"

namespace pg2ch::kafka {
namespace {

using Kind = ChangeEvent::Kind;

TEST(KafkaChangeEvent, DebeziumCreateUpdateDelete) {
  auto c = decode_change_event(
      R"({"before":null,"after":{"id":1,"v":"a"},"source":{"schema":"public","table":"t","lsn":42},"op":"c"})");
  EXPECT_EQ(c->kind, Kind::Row);
  EXPECT_EQ(c->op, 'c');
  EXPECT_EQ(c->schema, "public");
  EXPECT_EQ(c->table, "t");
  EXPECT_EQ(c->version, 42u);
  ASSERT_NE(c->after, nullptr);
  EXPECT_EQ((*c->after)["id"].GetInt(), 1);
  EXPECT_EQ(c->before, nullptr);
  EXPECT_FALSE(c->xid.has_value());
  EXPECT_EQ(decode_change_event(R"({"after":{"id":1},"source":{"schema":"s","table":"t","lsn":1,"txId":748},"op":"u"})")
                ->xid,
            748u);
  // Debezium's txId was never checked: one that is not a number is left out, not refused.
  EXPECT_FALSE(
      decode_change_event(R"({"after":{"id":1},"source":{"schema":"s","table":"t","lsn":1,"txId":"x"},"op":"u"})")
          ->xid.has_value());

  auto d = decode_change_event(
      R"({"before":{"id":1,"v":null},"after":null,"source":{"schema":"s","table":"t","lsn":43},"op":"d"})");
  EXPECT_EQ(d->op, 'd');
  ASSERT_NE(d->before, nullptr);
  EXPECT_EQ(d->after, nullptr);
}

TEST(KafkaChangeEvent, SchemaWrappedEnvelopeAndTombstones) {
  auto w = decode_change_event(
      R"({"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":5},)"
      R"("source":{"schema":"public","table":"t","lsn":7},"op":"r"}})");
  EXPECT_EQ(w->kind, Kind::Row);
  EXPECT_EQ(w->op, 'r');
  EXPECT_EQ((*w->after)["id"].GetInt(), 5);
  EXPECT_EQ(decode_change_event(std::nullopt)->kind, Kind::Tombstone);
  EXPECT_EQ(decode_change_event(R"({"schema":{},"payload":null})")->kind, Kind::Tombstone);
}

TEST(KafkaChangeEvent, KeyOnlyEventsAndTruncates) {
  auto k = decode_change_event(R"({"id":42,"__op":"u","__schema":"public","__table":"orders","__lsn":99})");
  EXPECT_EQ(k->kind, Kind::KeyOnly);
  EXPECT_EQ(k->op, 'u');
  EXPECT_EQ(k->table, "orders");
  EXPECT_EQ(k->version, 99u);
  EXPECT_EQ((*k->after)["id"].GetInt(), 42);
  EXPECT_FALSE(k->xid.has_value()) << "events of older producers carry no __xid";
  EXPECT_EQ(decode_change_event(R"({"id":42,"__op":"u","__schema":"public","__table":"orders","__lsn":99,"__xid":748})")
                ->xid,
            748u);

  EXPECT_EQ(decode_change_event(R"({"__op":"t","__schema":"public","__table":"orders","__lsn":null})")->kind,
            Kind::Truncate);
  EXPECT_EQ(decode_change_event(
                R"({"before":null,"after":null,"source":{"schema":"public","table":"t","lsn":null},"op":"t"})")
                ->kind,
            Kind::Truncate);
}

void expect_bad(std::string_view value, const std::string& fragment) {
  try {
    decode_change_event(value);
    ADD_FAILURE() << "accepted: " << value;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Data);
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(KafkaChangeEvent, MalformedMessagesSayWhatIsWrong) {
  expect_bad("{not json", "invalid JSON at byte 1");
  expect_bad("[1,2]", "not a JSON object");
  expect_bad(R"({"after":{"id":1},"source":{"schema":"s","table":"t","lsn":1}})", "\"op\" is missing");
  expect_bad(R"({"after":{"id":1},"source":{"schema":"s","table":"t","lsn":1},"op":"x"})", "unknown \"op\"");
  expect_bad(R"({"after":{"id":1},"source":{"schema":"s","lsn":1},"op":"c"})", "source.table");
  expect_bad(R"({"after":{"id":1},"source":{"schema":"s","table":"t","lsn":-1},"op":"c"})", "source.lsn");
  expect_bad(R"({"after":{"id":1},"source":{"schema":"s","table":"t"},"op":"c"})", "source.lsn");
  expect_bad(R"({"after":null,"source":{"schema":"s","table":"t","lsn":1},"op":"c"})", "without \"after\"");
  expect_bad(R"({"before":null,"source":{"schema":"s","table":"t","lsn":1},"op":"d"})", "without \"before\"");
  expect_bad(R"({"after":[1],"source":{"schema":"s","table":"t","lsn":1},"op":"c"})", "neither an object nor null");
  expect_bad(R"({"id":1,"__op":"c","__schema":"s","__table":"t"})", "__lsn");
  expect_bad(R"({"id":1,"__op":"c","__schema":"s","__table":"t","__lsn":1,"__xid":"7"})", "__xid");
}

// Nesting depth must not reach the call stack: a million '[' fits Kafka's default 1 MB message
// limit and used to overflow the recursive parser's stack (SIGSEGV, found while writing
// fuzz/kafka_event_fuzz, whose inputs are too short for it).
TEST(KafkaChangeEvent, DeeplyNestedJsonIsAnErrorNotACrash) {
  constexpr std::size_t kDepth = 1'000'000;
  expect_bad(R"({"after":)" + std::string(kDepth, '['), "invalid JSON");
  const std::string nested = std::string(kDepth, '[') + std::string(kDepth, ']');
  expect_bad(R"({"after":)" + nested + R"(,"source":{"schema":"s","table":"t","lsn":1},"op":"c"})",
             "neither an object nor null");
  expect_bad(R"({"id":)" + nested + R"(,"__op":"c","__schema":"s","__table":"t","__lsn":1,"__xid":"7"})", "__xid");
}

// RapidJSON 1.1.0's full-precision parser turns a zero with a large scale into garbage (0.000e100
// read as 5.1e294; fuzz/kafka_event_fuzz): every spelling of zero must read as zero, with its sign,
// and the same text inside a string must stay as it was.
TEST(KafkaChangeEvent, ZeroWithALargeScaleIsZero) {
  auto ev = decode_change_event(
      R"({"after":{"a":0.000e100,"b":-0e300,"c":0.0000000000000000000000000000,"d":0E-23,"e":0.0,"f":1e-400,)"
      R"("g":[0.0e-22,7],"s":"0.000e100","t":"x\"0e300"},"source":{"schema":"s","table":"t","lsn":1},"op":"c"})");
  const rapidjson::Value& after = *ev->after;
  for (const char* name : {"a", "b", "c", "d", "e", "f"}) {
    ASSERT_TRUE(after[name].IsDouble()) << name;
    EXPECT_EQ(after[name].GetDouble(), 0.0) << name;
    EXPECT_EQ(std::signbit(after[name].GetDouble()), name[0] == 'b') << name;
  }
  EXPECT_EQ(after["g"][0].GetDouble(), 0.0);
  EXPECT_EQ(after["g"][1].GetInt(), 7);
  EXPECT_STREQ(after["s"].GetString(), "0.000e100");
  EXPECT_STREQ(after["t"].GetString(), "x\"0e300");
  // Offsets in parse errors are the message's own.
  expect_bad(R"({"a":0.000e100,})", "invalid JSON at byte 15");
}

// The same parser reads past its table of powers of ten for many digits with a small exponent
// (CI's fuzz run; 0.77777777777777777777e-330 read as -2.2e307 in a release build, a segfault in
// another): every number is the double nearest to its text, as strtod reads it, integers that fit
// 64 bits stay integers, and one beyond the largest double is an error, not infinity.
TEST(KafkaChangeEvent, EveryNumberIsTheNearestDouble) {
  const std::vector<std::string> numbers = {
      "0.77777777777777777777e-330", "7777777777777777777777e-345", "0.77777777777777777777e-325",
      "1.7976931348623157e308",      "2.4703282292062328e-324",     "2.4703282292062329e-324",
      "0.1",                         "123456789012345678901234567890", "-9223372036854775809",
      "3.141592653589793238462643383279502884197", "1e-400", "-1e-400", "5e-324", "9007199254740993.0"};
  std::string json = R"({"after":{)";
  for (std::size_t i = 0; i < numbers.size(); ++i) json += fmt::format("{}\"n{}\":{}", i ? "," : "", i, numbers[i]);
  json += R"(},"source":{"schema":"s","table":"t","lsn":1},"op":"c"})";
  auto ev = decode_change_event(json);
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const rapidjson::Value& v = (*ev->after)[fmt::format("n{}", i).c_str()];
    ASSERT_TRUE(v.IsDouble()) << numbers[i];
    const double expected = std::strtod(numbers[i].c_str(), nullptr);
    const double got = v.GetDouble();
    EXPECT_EQ(std::memcmp(&expected, &got, sizeof expected), 0)
        << numbers[i] << " read as " << v.GetDouble() << ", strtod says " << expected;
  }
  auto ints = decode_change_event(
      R"({"after":{"a":18446744073709551615,"b":-9223372036854775808,"c":-0,"d":0},"source":{"schema":"s","table":"t","lsn":1},"op":"c"})");
  EXPECT_EQ((*ints->after)["a"].GetUint64(), 18446744073709551615ULL);
  EXPECT_EQ((*ints->after)["b"].GetInt64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_TRUE((*ints->after)["c"].IsInt());
  EXPECT_EQ((*ints->after)["c"].GetInt(), 0);
  EXPECT_TRUE((*ints->after)["d"].IsUint());
  expect_bad(R"({"after":{"a":1.8e308},"source":{"schema":"s","table":"t","lsn":1},"op":"c"})",
             "Number too big to be stored in double");
}

}  // namespace
}  // namespace pg2ch::kafka

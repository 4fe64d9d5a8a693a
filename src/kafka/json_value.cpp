#include "kafka/json_value.h"

#include <fmt/format.h>

#include <bit>
#include <memory>
#include <string>
#include <vector>

#include "clickhouse/rowbinary_writer.h"
#include "common/byte_buffer.h"
#include "common/error.h"
#include "kafka/json_text.h"
#include "types/interval_codec.h"
#include "types/network_codecs.h"
#include "types/numeric_text_codec.h"
#include "types/pg_binary.h"
#include "types/text_codecs.h"

namespace pg2ch::kafka {
namespace {

namespace oid = types::oid;
using types::pgbin::Cursor;
using types::pgbin::expect_length;
using types::pgbin::load_be;

constexpr std::int64_t kPgEpochDays = 10957;  // 2000-01-01 - 1970-01-01
constexpr std::int64_t kPgEpochMicros = kPgEpochDays * 86'400'000'000;

// The ClickHouse String codecs already produce PostgreSQL's exact text for these types
// (numeric_out, interval iso_8601, inet/macaddr); they write a RowBinary String (LEB128 length +
// bytes), so run them into a scratch buffer and take the bytes after the length.
std::string codec_text(const types::ValueCodec& codec, std::string_view value) {
  ByteBuffer buf;
  clickhouse::RowBinaryWriter w(buf);
  codec.encode_binary(value, w);
  const std::string_view s = buf.view();
  std::size_t i = 0;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0x80)) ++i;
  return std::string(s.substr(i + 1));
}

const types::ValueCodec& text_codec(std::uint32_t type_oid) {
  static const auto numeric = types::make_numeric_text_codec();
  static const auto interval = types::make_interval_codec();
  static const auto inet = types::make_inet_codec(false);
  static const auto cidr = types::make_inet_codec(true);
  static const auto mac6 = types::make_macaddr_codec(6);
  static const auto mac8 = types::make_macaddr_codec(8);
  static const auto jsonb = types::make_jsonb_codec();
  switch (type_oid) {
    case oid::kNumeric: return *numeric;
    case oid::kInterval: return *interval;
    case oid::kInet: return *inet;
    case oid::kCidr: return *cidr;
    case oid::kMacaddr: return *mac6;
    case oid::kMacaddr8: return *mac8;
    case oid::kJsonb: return *jsonb;
    default: throw Error(ErrorKind::Internal, fmt::format("no text codec for type oid {}", type_oid));
  }
}

void string(JsonWriter& out, std::string_view s) {
  out.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void raw_number(JsonWriter& out, const std::string& text) {
  out.RawValue(text.data(), text.size(), rapidjson::kNumberType);
}

template <typename F>
void floating(JsonWriter& out, F v) {
  const std::string t = float_text(v);
  // JSON has no NaN/Infinity; Jackson (Kafka Connect's JsonConverter) quotes them.
  if (t == "NaN" || t == "Infinity" || t == "-Infinity") {
    string(out, t);
  } else {
    raw_number(out, t);
  }
}

std::string uuid_text(std::string_view v) {
  expect_length(v, 16, "uuid");
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s += fmt::format("{:02x}", static_cast<unsigned char>(v[static_cast<std::size_t>(i)]));
  }
  return s;
}

// "char" as PostgreSQL 15's charout prints it: the byte itself, but a high-bit byte as \ooo
// (raw, it would make the message invalid UTF-8). Empty for the zero byte.
std::string char_text(std::string_view v) {
  expect_length(v, 1, "\"char\"");
  const auto b = static_cast<unsigned char>(v[0]);
  if (b == 0) return {};
  if (b < 0x80) return std::string(1, static_cast<char>(b));
  return fmt::format("\\{:03o}", b);
}

std::string money_text(std::int64_t cents) {
  // Debezium's money.fraction.digits=2: the amount as a decimal with two fraction digits.
  const bool neg = cents < 0;
  const auto abs = neg ? -static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
  return fmt::format("{}{}.{:02}", neg ? "-" : "", abs / 100, abs % 100);
}

// PostgreSQL's ±infinity for timestamps are INT64_MAX/MIN; shifting them would overflow, so they
// pass through as the extreme values (Debezium does the same with Long.MAX/MIN).
bool is_infinite(std::int64_t pg_micros) {
  return pg_micros == INT64_MAX || pg_micros == INT64_MIN;
}

void timestamp(JsonWriter& out, std::string_view v, std::int32_t typmod) {
  expect_length(v, 8, "timestamp");
  const auto pg = load_be<std::int64_t>(v.data());
  if (is_infinite(pg)) {
    out.Int64(pg);
    return;
  }
  const std::int64_t micros = pg + kPgEpochMicros;
  // adaptive: timestamp(0..3) is io.debezium.time.Timestamp (ms), otherwise MicroTimestamp (µs).
  if (typmod >= 0 && typmod <= 3) {
    out.Int64(micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000));
  } else {
    out.Int64(micros);
  }
}

void timestamptz(JsonWriter& out, std::string_view v) {
  expect_length(v, 8, "timestamptz");
  const auto pg = load_be<std::int64_t>(v.data());
  if (is_infinite(pg)) {
    string(out, pg > 0 ? "infinity" : "-infinity");
    return;
  }
  string(out, iso_instant(pg + kPgEpochMicros));
}

void date(JsonWriter& out, std::string_view v) {
  expect_length(v, 4, "date");
  const auto pg = load_be<std::int32_t>(v.data());
  if (pg == INT32_MAX || pg == INT32_MIN) {
    out.Int(pg);  // ±infinity
    return;
  }
  out.Int64(static_cast<std::int64_t>(pg) + kPgEpochDays);
}

void write_scalar(std::uint32_t type_oid, char typtype, std::int32_t typmod, std::string_view v, JsonWriter& out);

// array_send: int32 ndim, int32 has-nulls, uint32 element oid, ndim × (int32 length, int32 lower
// bound), then row-major elements as int32 length (-1 = NULL) + bytes. Written as nested JSON
// arrays by the value's own dimensions (Debezium's connector has no declared-dimension notion).
void write_array(const types::PgTypeDesc& type, std::string_view v, JsonWriter& out) {
  Cursor c(v, "array");
  const auto ndim = c.read<std::int32_t>();
  c.read<std::int32_t>();
  c.read<std::uint32_t>();
  if (ndim < 0 || ndim > 6) c.fail("bad number of dimensions");
  if (ndim == 0) {
    out.StartArray();
    out.EndArray();
    c.expect_end();
    return;
  }
  std::vector<std::int32_t> dims(static_cast<std::size_t>(ndim));
  for (auto& d : dims) {
    d = c.read<std::int32_t>();
    if (d < 0) c.fail("negative dimension");
    c.read<std::int32_t>();
  }
  auto level = [&](auto& self, std::size_t depth) -> void {
    out.StartArray();
    for (std::int32_t i = 0; i < dims[depth]; ++i) {
      if (depth + 1 < dims.size()) {
        self(self, depth + 1);
        continue;
      }
      const auto len = c.read<std::int32_t>();
      if (len == -1) {
        out.Null();
      } else if (len < 0) {
        c.fail("bad element length");
      } else {
        write_scalar(type.element_oid, type.element_typtype, -1, c.take(static_cast<std::size_t>(len)), out);
      }
    }
    out.EndArray();
  };
  level(level, 0);
  c.expect_end();
}

void write_scalar(std::uint32_t type_oid, char typtype, std::int32_t typmod, std::string_view v, JsonWriter& out) {
  if (typtype == 'e') {
    string(out, v);  // enum label
    return;
  }
  switch (type_oid) {
    case oid::kBool: expect_length(v, 1, "bool"); out.Bool(v[0] != 0); return;
    case oid::kInt2: expect_length(v, 2, "int2"); out.Int(load_be<std::int16_t>(v.data())); return;
    case oid::kInt4: expect_length(v, 4, "int4"); out.Int(load_be<std::int32_t>(v.data())); return;
    case oid::kInt8: expect_length(v, 8, "int8"); out.Int64(load_be<std::int64_t>(v.data())); return;
    case oid::kOid: expect_length(v, 4, "oid"); out.Uint(load_be<std::uint32_t>(v.data())); return;
    case oid::kFloat4: {
      expect_length(v, 4, "float4");
      floating(out, std::bit_cast<float>(load_be<std::uint32_t>(v.data())));
      return;
    }
    case oid::kFloat8: {
      expect_length(v, 8, "float8");
      floating(out, std::bit_cast<double>(load_be<std::uint64_t>(v.data())));
      return;
    }
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
    case oid::kJson:
    case oid::kXml: string(out, v); return;
    case oid::kBytea: string(out, base64(v)); return;
    case oid::kUuid: string(out, uuid_text(v)); return;
    case oid::kMoney: expect_length(v, 8, "money"); string(out, money_text(load_be<std::int64_t>(v.data()))); return;
    case oid::kDate: date(out, v); return;
    case oid::kTime: expect_length(v, 8, "time"); out.Int64(load_be<std::int64_t>(v.data())); return;
    case oid::kTimestamp: timestamp(out, v, typmod); return;
    case oid::kTimestampTz: timestamptz(out, v); return;
    case oid::kChar: string(out, char_text(v)); return;
    case oid::kJsonb:
    case oid::kNumeric:
    case oid::kInterval:
    case oid::kInet:
    case oid::kCidr:
    case oid::kMacaddr:
    case oid::kMacaddr8: string(out, codec_text(text_codec(type_oid), v)); return;
    default:
      throw Error(ErrorKind::Schema, fmt::format("type oid {} has no JSON encoding for Kafka", type_oid),
                  "exclude the column in the table's config");
  }
}

}  // namespace

void write_json_value(const types::PgTypeDesc& type, std::string_view pg_binary, JsonWriter& out) {
  if (type.is_array()) {
    write_array(type, pg_binary, out);
    return;
  }
  write_scalar(type.oid, type.typtype, type.typmod, pg_binary, out);
}

}  // namespace pg2ch::kafka

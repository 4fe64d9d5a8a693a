#include "types/scalar_mapping.h"

#include "types/datetime_codecs.h"
#include "types/decimal_codec.h"
#include "types/interval_codec.h"
#include "types/network_codecs.h"
#include "types/numeric_binary.h"
#include "types/numeric_text_codec.h"
#include "types/scalar_codecs.h"
#include "types/text_codecs.h"

namespace pg2ch::types {
namespace {

ScalarMapping plain(std::string type, std::unique_ptr<ValueCodec> codec, std::string note = {}) {
  return ScalarMapping{std::move(type), std::move(codec), std::move(note)};
}

ScalarMapping map_numeric(std::int32_t typmod, const clickhouse::ServerCapabilities& caps) {
  const auto tm = decode_numeric_typmod(typmod);
  if (!tm)
    return plain("String", make_numeric_text_codec(),
                 "numeric without precision is stored as String holding the exact decimal text");
  // Decimal(P, S) needs 0 ≤ S ≤ P; PostgreSQL 15 also allows a negative scale (rounding to tens,
  // hundreds...) and a scale above the precision (only leading fractional zeros).
  int p = tm->precision, s = tm->scale;
  std::string note;
  if (s < 0 || s > p) {
    p = s < 0 ? p - s : s;
    s = s < 0 ? 0 : s;
    note = "numeric(" + std::to_string(tm->precision) + "," + std::to_string(tm->scale) + ") is stored as " +
           decimal_type_name(p, s);
  }
  const int max_precision = caps.decimal256 ? 76 : 38;
  if (p > max_precision)
    return plain("String", make_numeric_text_codec(),
                 "numeric(" + std::to_string(tm->precision) + "," + std::to_string(tm->scale) + ") exceeds the " +
                     std::to_string(max_precision) +
                     "-digit Decimal of this ClickHouse: stored as String holding the exact decimal text");
  return plain(decimal_type_name(p, s), make_decimal_codec(p, s), std::move(note));
}

ScalarMapping map_timestamp(bool with_tz, const clickhouse::ServerCapabilities& caps) {
  // Both flavours are declared in UTC: timestamptz is an instant, and a timestamp's wall-clock
  // value is encoded as if it were UTC, so only a UTC column shows it unchanged whatever the
  // server's time zone.
  if (caps.datetime64)
    return plain("DateTime64(6, 'UTC')", make_timestamp_codec(datetime64_range(caps), "DateTime64"));
  return plain("Int64", make_timestamp_codec({INT64_MIN, INT64_MAX, "64-bit microseconds since 1970-01-01"}, "Int64"),
               std::string(with_tz ? "timestamptz" : "timestamp") +
                   " is stored as Int64 microseconds since 1970-01-01 00:00:00 UTC (DateTime64 needs ClickHouse 20.1)");
}

}  // namespace

std::optional<ScalarMapping> map_scalar(std::uint32_t type_oid, char typtype, std::int32_t typmod,
                                        const clickhouse::ServerCapabilities& caps) {
  // An enum's binary form is its label; labels can be added or renamed, so no ClickHouse Enum.
  if (typtype == 'e') return plain("String", make_string_codec());
  if (typtype != 'b') return std::nullopt;

  switch (type_oid) {
    case oid::kInt2: return plain("Int16", make_byteswap_codec(2, "int2"));
    case oid::kInt4: return plain("Int32", make_byteswap_codec(4, "int4"));
    case oid::kInt8: return plain("Int64", make_byteswap_codec(8, "int8"));
    case oid::kOid: return plain("UInt32", make_byteswap_codec(4, "oid"));
    case oid::kFloat4: return plain("Float32", make_byteswap_codec(4, "float4"));
    case oid::kFloat8: return plain("Float64", make_byteswap_codec(8, "float8"));
    case oid::kNumeric: return map_numeric(typmod, caps);
    case oid::kBool:
      if (caps.bool_type) return plain("Bool", make_bool_codec());
      return plain("UInt8", make_bool_codec(), "bool is stored as UInt8 0/1 (Bool needs ClickHouse 21.12)");

    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
    case oid::kJson:
    case oid::kXml:
    case oid::kBytea: return plain("String", make_string_codec());
    case oid::kChar: return plain("String", make_char_codec());
    case oid::kJsonb: return plain("String", make_jsonb_codec());
    case oid::kUuid: return plain("UUID", make_uuid_codec());

    case oid::kDate:
      if (caps.date32) {
        auto range = date32_range(caps);
        return plain("Date32", make_date_codec(DayWidth::Int32, range, "Date32"));
      } else {
        auto range = date_range(caps);
        std::string note = "date is stored as Date: only " + range.text + " (Date32 needs ClickHouse 21.9)";
        return plain("Date", make_date_codec(DayWidth::UInt16, std::move(range), "Date"), std::move(note));
      }
    case oid::kTimestamp: return map_timestamp(false, caps);
    case oid::kTimestampTz: return map_timestamp(true, caps);
    case oid::kTime:
      return plain("Int64", make_byteswap_codec(8, "time"),
                   "time is stored as Int64 microseconds since midnight (ClickHouse has no time-of-day type)");

    case oid::kInterval:
      return plain("String", make_interval_codec(),
                   "interval is stored as String in ISO 8601 (PostgreSQL intervalstyle iso_8601)");
    case oid::kInet: return plain("String", make_inet_codec(false), "inet is stored as String in PostgreSQL's text form");
    case oid::kCidr: return plain("String", make_inet_codec(true), "cidr is stored as String in PostgreSQL's text form");
    case oid::kMacaddr:
      return plain("String", make_macaddr_codec(6), "macaddr is stored as String in PostgreSQL's text form");
    case oid::kMacaddr8:
      return plain("String", make_macaddr_codec(8), "macaddr8 is stored as String in PostgreSQL's text form");
    case oid::kMoney:
      return plain("Int64", make_byteswap_codec(8, "money"),
                   "money is stored as Int64 in the currency's smallest unit (cents for most lc_monetary "
                   "settings)");
  }
  return std::nullopt;
}

}  // namespace pg2ch::types

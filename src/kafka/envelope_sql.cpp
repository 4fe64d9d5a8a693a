#include "kafka/envelope_sql.h"

#include <fmt/format.h>

#include <optional>

#include "clickhouse/http_client.h"
#include "common/error.h"
#include "types/pg_type.h"

namespace pg2ch::kafka {
namespace {

namespace oid = types::oid;

// Which form of the JSON value a conversion starts from.
enum class Source {
  Raw,       // the JSON text as is: numbers, true/false, arrays
  Unquoted,  // the JSON text without quotes: floats, whose NaN/±Infinity are JSON strings
  String,    // the decoded JSON string
};

struct Conversion {
  Source source;
  std::string zero;        // a text the conversion accepts, standing in for null
  std::string expression;  // with {} for the text
};

bool is_text_like(std::uint32_t type_oid, char typtype) {
  if (typtype == 'e') return true;
  switch (type_oid) {
    case oid::kText: case oid::kVarchar: case oid::kBpchar: case oid::kName: case oid::kChar:
    case oid::kJson: case oid::kJsonb: case oid::kXml: case oid::kInterval: case oid::kInet:
    case oid::kCidr: case oid::kMacaddr: case oid::kMacaddr8:
      return true;
    default:
      return false;
  }
}

bool is_integer(std::uint32_t type_oid) {
  return type_oid == oid::kInt2 || type_oid == oid::kInt4 || type_oid == oid::kInt8 || type_oid == oid::kOid;
}

// `inner` is the target type without Nullable(...).
std::optional<Conversion> scalar(const types::PgTypeDesc& t, const std::string& inner, EnvelopeSqlDialect dialect) {
  const bool modern = dialect == EnvelopeSqlDialect::JsonExtract;
  if (is_text_like(t.oid, t.typtype)) return Conversion{Source::String, "", "{}"};
  switch (t.oid) {
    case oid::kInt2: return Conversion{Source::Raw, "0", "toInt16({})"};
    case oid::kInt4: return Conversion{Source::Raw, "0", "toInt32({})"};
    case oid::kInt8: return Conversion{Source::Raw, "0", "toInt64({})"};
    case oid::kOid: return Conversion{Source::Raw, "0", "toUInt32({})"};
    case oid::kTime: return Conversion{Source::Raw, "0", "toInt64({})"};  // µs since midnight both sides
    case oid::kFloat4: return Conversion{Source::Unquoted, "0", "toFloat32({})"};
    case oid::kFloat8: return Conversion{Source::Unquoted, "0", "toFloat64({})"};
    // The exact decimal text; into Decimal(p, s) or, for numeric without precision, String.
    case oid::kNumeric:
      return Conversion{Source::String, inner == "String" ? "" : "0", inner == "String" ? "{}" : "CAST({} AS " + inner + ")"};
    // "12.34" (money.fraction.digits=2) back to the amount in cents, as pg2ch stores money.
    case oid::kMoney: return Conversion{Source::String, "0.00", "toInt64(replaceOne({}, '.', ''))"};
    case oid::kUuid: return Conversion{Source::String, "00000000-0000-0000-0000-000000000000", "toUUID({})"};
    case oid::kBool:
      if (inner == "Bool") return Conversion{Source::Raw, "false", "CAST(toUInt8({} = 'true') AS Bool)"};
      return Conversion{Source::Raw, "false", "toUInt8({} = 'true')"};
    case oid::kBytea:
      if (!modern) return std::nullopt;  // base64Decode arrived after 18.16
      return Conversion{Source::String, "", "base64Decode({})"};
    // Days since 1970-01-01.
    case oid::kDate:
      if (inner == "Date32") return Conversion{Source::Raw, "0", "addDays(toDate32('1970-01-01'), toInt64({}))"};
      return Conversion{Source::Raw, "0", "CAST(toUInt16({}) AS Date)"};
    // timestamp(0..3) is milliseconds, other precisions microseconds since 1970 (see json_value.h).
    case oid::kTimestamp: {
      const bool millis = t.typmod >= 0 && t.typmod <= 3;
      const std::string micros = millis ? "(toInt64({}) * 1000)" : "toInt64({})";
      if (inner == "Int64") return Conversion{Source::Raw, "0", micros};
      if (!modern) return std::nullopt;  // DateTime64 on a 20.x server: no conversion written for it
      return Conversion{Source::Raw, "0", "fromUnixTimestamp64Micro(" + micros + ", 'UTC')"};
    }
    // "2024-05-01T10:00:00.5Z"
    case oid::kTimestampTz:
      if (inner == "Int64") {
        // 18.16 has no DateTime64: whole seconds through DateTime (so 1970..2106 only), plus the
        // fraction's digits padded to microseconds.
        return Conversion{Source::String, "1970-01-01T00:00:00Z",
                          "(toInt64(toUnixTimestamp(parseDateTimeBestEffort({0}, 'UTC'))) * 1000000 + "
                          "toInt64(substring(concat(extract({0}, '\\\\.([0-9]+)'), '000000'), 1, 6)))"};
      }
      if (!modern) return std::nullopt;
      return Conversion{Source::String, "1970-01-01T00:00:00Z", "parseDateTime64BestEffort({}, 6, 'UTC')"};
  }
  return std::nullopt;
}

std::optional<Conversion> array(const types::PgTypeDesc& t, const std::string& type, EnvelopeSqlDialect dialect) {
  if (dialect == EnvelopeSqlDialect::JsonExtract) {
    // JSONExtract parses nested arrays and null elements into the declared type directly.
    if (is_integer(t.element_oid) || is_text_like(t.element_oid, t.element_typtype))
      return Conversion{Source::Raw, "[]", "JSONExtract({}, " + clickhouse::quote_string(type) + ")"};
    return std::nullopt;
  }
  // A JSON array of integers is ClickHouse's own array text once null is spelled NULL; other
  // element encodings (strings with JSON escapes, NaN as strings) are not.
  if (is_integer(t.element_oid)) return Conversion{Source::Raw, "[]", "CAST(replaceAll({}, 'null', 'NULL') AS " + type + ")"};
  return std::nullopt;
}

std::string inner_type(const pipeline::TargetColumn& c) {
  const std::string& t = c.mapping.clickhouse_type;
  if (c.mapping.nullable && t.starts_with("Nullable(") && t.ends_with(")")) return t.substr(9, t.size() - 10);
  return t;
}

// The key as it appears between quotes in the JSON text. visitParam* search for it verbatim, so
// names that JSON escapes are refused rather than matched wrongly.
std::string visit_param_key(const pipeline::TableSchema& table, const pipeline::TargetColumn& c) {
  for (const char ch : c.name) {
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20)
      throw Error(ErrorKind::Schema,
                  fmt::format("column {}.{}: its name contains a quote, backslash or control character, which "
                              "the Kafka engine recipe for ClickHouse before 21.1 cannot look up",
                              table.qualified_source(), c.name),
                  fmt::format("rename the column or exclude it with `exclude = [\"{}\"]`", c.name));
  }
  return clickhouse::quote_string(c.name);
}

}  // namespace

EnvelopeSqlDialect envelope_sql_dialect(const clickhouse::ServerCapabilities& caps) {
  // JSONAsString, JSONExtract*, base64Decode and fromUnixTimestamp64Micro are all there by 21.1.
  return caps.version.at_least(21, 1) ? EnvelopeSqlDialect::JsonExtract : EnvelopeSqlDialect::VisitParam;
}

std::string column_value_sql(const pipeline::TableSchema& table, const pipeline::TargetColumn& column,
                             EnvelopeSqlDialect dialect, std::string_view row_alias) {
  const types::PgTypeDesc& type = table.source_columns.at(static_cast<std::size_t>(column.source_index)).type;
  const std::string inner = inner_type(column);
  const auto conv = type.is_array() ? array(type, column.mapping.clickhouse_type, dialect) : scalar(type, inner, dialect);
  if (!conv) {
    throw Error(ErrorKind::Schema,
                fmt::format("column {}.{} ({} stored as {}): the Kafka engine recipe cannot convert its Debezium "
                            "encoding back on ClickHouse {}",
                            table.qualified_source(), column.name, type.name, column.mapping.clickhouse_type,
                            dialect == EnvelopeSqlDialect::VisitParam ? "before 21.1" : "21.1 and later"),
                fmt::format("exclude the column with `exclude = [\"{}\"]` in the table's config (or let pg2ch's "
                            "own ClickHouse sink replicate this table)",
                            column.name));
  }
  const std::string key = dialect == EnvelopeSqlDialect::VisitParam ? visit_param_key(table, column)
                                                                      : clickhouse::quote_string(column.name);
  const std::string row(row_alias);
  const std::string raw = dialect == EnvelopeSqlDialect::VisitParam ? fmt::format("visitParamExtractRaw({}, {})", row, key)
                                                                    : fmt::format("JSONExtractRaw({}, {})", row, key);
  std::string text;
  switch (conv->source) {
    case Source::Raw: text = raw; break;
    case Source::Unquoted: text = fmt::format("replaceAll({}, '\"', '')", raw); break;
    case Source::String:
      text = dialect == EnvelopeSqlDialect::VisitParam ? fmt::format("visitParamExtractString({}, {})", row, key)
                                                       : fmt::format("JSONExtractString({}, {})", row, key);
      break;
  }
  // A string value's raw text starts with a quote, so it is never the bare word null.
  const std::string is_null = fmt::format("{} = 'null'", raw);
  const std::string safe = fmt::format("if({}, {}, {})", is_null, clickhouse::quote_string(conv->zero), text);
  const std::string value = fmt::format(fmt::runtime(conv->expression), safe);
  if (column.mapping.nullable) return fmt::format("if({}, NULL, {})", is_null, value);
  return value;
}

}  // namespace pg2ch::kafka

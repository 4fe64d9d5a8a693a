#include "verify/column_text.h"

#include <fmt/format.h>

#include "clickhouse/http_client.h"
#include "pg/quote_ident.h"

namespace pg2ch::verify {
namespace {

namespace oid = types::oid;

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

std::string unwrap(std::string type, std::string_view wrapper) {
  const std::string open = std::string(wrapper) + "(";
  if (starts_with(type, open) && type.back() == ')') return type.substr(open.size(), type.size() - open.size() - 1);
  return type;
}

}  // namespace

std::string inner_clickhouse_type(const std::string& type) {
  return unwrap(unwrap(unwrap(type, "Nullable"), "LowCardinality"), "Nullable");
}

std::optional<ColumnText> column_text(const pipeline::SourceColumn& source, const pipeline::TargetColumn& target,
                                      std::string& why) {
  const std::string p = pg::quote_ident(source.name);
  const std::string c = clickhouse::quote_identifier(target.name);
  const std::string inner = inner_clickhouse_type(target.mapping.clickhouse_type);
  const types::PgTypeDesc& t = source.type;
  const auto none = [&]() -> std::optional<ColumnText> {
    why = fmt::format("{} ({} as {})", source.name, t.name, target.mapping.clickhouse_type);
    return std::nullopt;
  };
  if (t.is_array() || t.typtype == 'c' || t.typtype == 'r' || t.typtype == 'm') return none();
  if (t.typtype == 'e') return ColumnText{p + "::text", "toString(" + c + ")"};
  switch (t.oid) {
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid: return ColumnText{p + "::text", "toString(" + c + ")"};
    case oid::kBool:
      return ColumnText{fmt::format("CASE WHEN {0} THEN '1' WHEN NOT {0} THEN '0' END", p),
                        "toString(toUInt8(" + c + "))"};
    // The IEEE bytes, big-endian: decimal renderings of floats differ between servers and versions.
    // ClickHouse's reinterpretAsString drops the zero bytes at the end of the (little-endian)
    // value, so the leading zero bytes of the big-endian form go on the PostgreSQL side too
    // (0.0 is '' on both).
    case oid::kFloat4:
    case oid::kFloat8:
      return ColumnText{fmt::format("regexp_replace(encode({}send({}), 'hex'), '^(00)+', '')",
                                    t.oid == oid::kFloat4 ? "float4" : "float8", p),
                        "lower(hex(reverse(reinterpretAsString(" + c + "))))"};
    case oid::kNumeric:
      if (inner == "String") return ColumnText{p + "::text", c};
      if (!starts_with(inner, "Decimal")) return none();
      // 18.16 prints a Decimal with all its scale's digits, newer servers drop trailing zeros.
      return ColumnText{"trim_scale(" + p + ")::text",
                        "replaceRegexpOne(toString(" + c + R"(), '(\\.[0-9]*[1-9])0+$|\\.0+$', '\\1'))"};
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
    case oid::kChar:
    case oid::kJson:
    case oid::kJsonb:
    case oid::kXml:
      if (inner != "String" && !starts_with(inner, "FixedString")) return none();
      // The type's output function (format's %s), as the stream decodes it: char(n) keeps its
      // padding, which a cast to text would strip.
      return ColumnText{fmt::format("CASE WHEN {0} IS NULL THEN NULL ELSE format('%s', {0}) END", p),
                        "toString(" + c + ")"};
    case oid::kUuid: return ColumnText{p + "::text", "lower(toString(" + c + "))"};
    case oid::kDate:
      if (starts_with(inner, "Date")) return ColumnText{"(" + p + " - DATE '1970-01-01')::text", "toString(toInt32(" + c + "))"};
      return none();
    case oid::kTimestamp:
    case oid::kTimestampTz: {
      const std::string pg_micros = "(extract(epoch FROM " + p + ") * 1000000)::bigint::text";
      if (starts_with(inner, "DateTime64")) return ColumnText{pg_micros, "toString(toUnixTimestamp64Micro(" + c + "))"};
      if (inner == "Int64") return ColumnText{pg_micros, "toString(" + c + ")"};
      return none();
    }
    default: return none();
  }
}

}  // namespace pg2ch::verify

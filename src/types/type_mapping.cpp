// map_column (declared in value_codec.h): Nullable and Array wrapping around map_scalar, and the
// operator-facing error for unsupported types.
#include <string>

#include "common/error.h"
#include "types/array_codec.h"
#include "types/numeric_text_codec.h"
#include "types/scalar_mapping.h"
#include "types/value_codec.h"

namespace pg2ch::types {
namespace {

[[noreturn]] void throw_unsupported(const PgTypeDesc& type, std::string_view table, std::string_view column) {
  throw Error(ErrorKind::Schema,
              "column " + std::string(table) + "." + std::string(column) + " has type " + type.name +
                  ", which pg2ch cannot replicate to ClickHouse",
              "exclude the column with `exclude = [\"" + std::string(column) + "\"]` in the table's config");
}

void add_note(std::string& notes, std::string_view note) {
  if (note.empty()) return;
  if (!notes.empty()) notes += "; ";
  notes += note;
}

}  // namespace

ColumnMapping map_column(const PgTypeDesc& type, bool not_null, const clickhouse::ServerCapabilities& caps,
                         std::string_view table, std::string_view column) {
  ColumnMapping m;
  if (!type.is_array()) {
    auto scalar = map_scalar(type.oid, type.typtype, type.typmod, caps);
    if (!scalar) throw_unsupported(type, table, column);
    m.nullable = !not_null;
    m.clickhouse_type = m.nullable ? "Nullable(" + scalar->clickhouse_type + ")" : std::move(scalar->clickhouse_type);
    m.codec = std::move(scalar->codec);
    m.note = std::move(scalar->note);
    return m;
  }

  auto element = map_scalar(type.element_oid, type.element_typtype, type.typmod, caps);
  // attndims is not validated by PostgreSQL (int[][][][][][][] is accepted) but no value can
  // have more than 6 dimensions.
  if (!element || type.array_ndims > 6) throw_unsupported(type, table, column);
  // Elements are always Nullable: PostgreSQL has no way to declare them NOT NULL. Declared
  // multi-dimensional columns get one Array level per dimension (PostgreSQL arrays are
  // rectangular, so the inner levels never need to be NULL).
  const int dims = type.array_ndims > 1 ? type.array_ndims : 1;
  std::string ch = "Nullable(" + element->clickhouse_type + ")";
  for (int i = 0; i < dims; ++i) ch = "Array(" + ch + ")";
  m.clickhouse_type = std::move(ch);
  m.codec = make_array_codec(std::move(element->codec), dims);
  add_note(m.note, element->note);
  if (!not_null) {
    m.null_as_default = true;
    add_note(m.note, "ClickHouse has no Nullable(Array): a NULL array is stored as []");
  }
  return m;
}

ColumnMapping map_column_as(std::string_view clickhouse_type, const PgTypeDesc& type, bool not_null,
                            std::string_view table, std::string_view column) {
  if (clickhouse_type != "String" || type.is_array() || type.oid != oid::kNumeric) {
    throw Error(ErrorKind::Config,
                "types." + std::string(column) + " = \"" + std::string(clickhouse_type) + "\" for " +
                    std::string(table) + "." + std::string(column) + " (type " + type.name +
                    "): pg2ch maps only numeric columns to another type (String)",
                "remove the entry from the table's types, or exclude the column");
  }
  ColumnMapping m;
  m.nullable = !not_null;
  m.clickhouse_type = m.nullable ? "Nullable(String)" : "String";
  m.codec = make_numeric_text_codec();
  m.note = "numeric stored as String by the table's types setting (exact decimal text, NaN and Infinity too)";
  return m;
}

}  // namespace pg2ch::types

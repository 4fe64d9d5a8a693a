#include "pipeline/row_encoder.h"

#include <fmt/format.h>

#include "common/error.h"

namespace pg2ch::pipeline {

void RowEncoder::encode_value(const TargetColumn& col, const ValueRef& v, clickhouse::RowBinaryWriter& w) const {
  switch (v.kind) {
    case ValueRef::Kind::Binary:
      if (col.mapping.nullable) w.null_flag(false);
      col.mapping.codec->encode_binary(v.data, w);
      return;
    case ValueRef::Kind::Null:
      if (col.mapping.null_as_default) {  // e.g. a NULL array: ClickHouse has no Nullable(Array)
        col.mapping.codec->encode_default(w);
        return;
      }
      if (!col.mapping.nullable) {
        throw Error(ErrorKind::Data,
                    fmt::format("NULL in column {} of {}, whose ClickHouse column takes no NULL (the column was NOT "
                                "NULL when the target was made; logical.on_not_null_dropped = \"ignore\" keeps it so)",
                                col.name, schema_.qualified_source()),
                    fmt::format("copy the table again (`pg2ch resync {}`): the copy makes its target column "
                                "Nullable; logical.on_not_null_dropped = \"evolve\" follows such a change in place",
                                schema_.qualified_source()));
      }
      w.null_flag(true);
      return;
    case ValueRef::Kind::UnchangedToast:
      throw Error(ErrorKind::Internal, fmt::format("unresolved unchanged TOAST value in column {} of {}", col.name,
                                                   schema_.qualified_source()));
  }
}

void RowEncoder::encode_default(const TargetColumn& col, clickhouse::RowBinaryWriter& w) const {
  if (col.mapping.nullable) {
    w.null_flag(true);
  } else {
    col.mapping.codec->encode_default(w);
  }
}

namespace {

// Codecs do not know their column: their hints write "<column>" inside a TOML string, which the
// column's name replaces here (escaped as a TOML basic string), so the hint is a line to paste.
std::string hint_for_column(std::string hint, const std::string& column) {
  constexpr std::string_view kPlaceholder = "<column>";
  std::string escaped;
  for (char c : column) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  for (auto at = hint.find(kPlaceholder); at != std::string::npos; at = hint.find(kPlaceholder, at + escaped.size())) {
    hint.replace(at, kPlaceholder.size(), escaped);
  }
  return hint;
}

}  // namespace

void RowEncoder::fail(const TargetColumn& col, const std::exception& e) const {
  const auto* err = dynamic_cast<const Error*>(&e);
  throw Error(err ? err->kind() : ErrorKind::Data,
              fmt::format("column {} ({}) of {}: {}", col.name, col.mapping.clickhouse_type, schema_.qualified_source(),
                          e.what()),
              err ? hint_for_column(err->hint(), col.name) : std::string{});
}

void RowEncoder::encode_live(std::span<const ValueRef> values, bool by_source_index, std::uint64_t version,
                             ByteBuffer& out) const {
  const std::size_t rollback = out.size();
  clickhouse::RowBinaryWriter w(out);
  const auto& cols = schema_.target_columns;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    try {
      encode_value(cols[i], values[by_source_index ? static_cast<std::size_t>(cols[i].source_index) : i], w);
    } catch (const std::exception& e) {
      out.truncate(rollback);
      fail(cols[i], e);
    }
  }
  w.fixed<std::uint64_t>(version);
  w.u8(0);
}

void RowEncoder::encode_delete(std::span<const ValueRef> values, std::uint64_t version, ByteBuffer& out) const {
  const std::size_t rollback = out.size();
  clickhouse::RowBinaryWriter w(out);
  for (const auto& col : schema_.target_columns) {
    try {
      if (col.is_key) {
        encode_value(col, values[static_cast<std::size_t>(col.source_index)], w);
      } else {
        encode_default(col, w);
      }
    } catch (const std::exception& e) {
      out.truncate(rollback);
      fail(col, e);
    }
  }
  w.fixed<std::uint64_t>(version);
  w.u8(1);
}

}  // namespace pg2ch::pipeline

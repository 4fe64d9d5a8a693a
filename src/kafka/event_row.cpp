#include "kafka/event_row.h"

#include <fmt/format.h>

#include "common/error.h"
#include "kafka/envelope.h"
#include "kafka/json_decode.h"

namespace pg2ch::kafka {
namespace {

using pipeline::OwnedValue;
using pipeline::ValueRef;

bool is_unavailable_placeholder(const rapidjson::Value& v) {
  return v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == kUnavailableValue;
}

OwnedValue column_value(const pipeline::TableSchema& table, const pipeline::SourceColumn& col,
                        const rapidjson::Value& object) {
  const auto it = object.FindMember(rapidjson::StringRef(col.name.data(), col.name.size()));
  if (it == object.MemberEnd()) {
    throw Error(ErrorKind::Data,
                fmt::format("the event for {} has no column \"{}\"", table.qualified_source(), col.name),
                "the producer's include/exclude for this table must match the consumer's");
  }
  const rapidjson::Value& v = it->value;
  if (v.IsNull()) {
    if (col.is_key) {
      throw Error(ErrorKind::Data, fmt::format("key column {}.{} is null in the event", table.qualified_source(), col.name));
    }
    return {};
  }
  if (!col.is_key && is_unavailable_placeholder(v)) return {ValueRef::Kind::UnchangedToast, {}};
  OwnedValue out{ValueRef::Kind::Binary, {}};
  try {
    read_json_value(col.type, v, out.data);
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("reading column {} of {} ({}) from Kafka", col.name, table.qualified_source(),
                                        col.type.name));
  }
  return out;
}

}  // namespace

pipeline::OwnedRow row_from_json(const pipeline::TableSchema& table, const rapidjson::Value& object, RowPart part) {
  pipeline::OwnedRow row;
  row.values.resize(table.source_columns.size());
  for (std::size_t i = 0; i < table.source_columns.size(); ++i) {
    const auto& col = table.source_columns[i];
    if (col.target_index < 0) continue;
    if (part == RowPart::KeyOnly && !col.is_key) continue;
    row.values[i] = column_value(table, col, object);
  }
  return row;
}

}  // namespace pg2ch::kafka

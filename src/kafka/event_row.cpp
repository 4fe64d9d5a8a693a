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

// The member of `object` holding column `name`: by its name, else by the names it had before
// (renamed, latest last).
rapidjson::Value::ConstMemberIterator member_of(const rapidjson::Value& object, const std::string& name,
                                                const OlderShape& older) {
  auto it = object.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it != object.MemberEnd() || !older.renamed) return it;
  std::string now = name;
  for (auto r = older.renamed->rbegin(); r != older.renamed->rend(); ++r) {
    if (r->second != now) continue;
    now = r->first;
    it = object.FindMember(rapidjson::StringRef(now.data(), now.size()));
    if (it != object.MemberEnd()) return it;
  }
  return object.MemberEnd();
}

OwnedValue column_value(const pipeline::TableSchema& table, const pipeline::SourceColumn& col,
                        const rapidjson::Value& object, const OlderShape& older) {
  const auto it = member_of(object, col.name, older);
  if (it == object.MemberEnd()) {
    if (older.may_lack_columns && !col.is_key) {
      if (older.missing) {
        for (const auto& [name, value] : *older.missing) {
          if (name == col.name) return {ValueRef::Kind::Binary, value};
        }
      }
      return {};
    }
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

pipeline::OwnedRow row_from_json(const pipeline::TableSchema& table, const rapidjson::Value& object, RowPart part,
                                 const OlderShape& older) {
  pipeline::OwnedRow row;
  row.values.resize(table.source_columns.size());
  for (std::size_t i = 0; i < table.source_columns.size(); ++i) {
    const auto& col = table.source_columns[i];
    if (col.target_index < 0) continue;
    if (part == RowPart::KeyOnly && !col.is_key) continue;
    row.values[i] = column_value(table, col, object, older);
  }
  return row;
}

}  // namespace pg2ch::kafka

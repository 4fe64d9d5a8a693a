#include "kafka/envelope.h"

#include <fmt/format.h>

#include "common/error.h"
#include "kafka/json_value.h"

namespace pg2ch::kafka {
namespace {

using pipeline::TableSchema;
using pipeline::ValueRef;

void key_name(JsonWriter& out, std::string_view name) {
  out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
}

void str(JsonWriter& out, std::string_view s) { out.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void column_value(JsonWriter& out, const TableSchema& table, std::size_t i, const ValueRef& v) {
  switch (v.kind) {
    case ValueRef::Kind::Null: out.Null(); return;
    case ValueRef::Kind::UnchangedToast: str(out, kUnavailableValue); return;
    case ValueRef::Kind::Binary: break;
  }
  const auto& col = table.source_columns[i];
  try {
    write_json_value(col.type, v.data, out);
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("encoding column {} of {} as JSON", col.name, table.qualified_source()));
  }
}

// Replicated columns only (include/exclude apply to Kafka as to ClickHouse).
void row_object(JsonWriter& out, const TableSchema& table, std::span<const ValueRef> row) {
  if (row.empty()) {
    out.Null();
    return;
  }
  out.StartObject();
  for (std::size_t i = 0; i < table.source_columns.size(); ++i) {
    if (table.source_columns[i].target_index < 0) continue;
    key_name(out, table.source_columns[i].name);
    column_value(out, table, i, i < row.size() ? row[i] : ValueRef::null());
  }
  out.EndObject();
}

void key_columns(JsonWriter& out, const TableSchema& table, std::span<const ValueRef> row) {
  for (int ti : table.key_target_indexes) {
    const auto si = static_cast<std::size_t>(table.target_columns[static_cast<std::size_t>(ti)].source_index);
    key_name(out, table.source_columns[si].name);
    column_value(out, table, si, si < row.size() ? row[si] : ValueRef::null());
  }
}

void source_block(JsonWriter& out, const EnvelopeContext& ctx, const TableSchema& table, bool snapshot,
                  const std::uint64_t* lsn, const EventTimes& times) {
  key_name(out, "source");
  out.StartObject();
  key_name(out, "version");
  str(out, "pg2ch-" PG2CH_VERSION);
  key_name(out, "connector");
  str(out, "postgresql");
  key_name(out, "name");
  str(out, ctx.connector_name);
  key_name(out, "ts_ms");
  out.Int64(times.source_ts_ms);
  key_name(out, "snapshot");
  str(out, snapshot ? "true" : "false");
  key_name(out, "db");
  str(out, ctx.database);
  key_name(out, "sequence");
  out.Null();
  key_name(out, "schema");
  str(out, table.source_schema);
  key_name(out, "table");
  str(out, table.source_name);
  key_name(out, "txId");
  if (times.tx_id) {
    out.Uint(*times.tx_id);
  } else {
    out.Null();
  }
  key_name(out, "lsn");
  if (lsn) {
    out.Uint64(*lsn);
  } else {
    out.Null();
  }
  key_name(out, "xmin");
  out.Null();
  out.EndObject();
}

std::string take(rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

}  // namespace

std::string message_key(const TableSchema& table, std::span<const ValueRef> row, std::string_view table_identifier) {
  rapidjson::StringBuffer buf;
  JsonWriter out(buf);
  out.StartObject();
  key_columns(out, table, row);
  if (!table_identifier.empty()) {
    key_name(out, "__dbz__physicalTableIdentifier");
    str(out, table_identifier);
  }
  out.EndObject();
  return take(buf);
}

namespace {

// The envelope every op shares; `lsn` null for truncates, which the seam gives no position.
std::string envelope(const EnvelopeContext& ctx, const TableSchema& table, char op, std::span<const ValueRef> before,
                     std::span<const ValueRef> after, const std::uint64_t* lsn, const EventTimes& times) {
  rapidjson::StringBuffer buf;
  JsonWriter out(buf);
  out.StartObject();
  key_name(out, "before");
  row_object(out, table, before);
  key_name(out, "after");
  row_object(out, table, after);
  source_block(out, ctx, table, op == 'r', lsn, times);
  key_name(out, "op");
  str(out, std::string_view(&op, 1));
  key_name(out, "ts_ms");
  out.Int64(times.ts_ms);
  key_name(out, "transaction");
  out.Null();
  out.EndObject();
  return take(buf);
}

}  // namespace

std::string debezium_value(const EnvelopeContext& ctx, const TableSchema& table, char op,
                           std::span<const ValueRef> before, std::span<const ValueRef> after, std::uint64_t version,
                           const EventTimes& times) {
  return envelope(ctx, table, op, before, after, &version, times);
}

std::string debezium_truncate(const EnvelopeContext& ctx, const TableSchema& table, const EventTimes& times) {
  return envelope(ctx, table, 't', {}, {}, nullptr, times);
}

std::string key_event(const TableSchema& table, char op, std::span<const ValueRef> row, std::uint64_t version,
                      std::optional<std::uint32_t> xid) {
  rapidjson::StringBuffer buf;
  JsonWriter out(buf);
  out.StartObject();
  if (op != 't') key_columns(out, table, row);
  key_name(out, "__op");
  str(out, std::string_view(&op, 1));
  key_name(out, "__schema");
  str(out, table.source_schema);
  key_name(out, "__table");
  str(out, table.source_name);
  key_name(out, "__lsn");
  if (op == 't') {
    out.Null();
  } else {
    out.Uint64(version);
  }
  if (xid && op != 't') {
    key_name(out, "__xid");
    out.Uint(*xid);
  }
  out.EndObject();
  return take(buf);
}

}  // namespace pg2ch::kafka

#include "capture/outbox/row_payload_follow.h"

#include <fmt/format.h>

#include "types/pg_type.h"

namespace pg2ch::capture::outbox {

namespace {

// `was`: anything with attnum and the declared type oid of each column. The type changes whose
// queued values, read as the new type, are not what PostgreSQL's conversion gave the row.
template <typename Column>
std::optional<std::string> unreadable_type_change(const std::vector<Column>& was, const pipeline::TableSchema& now,
                                                  std::uint32_t (*type_of)(const Column&)) {
  for (const auto& c : now.source_columns) {
    for (const auto& old : was) {
      if (old.attnum != c.attnum) continue;
      if (type_of(old) == types::oid::kFloat4 && c.declared_type_oid == types::oid::kFloat8) {
        return fmt::format(
            "column {} was widened from real to double precision: the events queued before hold its values as a "
            "real's shortest text, which reads as another double than PostgreSQL's widening gave the row",
            c.name);
      }
      if (type_of(old) == types::oid::kTimestamp && c.declared_type_oid == types::oid::kTimestampTz) {
        return fmt::format(
            "column {} was changed from timestamp to timestamptz: the events queued before hold its values as text "
            "without a zone, which would be read in the reading session's TimeZone, not as the ALTER converted them",
            c.name);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> row_payload_refusal(const table_sync::RecordedColumns& was,
                                               const pipeline::TableSchema& now) {
  return unreadable_type_change<table_sync::RecordedColumn>(was.columns, now,
                                                  [](const table_sync::RecordedColumn& c) { return c.type_oid; });
}

std::optional<std::string> row_payload_refusal(const OutboxNames& names, OutboxLayout layout,
                                               const pipeline::TableSchema& was, const pipeline::TableSchema& now) {
  if (auto why = unreadable_type_change<pipeline::SourceColumn>(
          was.source_columns, now, [](const pipeline::SourceColumn& c) { return c.declared_type_oid; })) {
    return why;
  }
  for (TriggerOp op : {TriggerOp::Insert, TriggerOp::Update}) {
    if (trigger_body(names, was, layout, op) != trigger_body(names, now, layout, op) ||
        function_settings(was, layout.payload) != function_settings(now, layout.payload)) {
      return std::string(
          "the outbox triggers must write the new columns differently (a float or json column added, dropped or "
          "renamed, or an excluded column added): run `pg2ch setup` to install them first");
    }
  }
  return std::nullopt;
}

}  // namespace pg2ch::capture::outbox

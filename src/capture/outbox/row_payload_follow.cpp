#include "capture/outbox/row_payload_follow.h"

#include <fmt/format.h>

#include <algorithm>

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

std::optional<std::string> row_payload_refusal(const pipeline::TableSchema& was, const pipeline::TableSchema& now) {
  if (auto why = unreadable_type_change<pipeline::SourceColumn>(
          was.source_columns, now, [](const pipeline::SourceColumn& c) { return c.declared_type_oid; })) {
    return why;
  }
  // The installed functions were generated for `was` until pg2ch replaces them (outbox_pipeline):
  // what they name that changed makes them take their fallback, which is exact (outbox_sql.cpp,
  // trigger_body); what they do not name they write through to_jsonb() of the row.
  for (const auto& c : now.source_columns) {
    const auto old = std::find_if(was.source_columns.begin(), was.source_columns.end(),
                                  [&](const pipeline::SourceColumn& o) { return o.attnum == c.attnum; });
    if (old != was.source_columns.end() && old->target_index < 0 && c.target_index >= 0) {
      return fmt::format("column {} was renamed to {}, which the config does not exclude: add {} to the table's "
                         "exclude list, or it is copied into the events table from now on",
                         old->name, c.name, c.name);
    }
    const bool is_new = old == was.source_columns.end() || old->declared_type_oid != c.declared_type_oid;
    if (!is_new) continue;
    if (c.target_index < 0) {
      return fmt::format("column {}, which the config excludes, was added: the triggers installed before copied its "
                         "values into the events table until pg2ch replaced them",
                         c.name);
    }
    if (written_apart(c)) {
      return fmt::format("column {} ({}) was added or retyped: the triggers installed before wrote its values "
                         "through to_jsonb() (a float's -0 as 0, json text normalised, a JSON null as NULL) until "
                         "pg2ch replaced them",
                         c.name, c.type.name);
    }
  }
  return std::nullopt;
}

}  // namespace pg2ch::capture::outbox

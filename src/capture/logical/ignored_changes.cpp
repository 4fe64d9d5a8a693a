#include "capture/logical/ignored_changes.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/error.h"
#include "types/narrowing_codec.h"

namespace pg2ch::capture::logical {

namespace {

pipeline::SourceColumn* source_named(pipeline::TableSchema& t, const std::string& name) {
  const auto it = std::find_if(t.source_columns.begin(), t.source_columns.end(),
                               [&](const auto& c) { return c.name == name; });
  return it == t.source_columns.end() ? nullptr : &*it;
}

pipeline::TargetColumn* target_of(pipeline::TableSchema& t, const pipeline::SourceColumn& c) {
  return c.target_index < 0 ? nullptr : &t.target_columns[static_cast<std::size_t>(c.target_index)];
}

// Leaves a source column out of the target, as `exclude` does; the others' positions follow.
void leave_out(pipeline::TableSchema& t, pipeline::SourceColumn& c) {
  const int gone = c.target_index;
  if (gone < 0 || c.is_key) return;
  t.target_columns.erase(t.target_columns.begin() + gone);
  for (auto& s : t.source_columns) {
    if (s.target_index > gone) --s.target_index;
  }
  c.target_index = -1;
  for (int& k : t.key_target_indexes) {
    if (k > gone) --k;
  }
}

void keep_not_null(pipeline::TableSchema& t, pipeline::SourceColumn& c) {
  c.not_null = true;  // as the target was made: the digests stay those it was recorded with
  c.not_null_kept = true;
  auto* tc = target_of(t, c);
  if (!tc || !tc->mapping.nullable) return;
  auto& m = tc->mapping;
  m.nullable = false;
  constexpr std::string_view kNullable = "Nullable(";
  if (m.clickhouse_type.starts_with(kNullable) && m.clickhouse_type.ends_with(')')) {
    m.clickhouse_type = m.clickhouse_type.substr(kNullable.size(), m.clickhouse_type.size() - kNullable.size() - 1);
  }
}

// The target column's mapping for the type a widened IgnoredChange's `detail` keeps; `oid` its type.
types::ColumnMapping kept_mapping(const pipeline::TableSchema& t, const pipeline::SourceColumn& c,
                                  const std::string& detail, const clickhouse::ServerCapabilities& caps,
                                  std::uint32_t& oid) {
  oid = 0;
  std::int32_t typmod = -1;
  const auto colon = detail.find(':');
  const auto a = std::from_chars(detail.data(), detail.data() + colon, oid);
  const auto b = std::from_chars(detail.data() + colon + 1, detail.data() + detail.size(), typmod);
  if (colon == std::string::npos || a.ec != std::errc() || b.ec != std::errc()) {
    throw Error(ErrorKind::Config, fmt::format("malformed ignored type change of {} in the state: {}", c.name, detail),
                "the state file was edited: run `pg2ch resync " + t.qualified_source() + "`");
  }
  types::PgTypeDesc kept;
  kept.oid = oid;
  kept.typmod = typmod;
  kept.name = fmt::format("type oid {}", oid);
  return types::map_column(kept, c.not_null || c.is_key, caps, t.qualified_source(), c.name);
}

void keep_type(pipeline::TableSchema& t, pipeline::SourceColumn& c, const std::string& detail,
               const clickhouse::ServerCapabilities& caps) {
  auto* tc = target_of(t, c);
  if (!tc) return;
  std::uint32_t oid = 0;
  auto mapping = kept_mapping(t, c, detail, caps, oid);
  mapping.codec = types::make_narrowing_codec(std::move(mapping.codec), c.type.oid, oid);
  tc->mapping = std::move(mapping);
}

}  // namespace

std::string kept_type_detail(std::uint32_t oid, std::int32_t typmod) { return fmt::format("{}:{}", oid, typmod); }

const std::string* ignored_detail(const std::vector<table_sync::IgnoredChange>& ignored, std::string_view kind,
                                  std::string_view column) {
  for (const auto& i : ignored) {
    if (i.kind == kind && i.column == column) return &i.detail;
  }
  return nullptr;
}

std::string kept_clickhouse_type(const pipeline::TableSchema& table, const pipeline::SourceColumn& column,
                                 const std::string& detail, const clickhouse::ServerCapabilities& caps) {
  std::uint32_t oid = 0;
  return kept_mapping(table, column, detail, caps, oid).clickhouse_type;
}

void apply_ignored(pipeline::TableSchema& table, const std::vector<table_sync::IgnoredChange>& ignored,
                   const clickhouse::ServerCapabilities& caps) {
  for (const auto& i : ignored) {
    auto* c = source_named(table, i.column);
    if (!c) continue;  // gone since (dropped or renamed again): nothing of it to keep
    if (i.kind == "added") {
      leave_out(table, *c);
    } else if (i.kind == "renamed") {
      if (auto* tc = target_of(table, *c)) tc->name = i.detail;
    } else if (i.kind == "not_null") {
      keep_not_null(table, *c);
    } else if (i.kind == "widened") {
      keep_type(table, *c, i.detail, caps);
    }
  }
}

void keep_ignored_changes(std::span<const std::unique_ptr<pipeline::TableSchema>> tables,
                          const table_sync::TableStates& states, const state::StateStore& store,
                          const clickhouse::ServerCapabilities& caps) {
  for (const auto& t : tables) {
    const auto& s = states.at(*t);
    const bool kept = s.phase == table_sync::TablePhase::Streaming || s.phase == table_sync::TablePhase::CatchingUp ||
                      s.phase == table_sync::TablePhase::Stopped;
    if (s.ignored.empty() || !kept || store.get(table_sync::resync_request_key(*t))) continue;
    apply_ignored(*t, s.ignored, caps);
  }
}

}  // namespace pg2ch::capture::logical

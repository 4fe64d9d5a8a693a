#pragma once
// What logical.on_* = "ignore" means for each kind of change of a streaming table's columns
// (schema_evolution.h): the target stays as it is, and no value is ever written wrongly.
//
// * added: the new column is left out of the target, its values too, like an `exclude`d column.
// * renamed: the target column keeps its old name; the renamed column's values go on into it.
// * not_null (NOT NULL dropped): the target column stays non-Nullable; the first NULL that
//   arrives stops the table (a value the target cannot hold), never becomes a default.
// * widened: the target column keeps its type; values arrive in the wider type and are written
//   in the narrower one, each checked (types/narrowing_codec.h): one that does not fit stops the
//   table. Where the ClickHouse type is the same (longer varchar, text) nothing is recorded.
// * dropped: as "evolve" (pg2ch never drops a target column): it is kept, NULL from then on.
//
// The table's state records each ignored change (table_state.h IgnoredChange), and
// apply_ignored() puts them on the table's schema as the catalog describes it: at every start
// and whenever the evolver describes the table again, so the schema always fits the target. A
// copy of the table (`pg2ch resync`, a changed config) takes it as configured again: the copy
// re-creates its target with every column as it is then.
//
// `pg2ch setup` and `pg2ch verify` put them on the tables they describe too (keep_ignored_changes()),
// so setup checks the target the pipeline writes and verify compares what it writes.
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/table_sync/table_state.h"
#include "capture/table_sync/table_states.h"
#include "clickhouse/server_capabilities.h"
#include "pipeline/table_schema.h"
#include "state/state_store.h"

namespace pg2ch::capture::logical {

void apply_ignored(pipeline::TableSchema& table, const std::vector<table_sync::IgnoredChange>& ignored,
                   const clickhouse::ServerCapabilities& caps);

// apply_ignored() for every table whose target is the one its ignored changes were recorded
// against: streaming, catching up or stopped, and no copy asked for (a copy re-creates the target
// with every column as it is then).
void keep_ignored_changes(std::span<const std::unique_ptr<pipeline::TableSchema>> tables,
                          const table_sync::TableStates& states, const state::StateStore& store,
                          const clickhouse::ServerCapabilities& caps);

// The detail of a widened IgnoredChange: the declared type the target keeps.
std::string kept_type_detail(std::uint32_t oid, std::int32_t typmod);
// The detail recorded for `column`'s change of `kind` among `ignored`, or null: what the target
// kept when that change was ignored before (its type, its name).
const std::string* ignored_detail(const std::vector<table_sync::IgnoredChange>& ignored, std::string_view kind,
                                  std::string_view column);
// The ClickHouse type the target column of `column` keeps for a widened IgnoredChange's `detail`.
std::string kept_clickhouse_type(const pipeline::TableSchema& table, const pipeline::SourceColumn& column,
                                 const std::string& detail, const clickhouse::ServerCapabilities& caps);

}  // namespace pg2ch::capture::logical

#pragma once
// Start-up shared by mode = "poll" and mode = "notify": the source tables, each with its
// watermark column checked (exists, ordered type) and its keyset queries built; a warning when
// no index starts with the watermark (every poll would scan the table). Also the part of
// `pg2ch status` both modes print.
#include <string>
#include <vector>

#include "capture/poll/keyset.h"
#include "capture/poll/poll_engine.h"
#include "capture/shared/source_tables.h"
#include "config/config.h"
#include "state/state_store.h"

namespace pg2ch::capture::poll {

struct WatermarkSource {
  SourceTables p;
  std::vector<Keyset> keysets;   // parallel to p.tables
};

// Throws Error(Schema) for a missing or unordered watermark column (the first one found).
// `missing`: as open_source_tables() takes it (Report for `status`).
WatermarkSource open_watermark_source(const config::Config& cfg, bool warn_missing_index,
                                      MissingTables missing = MissingTables::Refuse);

// `pg2ch status` of both modes: capture settings, the deletes caveat, the visibility guarantee,
// per-table watermark checkpoint and row counts.
StatusReport watermark_status(const config::Config& cfg, WatermarkSource& s, state::StateStore& state);

// Erases the tables' checkpoints and states (teardown).
void erase_checkpoints(WatermarkSource& s, state::StateStore& state);

// At start of poll and notify: the targets brought in line with the tables, in this order:
// recreate_changed_stopped_tables, reapply_column_changes, ensure_targets, apply_resync_requests.
void prepare_targets(const config::Config& cfg, WatermarkSource& s);

// At start, before the targets are ensured: a table that stopped (table_sync) and whose config
// entry or columns changed since is read again from its first row into a re-created target (its
// old target may not fit the new mapping); the others resume from their checkpoints.
void recreate_changed_stopped_tables(WatermarkSource& s, state::StateStore& state);

// At start, before the targets are ensured: a table whose columns changed in place
// (poll_engine.h) keeps what logical.on_* = "ignore" left out of its target, and a target that a
// crash left behind the change its state records (between the record and the ClickHouse ALTER)
// is altered again (logical/schema_evolution.h reapply, each step idempotent); one that cannot be
// brought in line is re-created and the table read again from its first row. A table whose
// columns changed while pg2ch was stopped is followed in place first (logical/offline_changes.h).
void reapply_column_changes(const config::Config& cfg, WatermarkSource& s, state::StateStore& state);

// `pg2ch resync` in poll and notify: marks the named tables (schema.table) to be read again from
// their first row at the pipeline's next start. Error(Config) for a table not configured.
void request_resync(const config::Config& cfg, const std::vector<std::string>& tables);
// While running (every few seconds): the tables marked since are emptied and read again from
// their first row at once (PollEngine::read_again); returns their indexes. The mark goes last.
std::vector<std::size_t> take_resync_requests(WatermarkSource& s, state::StateStore& state, PollEngine& engine);

// At start, before the engine reads its checkpoints: each marked table has its target emptied
// (rows deleted at the source since, which polling cannot see, go too) and its checkpoint
// forgotten; the mark goes last, so a crash in between only empties the target again.
void apply_resync_requests(WatermarkSource& s, state::StateStore& state);

}  // namespace pg2ch::capture::poll

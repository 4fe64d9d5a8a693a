#pragma once
// Start-up shared by mode = "poll" and mode = "notify": the source tables, each with its
// watermark column checked (exists, ordered type) and its keyset queries built; a warning when
// no index starts with the watermark (every poll would scan the table). Also the part of
// `pg2ch status` both modes print.
#include <vector>

#include "capture/poll/keyset.h"
#include "capture/shared/source_tables.h"
#include "config/config.h"
#include "state/state_store.h"

namespace pg2ch::capture::poll {

struct WatermarkSource {
  SourceTables p;
  std::vector<Keyset> keysets;   // parallel to p.tables
};

// Throws Error(Schema) for a missing or unordered watermark column (the first one found).
WatermarkSource open_watermark_source(const config::Config& cfg, bool warn_missing_index);

// `pg2ch status` of both modes: capture settings, the deletes caveat, the visibility guarantee,
// per-table watermark checkpoint and row counts.
StatusReport watermark_status(const config::Config& cfg, WatermarkSource& s, state::StateStore& state);

// Erases the tables' checkpoints (teardown).
void erase_checkpoints(WatermarkSource& s, state::StateStore& state);

}  // namespace pg2ch::capture::poll

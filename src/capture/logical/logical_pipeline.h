#pragma once
// The logical capture end to end: `setup`, `open` (initial snapshot if needed, then the stream),
// `status` and `teardown`.
//
// Design note — the snapshot state machine (persisted in the state store under "logical."):
//
//   (none) --run--> SNAPSHOT --copy done--> STREAMING
//      ^               |
//      +--- crash -----+   a SNAPSHOT state found at start means a copy was cut short: with its
//                          slot unmoved, its plan still holding and the targets there, the
//                          ranges not done are copied from a new snapshot (snapshot_progress.h
//                          says why that is exact); otherwise its slot is dropped, the targets
//                          are emptied (re-created when a table's columns changed) and the copy
//                          starts over with a new slot. A copy beside the stream (a table copied
//                          again at a start, `pg2ch resync`) resumes the same way (table_copy.h).
//
// STREAMING resumes from the slot's confirmed_flush_lsn, which only ever holds positions the
// ClickHouse sink reported durable. A missing slot in STREAMING state is an error (changes
// would have been lost); a missing target table means that table is copied again. Each table
// has its own state on top (capture/table_sync/table_state.h).
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::capture::logical {

using capture::RunOptions;

void setup(const config::Config& cfg);
// Starts the pipeline (targets, initial copy where the mode has one, input connected); nullptr
// when `stop` was set during start-up. service/pipeline_loop.h turns it.
std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options);
StatusReport status(const config::Config& cfg);
void teardown(const config::Config& cfg, bool drop_targets);
// The tables' state becomes init: the next start copies them again while the others stream.
void resync(const config::Config& cfg, const std::vector<std::string>& tables);
// The tables as the pipeline writes them (CaptureMode::as_written): with the changes of their
// columns its state records as left out (ignored_changes.h).
void as_written(const config::Config& cfg, SourceTables& tables);

}  // namespace pg2ch::capture::logical

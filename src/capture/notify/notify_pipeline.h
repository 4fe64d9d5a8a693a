#pragma once
// mode = "notify": the seed's route 3. The poll capture (capture/poll/) woken by LISTEN/NOTIFY
// instead of a timer: a statement-level trigger notifies "schema.table:<bucket end>" at most once
// per table per notify.coalesce, the listener wakes, gathers the burst for notify.coalesce, the
// notified tables are polled, and polled again each bucket until the transactions that skipped
// their notification are read (follow_up.h).
// poll.interval is the fallback: every table is polled that often anyway, so a lost
// notification (e.g. during a reconnect) costs latency, never rows. Deletes are not captured.
#include <atomic>
#include <memory>

#include "capture/capture_mode.h"
#include "config/config.h"

namespace pg2ch::capture::notify {

void setup(const config::Config& cfg);
// Starts the pipeline (targets, initial copy where the mode has one, input connected); nullptr
// when `stop` was set during start-up. service/pipeline_loop.h turns it.
std::unique_ptr<ChangeSource> open(const config::Config& cfg, const std::atomic<bool>& stop,
                                   const RunOptions& options);
StatusReport status(const config::Config& cfg);
void teardown(const config::Config& cfg, bool drop_targets);

}  // namespace pg2ch::capture::notify

#pragma once
// The initial copy, and a table's copy again at a start (table_copy.h), for sinks other than
// plain ClickHouse (sink = "kafka" | "both"): every row goes through the ChangeSink as an insert
// with kSnapshotVersion, so Kafka gets it as an op "r" event. One connection, one table after
// another, under an exported snapshot (the slot's, or a temporary slot's); slower
// than SnapshotCopier's parallel streaming INSERTs, which only plain ClickHouse can use.
//
// Returns once the sink has *durably* taken every row (Kafka delivery reports); throws
// Error(Connection, retriable) otherwise, and the caller takes the snapshot again.
//
// With a SnapshotProgress, its pending ranges are copied one by one, each a sink transaction
// flushed and marked done once durable: a run after a kill copies only the ranges not done
// (snapshot_progress.h; a range sent twice gives a consumer the same row twice at version 0).
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "capture/logical/snapshot_copier.h"
#include "capture/logical/snapshot_progress.h"
#include "common/lsn.h"
#include "config/config.h"
#include "pipeline/change_sink.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::capture::logical {

SnapshotResult copy_snapshot_to_sink(const config::Config& cfg, const std::vector<const pipeline::TableSchema*>& tables,
                                     const std::string& snapshot_name, Lsn consistent_point, pipeline::ChangeSink& sink,
                                     const std::atomic<bool>& stop, const std::function<void()>& alive = {},
                                     pipeline::PipelineObserver* observer = nullptr,
                                     SnapshotProgress* progress = nullptr);

}  // namespace pg2ch::capture::logical

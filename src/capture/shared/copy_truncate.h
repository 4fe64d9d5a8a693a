#pragma once
// A whole copy through a sink without a bulk load (sink = "kafka" | "both") begins with a
// TRUNCATE of its tables sent through the sink, in every mode. The copy's rows are inserts at
// version 0 (Kafka: op "r"); a consumer holds whatever earlier messages left in its target: rows
// of an earlier pipeline's run on the topic (teardown, then setup again), rows deleted while
// nothing captured them (the reason for a resync), rows at versions above the copy's. Only a
// TRUNCATE ahead of the rows takes them out (an op "t" event to every partition of the table's
// topic, after that partition's earlier messages: kafka_consumer/truncate_barrier.h). Only for
// the tables whose consumers may hold rows (ChangeSink::consumers_may_hold: a topic that never
// held a message needs none, and a group whose members share a topic's partitions cannot apply
// one). A ClickHouse sink empties its targets itself (SinkTargets::truncate, which every copy
// calls first); with "both" the sink's TRUNCATE empties the ClickHouse target a second time,
// before any row of the copy, which loses nothing.
//
// Once per whole copy: a copy that resumes per range after a kill keeps the ranges the consumers
// hold, so it sends none. Each mode records the copy's start (its plan, or the checkpoint it
// forgets) so that a TRUNCATE not yet delivered is sent again rather than skipped.
//
// Errors: Error(Connection, retriable) when the sink does not confirm a TRUNCATE it was asked to.
#include <cstddef>
#include <string_view>
#include <vector>

#include "pipeline/change_sink.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture {

// Sends a TRUNCATE of those of `tables` whose consumers may hold rows through `sink`, in a
// transaction of its own committed at `position`, not waiting for its delivery (a later durable
// position covers it: a position is durable only once every message sent before it is).
// Returns how many tables it truncated (no transaction when none).
std::size_t truncate_through_sink(pipeline::ChangeSink& sink, const std::vector<const pipeline::TableSchema*>& tables,
                                  pipeline::Position position);

// Flushes `sink` and requires `position` durable: what was sent up to it is confirmed.
// `what` names it in the error ("the TRUNCATE that starts a copy").
void require_durable(pipeline::ChangeSink& sink, pipeline::Position position, std::string_view what);

}  // namespace pg2ch::capture

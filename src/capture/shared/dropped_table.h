#pragma once
// logical.on_table_dropped: what becomes of a table dropped at the source while the pipeline
// runs (logical, poll and notify mode).
//
// "keep" (the default): the table stops, saying it was dropped, and its target is left in place
// with what it held. "drop": once the drop is certain — the table's oid is gone from the catalog
// and no table holds its name now — its target goes too (the table, its `__current` view, on a
// cluster its Distributed table), said at warn, and the mode forgets the table: its recorded
// state is erased, `status` and the metrics no longer list it. A table dropped and created again
// under its name is never dropped so: the new one takes the target over (logical copies it into
// the emptied target at once, poll and notify at the next start), and a renamed table still
// exists. A sink that keeps no tables (sink = "kafka") has no target to drop: the table is
// forgotten all the same, and the consumer's target is the consumer's.
//
// Errors: exceptions (pg2ch::Error) from the source and the sink's server.
#include <cstdint>
#include <optional>

#include "config/config.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"
#include "sink/sink_targets.h"

namespace pg2ch::capture {

// The oid of the ordinary or partitioned table that holds `table`'s name at the source now.
std::optional<std::uint32_t> table_of_name(pg::Connection& source, const pipeline::TableSchema& table);

// Whether `table`, whose oid is gone, is to be dropped and forgotten: on_table_dropped = "drop"
// and no table holds its name.
bool drops_dropped_table(const config::Config& cfg, pg::Connection& source, const pipeline::TableSchema& table);

// Drops `table`'s target where the sink keeps one, saying so at warn either way. The caller has
// stopped writing it (what the sink held of it discarded) first.
void drop_target_of_dropped(sink::SinkTargets& targets, const pipeline::TableSchema& table);

}  // namespace pg2ch::capture

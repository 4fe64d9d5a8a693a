#pragma once
// Which changes of a table's columns the row payload follows in place (outbox_drainer.h), beyond
// what the follower itself refuses (logical/schema_evolution.h). Events queued before the change
// carry the row as JSON of the old shape, read with the table's row type as it is now
// (fetch_rows_sql): a column added since reads the value PostgreSQL shows for that row now, a
// dropped one is left out, a renamed one is found by its old name, and an integer, numeric or
// varchar widening reads the same value. Three kinds cannot be read exactly and stop the table:
//  * timestamp -> timestamptz: a queued timestamp is text without a zone, which would be read in
//    the draining session's TimeZone, not as the ALTER's session converted the row;
//  * real -> double precision: a queued real is its shortest text ("0.1"), which reads as
//    another double (0.1) than PostgreSQL's widening gave the row (0.10000000149011612), and an
//    event of the new type has the same text;
//  * a float, json, jsonb, interval or money column added (or a column retyped into one), or a
//    column the config excludes added or renamed out of its exclude list: until pg2ch replaces
//    the trigger functions (it does when it follows a change, outbox_objects.h replace_functions)
//    the installed ones write such a column through to_jsonb() of the row (a float's -0 as 0, json
//    normalised, a JSON null as NULL, an interval in the writer's style) or copy it into the queue.
//    A float or json column dropped, renamed or retyped is followed: the installed functions name
//    it, so they take their fallback (the event without its row, read from the table when
//    drained: outbox_sql.cpp trigger_body) until they are replaced.
// And one more, which the pipeline checks in the queue: a change that rewrites the table (integer
// and float widenings) clears the missing values (pg_attribute.attmissingval) of columns added
// with a default earlier; while events from before such a column was added are still queued, it
// stops the table. (A VACUUM FULL or CLUSTER, which is no change of columns, clears them too: the
// events queued from before an ADD COLUMN ... DEFAULT would then read NULL there. Let the queue
// drain before rewriting a table that way.)
#include <optional>
#include <string>

#include "capture/outbox/outbox_sql.h"
#include "capture/table_sync/source_columns.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

// At a start (logical/offline_changes.h), from the columns the table's state recorded: the
// real -> double and timestamp -> timestamptz checks (the triggers were verified installed for the columns as they are now).
std::optional<std::string> row_payload_refusal(const table_sync::RecordedColumns& was,
                                               const pipeline::TableSchema& now);

// nullopt when the row payload's queued events of `was` read exactly as `now`; else why not.
std::optional<std::string> row_payload_refusal(const pipeline::TableSchema& was, const pipeline::TableSchema& now);

}  // namespace pg2ch::capture::outbox

#pragma once
// Columns changed while pg2ch was stopped, for the captures that read rows with SELECT (poll,
// notify, outbox) and for the Kafka consumer (capture/kafka_consumer/start_columns.h): at the
// start, before the targets are ensured, a streaming table whose columns differ from the ones its
// state recorded (table_sync/source_columns.h) is followed in place as a running pipeline follows
// it (schema_evolution.h, same classification): the change is recorded in its state (the new
// digests, evolved_at, dropped and renamed names, missing values of added columns) and
// SchemaEvolver::reapply_all then alters its target. Its rows are not read or copied again: rows
// untouched since keep their version, and the ones changed since arrive with the new shape (poll,
// notify) or as queued events (outbox, Kafka).
//
// Followed: columns added (their missing value, pg_attribute.attmissingval, or else NULL, is what
// the rows already there hold: the target column's DEFAULT), dropped (not a key column),
// renamed (same attribute number; ClickHouse 20.4 and later), exact widenings (type_widening.h;
// not of a key column), NOT NULL dropped. A kind whose logical.on_* is "ignore" is kept as the
// running evolver keeps it (ignored_changes.h: recorded in the table's state, the target left as it
// was, the table streams on; before, poll, notify and outbox read or copied such a table again).
// Anything else, or a change of a kind whose logical.on_* is "stop", re-creates the table's target
// and reads or copies it again (before, the start failed: "the target does not match what pg2ch writes"; the consumer,
// which cannot copy, stops that table instead). A table rewritten since (a new relfilenode) with a column added or a
// widening that needs no rewrite (a volatile default, a USING, a VACUUM FULL: rows may hold
// values the stream does not carry) is read again too.
//
// Crash safety: the state is recorded before the target is altered (reapply_all, each step
// idempotent), so a crash between the two is a crash after schema_evolution.h's step 2.
#include <functional>
#include <optional>
#include <string>

#include "capture/shared/source_tables.h"
#include "capture/table_sync/source_columns.h"
#include "capture/table_sync/table_states.h"
#include "config/config.h"

namespace pg2ch::capture::logical {

// Why the capture itself cannot follow a change of `now` from `was` (e.g. the outbox row
// payload's real -> double precision), or nullopt.
using OfflineVeto = std::function<std::optional<std::string>(const table_sync::RecordedColumns& was,
                                                             const pipeline::TableSchema& now)>;

// Records the changes it follows in `states`; a table whose change it does not follow is handed to
// `read_again` with the reason (its target re-created, the table read or copied again).
void follow_offline_changes(const config::Config& cfg, SourceTables& p, table_sync::TableStates& states,
                            const std::function<void(const pipeline::TableSchema&, const std::string&)>& read_again,
                            const OfflineVeto& veto = {});

}  // namespace pg2ch::capture::logical

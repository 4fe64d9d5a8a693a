#pragma once
// Which changes of a table's columns the row payload follows in place (outbox_drainer.h), beyond
// what the follower itself refuses (logical/schema_evolution.h): all but one.
//
// Every row the trigger functions write carries the mark of the columns they were generated for
// (outbox_sql.h row_mark), and the drainer reads an event's row only when it carries the mark of
// the table's columns as they are now; any other 'I' or 'U' is read from the table when drained,
// which is exact for the final state (the key's newest change has its own event, read at least as
// new). So none of these needs a refusal any more, whenever the functions are replaced and
// whichever statement still runs the old ones:
//  * a float, json, jsonb, interval or money column added, or a column retyped into one, which
//    the functions installed before would write as to_jsonb() does (a float's -0 as 0, rounded
//    under the writer's extra_float_digits, json normalised, a JSON null as NULL, an interval in
//    the writer's intervalstyle, money in its lc_monetary);
//  * a column the config leaves out added (an include list that does not name it): such a
//    table's functions name each column they copy, so one they do not know never enters the
//    events table;
//  * real -> double precision and timestamp -> timestamptz, whose queued values of the old type
//    would read as another value of the new one;
//  * a change that rewrites the table after a column was added with a default: the events from
//    before that column, which would have read its missing value, are read from the table.
// The one refused: an excluded column renamed to a name the config does not exclude. Whether its
// values may be copied into the events table from now on is the operator's question.
// (Events written before pg2ch marked its rows are read from the table too: exact, not refused.)
#include <optional>
#include <string>

#include "pipeline/table_schema.h"

namespace pg2ch::capture::outbox {

// nullopt when the row payload follows the change of the table's columns from `was` to `now` in
// place; else why not.
std::optional<std::string> row_payload_refusal(const pipeline::TableSchema& was, const pipeline::TableSchema& now);

}  // namespace pg2ch::capture::outbox

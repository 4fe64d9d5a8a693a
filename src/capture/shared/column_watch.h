#pragma once
// For the captures that read rows with SELECT (poll, notify, outbox): notices that a table's
// columns changed at the source while the pipeline runs, before a row of the new shape is decoded
// with the old one. These captures name their columns in their queries and decode the values by
// the types described at start, so a change goes one of three ways unchecked: a column added is
// silently left out, a column dropped or renamed fails the query (which stopped every table), and
// a type changed in place (int -> bigint) would be decoded with the old type.
//
// Two checks, both cheap:
//  * result_types_changed(): every page a capture reads carries its columns' types in the
//    result's description (PQftype/PQfmod), checked before any value is decoded: a value is never
//    decoded with the wrong type, whenever the change happened;
//  * ColumnWatch::changed(): the table described again (pg/catalog, as at start) at most every few
//    seconds per table and one table per `pace` in all (hundreds of tables cost the source a few
//    catalog reads a second, not hundreds), and at once when a read of the table failed, compared
//    with what the capture uses: names, declared types, NOT NULL, key, attribute numbers. Only a
//    column added goes unnoticed until then, and it is merely left out meanwhile: a drop or rename
//    fails the read, a type change fails the first check, a NULL in a NOT NULL target column is
//    refused by the sink (Error(Data): the table stops).
// A change found is followed in place where the capture can (poll, notify, outbox with the key
// payload: logical/schema_evolution.h, SchemaEvolver::follow_catalog) and else stops that table
// only (capture/table_sync), with the change in its reason; the other tables go on. A table
// dropped or renamed (its oid gone, or under another name) stops, its target left in place with
// its rows. How a stopped table comes back is the capture's (poll: its target is re-created at the
// next start and it is read again from its first row, as for any stopped table whose columns
// changed).
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "capture/shared/source_tables.h"
#include "pg/connection.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture {

// One line naming the first column of `table` (source columns, in order, from result column
// `first` on) whose type in `r`'s description is not the described one; nullopt when all match.
std::optional<std::string> result_types_changed(const pg::Result& r, int first, const pipeline::TableSchema& table);

// What differs between two descriptions of a table, one line ("column w changed type from integer
// to bigint; column extra was added"); empty when their columns are alike.
std::string column_changes(const pipeline::TableSchema& was, const pipeline::TableSchema& now);

class ColumnWatch {
 public:
  // Describes tables again through `p.source` (its refs and describe options).
  explicit ColumnWatch(SourceTables& p, std::chrono::milliseconds every = std::chrono::seconds(2),
                       std::chrono::milliseconds pace = std::chrono::milliseconds(200));

  struct Change {
    std::string what;         // one line
    bool table_gone = false;  // the table was dropped or renamed at the source (by its oid)
    bool dropped = false;     // gone: its oid no longer exists (not renamed)
  };
  // nullopt while `table` at the source has the name and columns it was described with; otherwise
  // the change. Looks at the catalog at most every `every` for a table, unless `now`.
  std::optional<Change> changed(const pipeline::TableSchema& table, bool now = false);

  // Whether pg_attribute has other live columns for `table` than it was described with (numbers,
  // names, declared types, NOT NULL), in one cheap catalog read. Asked after a page was read and
  // before it is decoded: a row of a new shape in the page was committed after its ALTER, which
  // this later read sees, so a column added or made nullable is never left out of a row.
  bool shape_differs(const pipeline::TableSchema& table);

 private:
  SourceTables& p_;
  std::chrono::milliseconds every_;
  std::chrono::milliseconds pace_;
  std::chrono::steady_clock::time_point next_look_{};
  std::map<const pipeline::TableSchema*, std::chrono::steady_clock::time_point> looked_at_;
};

}  // namespace pg2ch::capture

#pragma once
// Columns added to a streaming table, applied in place (issue 12): the ClickHouse target gains
// them (ALTER TABLE ... ADD COLUMN) and its view follows, before the first row that has them,
// instead of the table stopping and being copied again at the next start.
//
// Only what is exact without a copy: columns added after all others, holding NULL in every row
// that existed before (no DEFAULT: PostgreSQL fills existing rows with a default, or rewrites
// the table for a volatile one, and the stream carries none of those values), on a single
// ClickHouse server with sink = "clickhouse". Anything else is refused with the reason and the
// table stops as before (copied again at the next start).
//
// The order of the steps is what makes a crash at any point safe:
//   1. rows of the old shape already received are flushed (written with the old columns);
//   2. the target gets the new columns (a column already there is left alone: a repeat is a no-op);
//   3. the table's schema is replaced by the catalog's (checked equal to the Relation message) and
//      its view re-created;
//   4. the table's state records the new shape and the position (evolved_at).
// A crash before 4 leaves the recorded shape older than the table's: the next start copies the
// table again (exact, as before). After 4, the next start describes the table with its new
// columns, and the rows of the old shape the slot gives again (before evolved_at) are applied
// with the added columns NULL (table_gate.h).
#include <optional>
#include <string>

#include "capture/shared/source_tables.h"
#include "capture/table_sync/table_states.h"
#include "common/lsn.h"
#include "config/config.h"
#include "pg/current_row_fetcher.h"
#include "pg/pgoutput_messages.h"
#include "pipeline/change_sink.h"

namespace pg2ch::capture::logical {

class SchemaEvolver {
 public:
  SchemaEvolver(const config::Config& cfg, SourceTables& tables, table_sync::TableStates& states,
                pipeline::ChangeSink& sink, pg::PgCurrentRowFetcher& fetcher)
      : cfg_(cfg), p_(tables), states_(states), sink_(sink), fetcher_(fetcher) {}

  // nullopt once `table` has the columns `rel` adds at its end; else why it cannot (one line).
  std::optional<std::string> add_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                         Lsn position);

 private:
  const config::Config& cfg_;
  SourceTables& p_;
  table_sync::TableStates& states_;
  pipeline::ChangeSink& sink_;
  pg::PgCurrentRowFetcher& fetcher_;
};

}  // namespace pg2ch::capture::logical

#pragma once
// CurrentRowFetcher over libpq: one query per batch of keys, binary parameters and results, so
// values go to the same codecs as streamed values. Keys travel as one binary array parameter per
// key column: `WHERE (k1, k2) IN (SELECT * FROM unnest($1::t1[], $2::t2[]))`.
//
// With `must_see` transactions the same statement, hence the same snapshot, first checks that
// each is visible (pg_visible_in_snapshot against pg_current_snapshot()) and reads the rows
// only if so; otherwise the query is repeated after a short pause, for at most kVisibilityWait.
// 32-bit xids (pgoutput's) are widened against the snapshot's xmax: exact for transactions less
// than 2^32 - 2^24 xids old, so the source must be the server the xids came from or a physical
// standby of it (a standby's snapshot also waits for its replay of the commit, as it should).
//
// The rows are read as the table is now: a column whose type at the source is no longer the
// described one (an ALTER the caller has not followed yet) is an Error(Schema), never decoded
// with the old type.
#include <chrono>
#include <unordered_map>

#include "pg/connection.h"
#include "pipeline/owned_row.h"

namespace pg2ch::pg {

class PgCurrentRowFetcher final : public pipeline::CurrentRowFetcher {
 public:
  explicit PgCurrentRowFetcher(Connection& conn) : conn_(conn) {}
  std::vector<pipeline::OwnedRow> fetch(const pipeline::TableSchema& table, const std::vector<pipeline::OwnedRow>& keys,
                                        std::span<const std::uint64_t> must_see) override;
  // The table's columns changed: its statement is built again on the next fetch.
  void forget(std::uint32_t relation_oid) { prepared_.erase(relation_oid); }

 private:
  static constexpr std::chrono::seconds kVisibilityWait{30};

  struct Prepared {
    std::string sql;          // the rows
    std::string checked_sql;  // visible?, found?, the rows; one more parameter: the xids
    std::vector<std::uint32_t> key_source_indexes;
    std::vector<Oid> array_types;
    std::vector<Oid> element_types;
  };
  const Prepared& prepare(const pipeline::TableSchema& table);

  Connection& conn_;
  std::unordered_map<std::uint32_t, Prepared> prepared_;
};

}  // namespace pg2ch::pg

#pragma once
// CurrentRowFetcher over libpq: one query per batch of keys, binary parameters and results, so
// values go to the same codecs as streamed values. Keys travel as one binary array parameter per
// key column: `WHERE (k1, k2) IN (SELECT * FROM unnest($1::t1[], $2::t2[]))`.
#include <unordered_map>

#include "pg/connection.h"
#include "pipeline/owned_row.h"

namespace pg2ch::pg {

class PgCurrentRowFetcher final : public pipeline::CurrentRowFetcher {
 public:
  explicit PgCurrentRowFetcher(Connection& conn) : conn_(conn) {}
  std::vector<pipeline::OwnedRow> fetch(const pipeline::TableSchema& table,
                                        const std::vector<pipeline::OwnedRow>& keys) override;

 private:
  struct Prepared {
    std::string sql;
    std::vector<std::uint32_t> key_source_indexes;
    std::vector<Oid> array_types;
    std::vector<Oid> element_types;
  };
  const Prepared& prepare(const pipeline::TableSchema& table);

  Connection& conn_;
  std::unordered_map<std::uint32_t, Prepared> prepared_;
};

}  // namespace pg2ch::pg

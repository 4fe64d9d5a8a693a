#include "pg/replica_identity.h"

#include <fmt/format.h>

namespace pg2ch::pg {

namespace {

// One row per table. The usable index is the one RelationGetIndexList would pick: the primary
// key under DEFAULT, the index marked indisreplident under USING INDEX; either must be valid,
// unique, immediate and without a predicate.
constexpr const char* kFactsSql = R"SQL(
SELECT c.relreplident,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND NOT i.indimmediate),
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.oid AND i.indisvalid AND i.indisunique AND i.indimmediate
                  AND i.indpred IS NULL
                  AND CASE c.relreplident WHEN 'd' THEN i.indisprimary WHEN 'i' THEN i.indisreplident
                                          ELSE false END)
  FROM pg_class c
 WHERE c.oid = $1::oid
)SQL";

std::string fixes(const std::string& table_sql) {
  return fmt::format("give it a replica identity PostgreSQL can use: ALTER TABLE {0} REPLICA IDENTITY DEFAULT; (with a "
                     "primary key that is not DEFERRABLE), or ALTER TABLE {0} REPLICA IDENTITY USING INDEX <unique "
                     "index on NOT NULL columns>; or ALTER TABLE {0} REPLICA IDENTITY FULL; then run pg2ch again",
                     table_sql);
}

}  // namespace

std::optional<Error> unpublishable_reason(const ReplicaIdentityFacts& facts, const std::string& table,
                                          const std::string& table_sql) {
  if (facts.relreplident == 'f' || facts.identity_index_usable) return std::nullopt;
  std::string why;
  switch (facts.relreplident) {
    case 'n': why = "has REPLICA IDENTITY NOTHING"; break;
    case 'i': why = "has REPLICA IDENTITY USING INDEX, but that index no longer exists or is not usable"; break;
    default:
      why = !facts.has_primary_key           ? "has no primary key (REPLICA IDENTITY DEFAULT)"
            : facts.primary_key_deferrable ? "has a DEFERRABLE primary key, which PostgreSQL cannot use as replica "
                                             "identity"
                                           : "has no usable primary key for its REPLICA IDENTITY DEFAULT";
  }
  return Error(ErrorKind::Schema,
               fmt::format("table {} {}: once it is in the publication, PostgreSQL would refuse every UPDATE and "
                           "DELETE the application makes on it, so pg2ch does not publish it",
                           table, why),
               fixes(table_sql));
}

void check_replica_identities(Connection& conn, const std::vector<TableRef>& tables) {
  const auto check = [&](const std::string& oid, const std::string& schema, const std::string& name) {
    Result r = conn.query(kFactsSql, {oid});
    if (r.rows() == 0) throw Error(ErrorKind::Schema, fmt::format("table {}.{} disappeared", schema, name));
    ReplicaIdentityFacts facts;
    facts.relreplident = r.text(0, 0).empty() ? 'd' : r.text(0, 0)[0];
    facts.has_primary_key = r.boolean(0, 1);
    facts.primary_key_deferrable = r.boolean(0, 2);
    facts.identity_index_usable = r.boolean(0, 3);
    const std::string sql_name = conn.quote_identifier(schema) + "." + conn.quote_identifier(name);
    if (auto error = unpublishable_reason(facts, schema + "." + name, sql_name)) throw *error;
  };
  for (const auto& t : tables) {
    check(std::to_string(t.oid), t.schema, t.name);
    // A partitioned table's rows are written to its leaf partitions, each with a replica identity
    // of its own (REPLICA IDENTITY FULL or USING INDEX on the partitioned table is not theirs).
    Result leaves = conn.query(
        "SELECT c.oid, n.nspname, c.relname FROM pg_partition_tree($1::oid) p JOIN pg_class c ON c.oid = p.relid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid <> $1::oid AND c.relkind = 'r' ORDER BY p.level, c.oid",
        {std::to_string(t.oid)});
    for (int i = 0; i < leaves.rows(); ++i) check(leaves.text(i, 0), leaves.text(i, 1), leaves.text(i, 2));
  }
}

}  // namespace pg2ch::pg

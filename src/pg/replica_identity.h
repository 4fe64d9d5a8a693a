#pragma once
// Whether a table can join a publication without breaking the application's own writes. Once a
// table is in a publication that publishes updates and deletes, PostgreSQL refuses every UPDATE
// and DELETE on it that has no replica identity ("cannot update table ... because it does not have
// a replica identity and publishes updates"). pg2ch must never do that to its source, so the
// logical capture checks each table before the publication is touched.
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace pg2ch::pg {

// What the catalog says about a table's replica identity (pg_class.relreplident and whether an
// index PostgreSQL would use for it exists).
struct ReplicaIdentityFacts {
  char relreplident = 'd';        // d default (primary key), n nothing, f full, i index
  bool has_primary_key = false;
  bool primary_key_deferrable = false;
  bool identity_index_usable = false;  // the index PostgreSQL would use: valid, unique, immediate, not partial
};

// Why UPDATEs and DELETEs on `table` would fail once it is published, with the fix; nullopt when
// they would not. Pure: mirrors PostgreSQL's RelationGetIndexList (relcache.c), where a replica
// identity index must be valid, unique, immediate (not DEFERRABLE) and not partial, and an index
// named by REPLICA IDENTITY USING INDEX that was later dropped leaves the table as NOTHING.
// `table` names it in the message, `table_sql` (quoted) in the fix.
std::optional<Error> unpublishable_reason(const ReplicaIdentityFacts& facts, const std::string& table,
                                          const std::string& table_sql);

// Throws Error(Schema) for the first table of `tables` whose writes publishing would break.
void check_replica_identities(Connection& conn, const std::vector<TableRef>& tables);

}  // namespace pg2ch::pg

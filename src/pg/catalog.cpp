#include "pg/catalog.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>

#include "config/table_name.h"
#include "pg/replica_identity.h"

namespace pg2ch::pg {

namespace {

// The config validated the pattern (config/table_name.h); "*" as the name is the wildcard.
std::pair<std::string, std::string> split_pattern(const std::string& pattern) {
  const auto name = config::parse_table_name(pattern);
  if (!name) return {"public", pattern};
  return {name->schema, name->wildcard ? std::string("*") : name->table};
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Domains are resolved to their base type (walking domain-over-domain chains); arrays report
// their element type, also domain-resolved. The typmod of a domain column lives on the domain.
constexpr const char* kColumnsSql = R"SQL(
WITH RECURSIVE cols AS (
  SELECT a.attnum, a.attname, a.attnotnull, a.atttypid AS typid, a.atttypmod AS typmod, a.attndims,
         a.attgenerated, 0 AS depth, a.atttypid AS decl_typid, a.atttypmod AS decl_typmod
    FROM pg_attribute a
   WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT c.attnum, c.attname, c.attnotnull, t.typbasetype,
         CASE WHEN c.typmod = -1 THEN t.typtypmod ELSE c.typmod END, c.attndims, c.attgenerated, c.depth + 1,
         c.decl_typid, c.decl_typmod
    FROM cols c JOIN pg_type t ON t.oid = c.typid
   WHERE t.typtype = 'd'
)
SELECT c.attnum, c.attname, c.attnotnull, t.oid, format_type(t.oid, c.typmod), t.typtype, c.typmod,
       CASE WHEN t.typcategory = 'A' THEN COALESCE(NULLIF(et.typbasetype, 0), et.oid) ELSE 0 END,
       CASE WHEN t.typcategory = 'A' THEN COALESCE(ebt.typtype, et.typtype) ELSE 'b' END,
       c.attndims, c.attgenerated <> '', c.decl_typid, c.decl_typmod
  FROM cols c
  JOIN pg_type t ON t.oid = c.typid
  LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
  LEFT JOIN pg_type ebt ON et.typtype = 'd' AND ebt.oid = et.typbasetype
 WHERE t.typtype <> 'd'
 ORDER BY c.attnum
)SQL";

// The key ReplacingMergeTree orders by: the replica identity index when one is set, else the
// primary key (also when REPLICA IDENTITY USING INDEX names an index that was dropped: the
// logical capture refuses that table anyway, pg/replica_identity.h, with the reason). Columns in
// index order.
constexpr const char* kKeySql = R"SQL(
SELECT k.attnum, c.relreplident, c.relkind, c.relfilenode
  FROM pg_class c
  LEFT JOIN LATERAL (
    SELECT i.indexrelid, i.indkey FROM pg_index i
     WHERE i.indrelid = c.oid AND (i.indisreplident OR i.indisprimary)
     ORDER BY i.indisreplident DESC LIMIT 1) ix ON true
  LEFT JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON true
 WHERE c.oid = $1::oid
 ORDER BY k.ord
)SQL";

// (oid, schema, name) rows as refs of `sel`.
std::vector<TableRef> refs_of(const Result& r, const config::TableSelector& sel) {
  std::vector<TableRef> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({static_cast<std::uint32_t>(r.int64(i, 0)), r.text(i, 1), r.text(i, 2), &sel});
  }
  return out;
}

// A partition selected together with a partitioned table above it: its rows would reach two
// targets (pgoutput publishes them under the topmost published ancestor, the copy reads them in
// both), so the config must pick one.
void refuse_partitions_of_selected(Connection& conn, const std::vector<TableRef>& refs) {
  if (refs.size() < 2) return;
  std::string oids = "{";
  for (const auto& r : refs) oids += (oids.size() > 1 ? "," : "") + std::to_string(r.oid);
  oids += "}";
  Result r = conn.query("SELECT c.oid, a.relid::oid FROM pg_class c, LATERAL pg_partition_ancestors(c.oid) a "
                        "WHERE c.oid = ANY($1::oid[]) AND c.relispartition AND a.relid::oid <> c.oid "
                        "AND a.relid::oid = ANY($1::oid[]) ORDER BY c.oid LIMIT 1",
                        {oids});
  if (r.rows() == 0) return;
  const auto find = [&](std::uint32_t oid) {
    return *std::find_if(refs.begin(), refs.end(), [&](const TableRef& t) { return t.oid == oid; });
  };
  const TableRef& partition = find(static_cast<std::uint32_t>(r.int64(0, 0)));
  const TableRef& root = find(static_cast<std::uint32_t>(r.int64(0, 1)));
  throw Error(ErrorKind::Config,
              fmt::format("{} is a partition of {}, which is replicated too: its rows would arrive twice", partition.qualified(),
                          root.qualified()),
              fmt::format("remove {} from [[tables]] ({} carries its rows in its own target), or name the partitions "
                          "instead of {}",
                          partition.qualified(), root.qualified(), root.qualified()));
}

}  // namespace

std::vector<TableRef> wildcard_matches(Connection& conn, const config::TableSelector& sel) {
  if (!config::parse_table_name(sel.pattern).value_or(config::TableName{}).wildcard) return {};
  Result r = conn.query("SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON "
                        "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r','p') "
                        "AND NOT c.relispartition ORDER BY c.relname",
                        {split_pattern(sel.pattern).first});
  return refs_of(r, sel);
}

std::vector<TableRef> resolve_tables(Connection& conn, const std::vector<config::TableSelector>& selectors,
                                     std::vector<MissingTable>* missing) {
  std::vector<TableRef> out;
  std::set<std::uint32_t> seen;
  for (const auto& sel : selectors) {
    auto [schema, name] = split_pattern(sel.pattern);
    const bool wildcard = config::parse_table_name(sel.pattern).value_or(config::TableName{}).wildcard;
    const std::vector<TableRef> found =
        wildcard ? wildcard_matches(conn, sel)
                 : refs_of(conn.query("SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON "
                                      "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                                      {schema, name}),
                           sel);
    if (found.empty()) {
      if (missing) {
        // Status goes on with the others; its reason reads as a stopped table's does.
        missing->push_back(
            {&sel, schema, name,
             wildcard ? fmt::format("no table matches \"{}\" in the source database", sel.pattern)
                      : fmt::format("table {}.{} does not exist in the source database (dropped or renamed there?)",
                                    schema, name),
             wildcard ? "create a table in that schema, or remove the entry from [[tables]]"
                      : "remove it from [[tables]] (its target keeps its rows: drop that yourself if unwanted), or "
                        "name the table as it is called now"});
        continue;
      }
      throw Error(ErrorKind::Schema,
                  wildcard ? fmt::format("no tables match \"{}\" in the source database", sel.pattern)
                           : fmt::format("table {}.{} does not exist in the source database", schema, name),
                  "check the [[tables]] name in the config (schema-qualified, case-sensitive)");
    }
    for (const auto& ref : found) {
      if (seen.insert(ref.oid).second) out.push_back(ref);
    }
  }
  refuse_partitions_of_selected(conn, out);
  return out;
}

pipeline::TableSchema describe_table(Connection& conn, const TableRef& ref, const clickhouse::ServerCapabilities& caps,
                                     const DescribeOptions& options) {
  pipeline::TableSchema t;
  t.relation_oid = ref.oid;
  t.source_schema = ref.schema;
  t.source_name = ref.name;
  const config::TableSelector empty_selector;
  const config::TableSelector& sel = ref.selector ? *ref.selector : empty_selector;
  t.target_name =
      sel.target.empty() || config::parse_table_name(sel.pattern).value_or(config::TableName{}).wildcard ? ref.name
                                                                                                          : sel.target;

  const std::string oid_text = std::to_string(ref.oid);
  Result key = conn.query(kKeySql, {oid_text});
  if (key.rows() == 0) throw Error(ErrorKind::Schema, fmt::format("table {} disappeared", ref.qualified()));
  const std::string relkind = key.text(0, 2);
  t.relfilenode = static_cast<std::uint32_t>(key.int64(0, 3));
  t.replica_identity = key.text(0, 1).empty() ? 'd' : key.text(0, 1)[0];
  if (relkind == "p" && !options.partitioned_tables) {
    throw Error(ErrorKind::Schema, fmt::format("{} is a partitioned table", ref.qualified()),
                "use mode = \"logical\" or \"poll\", which replicate it as one table, or list its partitions in "
                "[[tables]]");
  }
  t.partitioned = relkind == "p";
  if (relkind != "r" && relkind != "p") {
    throw Error(ErrorKind::Schema, fmt::format("{} is not an ordinary table (relkind '{}')", ref.qualified(), relkind),
                "only tables can be replicated; remove it from [[tables]]");
  }
  std::vector<int> key_attnums;
  for (int i = 0; i < key.rows(); ++i) {
    if (!key.is_null(i, 0)) key_attnums.push_back(static_cast<int>(key.int64(i, 0)));
  }
  if (!key_attnums.empty() && !sel.key.empty()) {
    throw Error(ErrorKind::Config,
                fmt::format("[[tables]] \"{}\" sets key, but {} has a primary key or replica identity index",
                            sel.pattern, ref.qualified()),
                "remove key: the table's own key orders its target");
  }
  if (key_attnums.empty() && !sel.key.empty()) {
    // Columns the operator chose (table_schema.h: key_from_config), in the order given.
    for (const auto& name : sel.key) {
      Result a = conn.query("SELECT attnum, attnotnull FROM pg_attribute WHERE attrelid = $1::oid AND attname = $2 "
                            "AND attnum > 0 AND NOT attisdropped",
                            {oid_text, name});
      if (a.rows() == 0) {
        throw Error(ErrorKind::Config, fmt::format("key column {} of {} does not exist", name, ref.qualified()),
                    "list columns of the table in [[tables]] key");
      }
      if (!a.boolean(0, 1)) {
        throw Error(ErrorKind::Schema,
                    fmt::format("key column {} of {} may be NULL: ClickHouse cannot order a target by it", name,
                                ref.qualified()),
                    fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL, or pick NOT NULL columns", ref.qualified(),
                                conn.quote_identifier(name)));
      }
      key_attnums.push_back(static_cast<int>(a.int64(0, 0)));
    }
    t.key_from_config = true;
  }
  if (key_attnums.empty()) {
    throw Error(ErrorKind::Schema,
                fmt::format("table {} has no primary key (replica identity '{}')", ref.qualified(), t.replica_identity),
                t.replica_identity == 'f'
                    ? fmt::format("name the columns that identify a row in its [[tables]] entry: key = [\"a\", \"b\"] "
                                  "(NOT NULL; rows alike there become one row in ClickHouse; changing it later "
                                  "re-creates the target and copies the table again); or add a primary key: ALTER "
                                  "TABLE {} ADD PRIMARY KEY (...)",
                                  ref.qualified())
                    : fmt::format("add one: ALTER TABLE {} ADD PRIMARY KEY (...); or pick a unique index on NOT NULL "
                                  "columns: ALTER TABLE {} REPLICA IDENTITY USING INDEX <index>; or set REPLICA "
                                  "IDENTITY FULL and name the key columns in its [[tables]] entry: key = [...]",
                                  ref.qualified(), ref.qualified()));
  }

  Result cols = conn.query(kColumnsSql, {oid_text});
  std::vector<int> attnums;
  const std::string_view unreadable = options.generated_columns_unavailable;
  std::vector<std::string> generated_left_out;
  for (int i = 0; i < cols.rows(); ++i) {
    pipeline::SourceColumn c;
    c.name = cols.text(i, 1);
    const int attnum = static_cast<int>(cols.int64(i, 0));
    const bool is_key = std::find(key_attnums.begin(), key_attnums.end(), attnum) != key_attnums.end();
    if (cols.boolean(i, 10) && !unreadable.empty()) {
      // Left out like pgoutput leaves it out: source_columns must list what its Relation lists.
      if (is_key) {
        throw Error(ErrorKind::Schema,
                    fmt::format("column {} of {} is part of the key and GENERATED ALWAYS AS (...) STORED: {}", c.name,
                                ref.qualified(), unreadable),
                    "key the table on other columns (REPLICA IDENTITY USING INDEX <unique index>), or use mode = "
                    "\"poll\" or \"notify\", which read it");
      }
      generated_left_out.push_back(std::move(c.name));
      continue;
    }
    attnums.push_back(attnum);
    c.not_null = cols.boolean(i, 2);
    c.type.oid = static_cast<std::uint32_t>(cols.int64(i, 3));
    c.type.name = cols.text(i, 4);
    c.type.typtype = cols.text(i, 5).empty() ? 'b' : cols.text(i, 5)[0];
    c.type.typmod = static_cast<std::int32_t>(cols.int64(i, 6));
    c.type.element_oid = static_cast<std::uint32_t>(cols.int64(i, 7));
    c.type.element_typtype = cols.text(i, 8).empty() ? 'b' : cols.text(i, 8)[0];
    c.type.array_ndims = static_cast<std::int32_t>(cols.int64(i, 9));
    c.declared_type_oid = static_cast<std::uint32_t>(cols.int64(i, 11));
    c.declared_typmod = static_cast<std::int32_t>(cols.int64(i, 12));
    c.is_key = is_key;
    c.attnum = attnum;
    t.source_columns.push_back(std::move(c));
  }

  for (const auto& name : generated_left_out) {
    if (contains(sel.include, name)) {
      throw Error(ErrorKind::Config,
                  fmt::format("include lists column \"{}\" of {}, which is GENERATED ALWAYS AS (...) STORED: {}", name,
                              ref.qualified(), unreadable),
                  "remove it from the table's include list, or use mode = \"poll\" or \"notify\", which read it");
    }
    // Named in exclude: the operator knows, no note.
    if (contains(sel.exclude, name)) continue;
    t.notes.push_back(fmt::format("column {} of {} is GENERATED ALWAYS AS (...) STORED: {}; it is left out of the "
                                  "target (mode = \"poll\" or \"notify\" replicate it)",
                                  name, ref.qualified(), unreadable));
  }
  for (const auto& name : sel.include) {
    if (std::none_of(t.source_columns.begin(), t.source_columns.end(), [&](auto& c) { return c.name == name; })) {
      throw Error(ErrorKind::Config, fmt::format("include lists column \"{}\" which {} does not have", name, ref.qualified()),
                  "fix the table's include list in the config");
    }
  }
  for (const auto& [name, type] : sel.types) {
    if (std::none_of(t.source_columns.begin(), t.source_columns.end(), [&](auto& c) { return c.name == name; })) {
      throw Error(ErrorKind::Config, fmt::format("types names column \"{}\" which {} does not have", name, ref.qualified()),
                  "fix the table's types in the config");
    }
  }
  for (const auto& name : sel.exclude) {
    if (std::none_of(t.source_columns.begin(), t.source_columns.end(), [&](auto& c) { return c.name == name; }) &&
        !contains(generated_left_out, name)) {
      throw Error(ErrorKind::Config, fmt::format("exclude lists column \"{}\" which {} does not have", name, ref.qualified()),
                  "fix the table's exclude list in the config");
    }
  }

  t.include_listed = !sel.include.empty();
  for (std::size_t i = 0; i < t.source_columns.size(); ++i) {
    auto& c = t.source_columns[i];
    const bool wanted = (sel.include.empty() || contains(sel.include, c.name)) && !contains(sel.exclude, c.name);
    if (!wanted) {
      if (c.is_key) {
        throw Error(ErrorKind::Config,
                    fmt::format("column {} of {} is part of the key and cannot be excluded", c.name, ref.qualified()),
                    "remove it from the table's exclude list (or add it to include)");
      }
      continue;
    }
    pipeline::TargetColumn tc;
    tc.name = c.name;
    tc.source_index = static_cast<int>(i);
    tc.is_key = c.is_key;
    const auto configured = sel.types.find(c.name);
    tc.mapping = configured != sel.types.end()
                     ? types::map_column_as(configured->second, c.type, c.not_null || c.is_key, ref.qualified(), c.name)
                     : types::map_column(c.type, c.not_null || c.is_key, caps, ref.qualified(), c.name);
    c.target_index = static_cast<int>(t.target_columns.size());
    t.target_columns.push_back(std::move(tc));
  }
  for (int attnum : key_attnums) {
    const auto pos = std::find(attnums.begin(), attnums.end(), attnum) - attnums.begin();
    t.key_target_indexes.push_back(t.source_columns[static_cast<std::size_t>(pos)].target_index);
  }
  return t;
}

void check_logical_prerequisites(Connection& conn, const std::vector<TableRef>& tables) {
  Result r = conn.query(
      "SELECT current_setting('wal_level'), r.rolreplication OR r.rolsuper, current_user, current_database() "
      "FROM pg_roles r WHERE r.rolname = current_user");
  const std::string wal_level = r.text(0, 0);
  const std::string user = r.text(0, 2);
  if (wal_level != "logical") {
    throw Error(ErrorKind::Config, fmt::format("source PostgreSQL has wal_level = {}; logical replication needs logical", wal_level),
                "run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL (or use mode = \"poll\")");
  }
  if (!r.boolean(0, 1)) {
    throw Error(ErrorKind::Permission, fmt::format("role {} may not start replication", user),
                fmt::format("ALTER ROLE {} REPLICATION; (needs a superuser)", conn.quote_identifier(user)));
  }
  for (const auto& t : tables) {
    Result p = conn.query("SELECT has_table_privilege($1::oid, 'SELECT')", {std::to_string(t.oid)});
    if (!p.boolean(0, 0)) {
      throw Error(ErrorKind::Permission, fmt::format("role {} cannot SELECT from {}", user, t.qualified()),
                  fmt::format("GRANT SELECT ON {}.{} TO {};", conn.quote_identifier(t.schema),
                              conn.quote_identifier(t.name), conn.quote_identifier(user)));
    }
  }
  check_replica_identities(conn, tables);
}

}  // namespace pg2ch::pg

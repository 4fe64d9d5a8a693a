#include "capture/logical/partition_watch.h"

#include <charconv>
#include <fmt/format.h>
#include <set>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/shared/attached_partitions.h"
#include "capture/shared/filled_before_attach.h"
#include "capture/table_sync/table_states.h"

namespace pg2ch::capture::logical {

namespace {

constexpr auto kLookEvery = std::chrono::seconds(3);
constexpr const char* kFunctionName = "pg2ch_partition_truncated";

// Partitions (any depth, tables and partitioned tables) of the given partitioned tables that lack
// the trigger, or were attached after pg2ch put it on them (detached and attached again: their
// pg_inherits row is younger than the trigger's pg_trigger row). Attached rather than created as
// a partition: CREATE TABLE ... PARTITION OF writes the table's row type and its pg_inherits row
// in one transaction, ATTACH PARTITION writes pg_inherits later (pg_class rows are rewritten by
// many commands, pg_type's row of a table hardly ever: only a rename, which then counts as an
// attach, costing a copy, never a row).
constexpr const char* kMissingSql = R"SQL(
SELECT t.root, n.nspname, c.relname, c.oid, g.oid IS NOT NULL,
       g.oid IS NOT NULL OR ty.xmin::text <> i.xmin::text
  FROM unnest($1::oid[]) AS t(root)
  CROSS JOIN LATERAL pg_partition_tree(t.root) p
  JOIN pg_class c ON c.oid = p.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_inherits i ON i.inhrelid = c.oid
  JOIN pg_type ty ON ty.oid = c.reltype
  LEFT JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgname = $2
 WHERE c.oid <> t.root AND c.relkind IN ('r', 'p')
   AND (g.oid IS NULL OR (i.xmin::text <> g.xmin::text AND age(i.xmin) < age(g.xmin)))
 ORDER BY t.root, p.level, c.oid
)SQL";

std::string oid_array(const std::vector<const pipeline::TableSchema*>& tables) {
  std::string out = "{";
  for (const auto* t : tables) out += (out.size() > 1 ? "," : "") + std::to_string(t->relation_oid);
  return out + "}";
}

std::vector<const pipeline::TableSchema*> partitioned_only(const std::vector<const pipeline::TableSchema*>& tables) {
  std::vector<const pipeline::TableSchema*> out;
  for (const auto* t : tables) {
    if (t->partitioned) out.push_back(t);
  }
  return out;
}

std::string function_name(pg::Connection& conn, const std::string& schema) {
  return conn.quote_identifier(schema) + "." + conn.quote_identifier(kFunctionName);
}

void ensure_function(pg::Connection& conn, const std::string& schema) {
  pg::Result r = conn.query("SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                            "WHERE n.nspname = $1 AND p.proname = $2",
                            {schema, kFunctionName});
  if (r.rows() > 0) return;
  // Transactional, so it is decoded in the TRUNCATE's place, and only if that commits.
  const std::string sql = fmt::format(
      "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $pg2ch$ BEGIN "
      "PERFORM pg_logical_emit_message(true, {}, (SELECT string_agg(a.relid::oid::text, ',' ORDER BY a.n) "
      "FROM pg_partition_ancestors(TG_RELID) WITH ORDINALITY AS a(relid, n))); RETURN NULL; END $pg2ch$",
      function_name(conn, schema), conn.quote_literal(std::string(kMessagePrefix)));
  try {
    conn.exec(sql);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Permission) {
      throw Error(ErrorKind::Permission,
                  fmt::format("cannot create function {} (for TRUNCATEs of partitions): {}", function_name(conn, schema),
                              e.what()),
                  fmt::format("run pg2ch once as a role with CREATE on schema {}, or create it yourself: {}", schema,
                              sql));
    }
    rethrow_with_context(e, "creating function " + function_name(conn, schema));
  }
  spdlog::info("created function {}: TRUNCATEs of partitions reach the stream through it", function_name(conn, schema));
}

}  // namespace

std::optional<std::vector<std::uint32_t>> parse_truncated_message(std::string_view content) {
  std::vector<std::uint32_t> out;
  while (!content.empty()) {
    const auto comma = content.find(',');
    const std::string_view item = content.substr(0, comma);
    std::uint32_t oid = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), oid);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty()) return std::nullopt;
    out.push_back(oid);
    if (comma == std::string_view::npos) break;
    content.remove_prefix(comma + 1);
    if (content.empty()) return std::nullopt;  // trailing comma
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::vector<NewPartition> ensure_truncate_triggers(pg::Connection& conn,
                                                   const std::vector<const pipeline::TableSchema*>& tables,
                                                   bool refused_ok) {
  const auto roots = partitioned_only(tables);
  if (roots.empty()) return {};
  pg::Result r = conn.query(kMissingSql, {oid_array(roots), std::string(kTriggerName)});
  std::vector<NewPartition> out;
  std::set<std::string> functions;
  for (int i = 0; i < r.rows(); ++i) {
    const auto root_oid = static_cast<std::uint32_t>(r.int64(i, 0));
    const pipeline::TableSchema* root = nullptr;
    for (const auto* t : roots) {
      if (t->relation_oid == root_oid) root = t;
    }
    if (!root) continue;
    const std::string partition = conn.quote_identifier(r.text(i, 1)) + "." + conn.quote_identifier(r.text(i, 2));
    const std::string sql =
        fmt::format("CREATE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}()",
                    conn.quote_identifier(std::string(kTriggerName)), partition,
                    function_name(conn, root->source_schema));
    const bool reattached = r.boolean(i, 4);
    NewPartition n;
    n.table = root;
    n.name = r.text(i, 1) + "." + r.text(i, 2);
    n.oid = static_cast<std::uint32_t>(r.int64(i, 3));
    n.attached = r.boolean(i, 5) || filled_before_attach(conn, n.oid);
    try {
      if (functions.insert(root->source_schema).second) ensure_function(conn, root->source_schema);
      // Made anew when attached again, so its row is younger than the attach.
      conn.exec(reattached ? fmt::format("BEGIN; DROP TRIGGER {} ON {}; {}; COMMIT",
                                         conn.quote_identifier(std::string(kTriggerName)), partition, sql)
                           : sql);
    } catch (const Error& e) {
      if (reattached) conn.exec("ROLLBACK");
      // Dropped meanwhile: nothing to watch.
      if (conn.query("SELECT 1 FROM pg_class WHERE oid = $1::oid", {r.text(i, 3)}).rows() == 0) continue;
      if (e.kind() != ErrorKind::Permission) {
        rethrow_with_context(e, fmt::format("creating the TRUNCATE trigger of partition {}", partition));
      }
      Error refused(ErrorKind::Permission,
                    fmt::format("cannot put a TRUNCATE trigger on {}, a partition of {}: {}", partition,
                                root->qualified_source(), e.what()),
                    fmt::format("pg2ch needs to own the partitions of a partitioned table it replicates (or the "
                                "TRIGGER privilege on them) to see a TRUNCATE of one: run `pg2ch setup` as their "
                                "owner, or create it yourself: {}",
                                sql));
      if (!refused_ok) throw refused;
      n.refused = std::move(refused);
    }
    out.push_back(std::move(n));
  }
  return out;
}

namespace {

// One "oid:name" line per leaf partition; the oid (before the first ':') is what counts, the name
// is only for the log.
std::string encode_leaves(const std::map<std::uint32_t, std::string>& leaves) {
  std::string out;
  for (const auto& [oid, name] : leaves) out += (out.empty() ? "" : "\n") + std::to_string(oid) + ":" + name;
  return out;
}

std::map<std::uint32_t, std::string> decode_leaves(const std::string& text) {
  std::map<std::uint32_t, std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto colon = text.find(':', at);
    if (colon < end) {
      std::uint32_t oid = 0;
      std::from_chars(text.data() + at, text.data() + colon, oid);
      out[oid] = text.substr(colon + 1, end - colon - 1);
    }
    at = end + 1;
  }
  return out;
}

std::string leaves_key(const pipeline::TableSchema& t) { return table_sync::table_state_key(t, "leaves"); }

}  // namespace

void record_leaves_before_copy(pg::Connection& conn, state::StateStore& store,
                               std::span<const pipeline::TableSchema* const> tables) {
  std::map<std::string, std::string> updates;
  for (const auto* t : tables) {
    if (!t->partitioned) continue;
    std::map<std::uint32_t, std::string> leaves;
    for (auto& [oid, p] : partitions_below(conn, t->relation_oid, /*leaves_only=*/true)) leaves[oid] = std::move(p.name);
    updates.emplace(leaves_key(*t), encode_leaves(leaves));
  }
  if (!updates.empty()) store.put(updates);
}

void PartitionWatch::look_for_gone_partitions() {
  for (const auto* t : tables_()) {
    if (!t->partitioned) continue;
    pg::Result r = conn_.query(
        "SELECT p.relid::oid::bigint, p.relid::regclass::text FROM pg_partition_tree($1::oid) p WHERE p.isleaf",
        {std::to_string(t->relation_oid)});
    std::map<std::uint32_t, std::string> now;
    for (int i = 0; i < r.rows(); ++i) now[static_cast<std::uint32_t>(r.int64(i, 0))] = r.text(i, 1);
    // The first look of a run compares with what the last run saw.
    if (!leaves_.contains(t->relation_oid)) {
      const auto stored = store_.get(leaves_key(*t));
      leaves_[t->relation_oid] = stored ? decode_leaves(*stored) : now;
    }
    auto& before = leaves_[t->relation_oid];
    // Being detached concurrently: gone once the second phase is done (attached_partitions.h says
    // why), when every transaction that could change it through the table has ended, so the
    // position noted then follows all of its changes.
    if (std::any_of(before.begin(), before.end(), [&](const auto& b) { return !now.contains(b.first); })) {
      for (const auto oid : detaching_partitions(conn_, t->relation_oid)) {
        const auto b = before.find(oid);
        if (b == before.end() || !now.emplace(*b).second || !detaching_.insert(oid).second) continue;
        spdlog::info("partition {} of {} is being detached concurrently: the table is copied again once the detach "
                     "completes (if it was interrupted: ALTER TABLE {} DETACH PARTITION {} FINALIZE)",
                     b->second, t->qualified_source(), t->qualified_source(), b->second);
      }
    }
    std::string names;
    for (const auto& [oid, name] : before) {
      if (!now.contains(oid)) names += (names.empty() ? "" : ", ") + name;
    }
    before = std::move(now);
    if (names.empty()) {
      const bool pending = std::any_of(gone_.begin(), gone_.end(), [&](const Gone& g) { return g.table == t; });
      const std::string text = encode_leaves(before);
      if (!pending && store_.get(leaves_key(*t)) != text) store_.put({{leaves_key(*t), text}});
      continue;
    }
    const Lsn after = parse_lsn(conn_.query("SELECT pg_current_wal_lsn()").text(0, 0)).value_or(kInvalidLsn);
    spdlog::info("partition(s) {} of {} detached or dropped: the table is copied again (without their rows) once "
                 "the stream has passed {}",
                 names, t->qualified_source(), format_lsn(after));
    gone_.push_back({t, after, names});
  }
}

void PartitionWatch::resync_when_durable() {
  if (gone_.empty()) return;
  const Lsn durable = durable_ ? durable_().value_or(kInvalidLsn) : kInvalidLsn;
  std::erase_if(gone_, [&](const Gone& g) {
    if (durable < g.after) return false;
    resync_(*g.table, fmt::format("partition(s) {} detached or dropped (their rows left without a change in the "
                                  "stream)",
                                  g.names));
    // Asked for durably: the partitions as now seen may be remembered.
    store_.put({{leaves_key(*g.table), encode_leaves(leaves_[g.table->relation_oid])}});
    return true;
  });
}

void PartitionWatch::poll() {
  resync_when_durable();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_look_) return;
  next_look_ = now + kLookEvery;
  look_for_gone_partitions();
  std::set<const pipeline::TableSchema*> asked;
  for (const auto& n : ensure_truncate_triggers(conn_, tables_(), /*refused_ok=*/true)) {
    if (n.refused) {
      if (!refused_.insert(n.oid).second) continue;  // said once; its attach was handled then
      spdlog::warn("{} (a TRUNCATE of it leaves its rows in the target until `pg2ch resync {}`); {}", n.refused->what(),
                   n.table->qualified_source(), n.refused->hint());
    }
    if (!n.attached) {
      spdlog::info("partition {} of {} is new: its rows stream with the table's", n.name, n.table->qualified_source());
      continue;
    }
    if (!asked.insert(n.table).second) continue;
    resync_(*n.table, fmt::format("partition {} was attached (its rows did not pass through the stream)", n.name));
  }
}

}  // namespace pg2ch::capture::logical

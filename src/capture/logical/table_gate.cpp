#include "capture/logical/table_gate.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "types/pg_type.h"

namespace pg2ch::capture::logical {

namespace pgo = pg::pgoutput;
using table_sync::TablePhase;

namespace {

// Relation messages name a type by oid only; the common built-in ones by name, for the operator.
std::string type_text(std::uint32_t oid, std::int32_t typmod) {
  namespace ids = types::oid;
  static constexpr std::pair<std::uint32_t, const char*> kBuiltin[] = {
      {ids::kBool, "boolean"},
      {ids::kBytea, "bytea"},
      {ids::kInt8, "bigint"},
      {ids::kInt2, "smallint"},
      {ids::kInt4, "integer"},
      {ids::kText, "text"},
      {ids::kJson, "json"},
      {ids::kFloat4, "real"},
      {ids::kFloat8, "double precision"},
      {ids::kBpchar, "character"},
      {ids::kVarchar, "character varying"},
      {ids::kDate, "date"},
      {ids::kTime, "time"},
      {ids::kTimestamp, "timestamp"},
      {ids::kTimestampTz, "timestamp with time zone"},
      {ids::kNumeric, "numeric"},
      {ids::kUuid, "uuid"},
      {ids::kJsonb, "jsonb"}};
  std::string name = fmt::format("type oid {}", oid);
  for (const auto& [o, n] : kBuiltin) {
    if (o == oid) name = n;
  }
  return typmod < 0 ? name : fmt::format("{} (typmod {})", name, typmod);
}

DeclaredType declared(const pipeline::SourceColumn& c) { return {c.declared_type_oid, c.declared_typmod}; }
DeclaredType declared(const pgo::RelationColumn& r) { return {r.type_oid, r.type_modifier}; }

bool same_type(const pipeline::SourceColumn& c, const pgo::RelationColumn& r) { return declared(c) == declared(r); }

bool key_changed(const pipeline::TableSchema& table, const pgo::Relation& rel, std::size_t i) {
  return rel.replica_identity != 'f' && table.replica_identity != 'f' &&
         rel.columns[i].is_key() != table.source_columns[i].is_key;
}

// The same columns in the same order, one retyped in a way no evolver follows (a narrowing,
// another type): the table stops without the catalog being asked.
bool retyped_beyond_widening(const pipeline::TableSchema& table, const pgo::Relation& rel) {
  const auto& cols = table.source_columns;
  if (rel.columns.size() != cols.size()) return false;
  bool refused = false;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (rel.columns[i].name != cols[i].name) return false;
    refused = refused || (!same_type(cols[i], rel.columns[i]) &&
                          widening_refusal(declared(cols[i]), declared(rel.columns[i])).has_value());
  }
  return refused;
}

bool has_not_null_column(const pipeline::TableSchema& table) {
  return std::any_of(table.source_columns.begin(), table.source_columns.end(),
                     [](const auto& c) { return c.not_null && c.target_index >= 0; });
}

}  // namespace

std::string relation_difference(const pipeline::TableSchema& table, const pgo::Relation& rel) {
  const auto& cols = table.source_columns;
  auto named = [&](std::string_view name) {
    return std::find_if(cols.begin(), cols.end(), [&](const auto& c) { return c.name == name; });
  };
  std::vector<std::string> changes;
  for (const auto& r : rel.columns) {
    auto it = named(r.name);
    if (it == cols.end()) {
      changes.push_back(fmt::format("column {} added", r.name));
    } else if (!same_type(*it, r)) {
      const auto refusal = widening_refusal(declared(*it), declared(r));
      changes.push_back(fmt::format("column {} changed from {} to {}{}", r.name, it->type.name,
                                    type_text(r.type_oid, r.type_modifier),
                                    refusal ? fmt::format(" ({})", *refusal) : std::string()));
    }
  }
  for (const auto& c : cols) {
    if (std::none_of(rel.columns.begin(), rel.columns.end(), [&](const auto& r) { return r.name == c.name; })) {
      changes.push_back(fmt::format("column {} dropped or renamed", c.name));
    }
  }
  if (changes.empty()) {
    // Same names and types: the order may differ (a column dropped and added again), or the key.
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (rel.columns[i].name != cols[i].name) {
        changes.push_back(fmt::format("column {} moved (dropped and added again)", cols[i].name));
        break;
      }
    }
  }
  if (changes.empty() && rel.replica_identity != 'f' && table.replica_identity != 'f') {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (rel.columns[i].is_key() != cols[i].is_key) {
        changes.push_back(fmt::format("the replica identity key changed at column {}", cols[i].name));
        break;
      }
    }
  }
  std::string out;
  for (const auto& c : changes) out += (out.empty() ? "" : "; ") + c;
  return out;
}

std::vector<std::string> columns_added_at_end(const pipeline::TableSchema& table, const pgo::Relation& rel) {
  const auto& cols = table.source_columns;
  if (rel.columns.size() <= cols.size()) return {};
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const auto& r = rel.columns[i];
    if (r.name != cols[i].name || !same_type(cols[i], r)) return {};
    if (key_changed(table, rel, i)) return {};
  }
  std::vector<std::string> added;
  for (std::size_t i = cols.size(); i < rel.columns.size(); ++i) {
    if (rel.columns[i].is_key() && rel.replica_identity != 'f') return {};  // the key changed
    added.emplace_back(rel.columns[i].name);
  }
  return added;
}

std::vector<std::string> columns_widened(const pipeline::TableSchema& table, const pgo::Relation& rel) {
  const auto& cols = table.source_columns;
  if (rel.columns.size() != cols.size()) return {};
  std::vector<std::string> widened;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const auto& r = rel.columns[i];
    if (r.name != cols[i].name || key_changed(table, rel, i)) return {};
    if (same_type(cols[i], r)) continue;
    if (widening_refusal(declared(cols[i]), declared(r))) return {};
    widened.push_back(cols[i].name);
  }
  return widened;
}

std::vector<std::string> columns_dropped(const pipeline::TableSchema& table, const pgo::Relation& rel) {
  const auto& cols = table.source_columns;
  if (rel.columns.empty() || rel.columns.size() >= cols.size()) return {};
  std::vector<std::string> dropped;
  std::size_t j = 0;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (j < rel.columns.size() && rel.columns[j].name == cols[i].name) {
      const auto& r = rel.columns[j++];
      if (!same_type(cols[i], r)) return {};
      if (rel.replica_identity != 'f' && table.replica_identity != 'f' && r.is_key() != cols[i].is_key) return {};
    } else {
      if (cols[i].is_key) return {};  // the key changed
      dropped.push_back(cols[i].name);
    }
  }
  return j == rel.columns.size() ? dropped : std::vector<std::string>{};
}

std::vector<std::pair<std::string, std::string>> columns_renamed(const pipeline::TableSchema& table,
                                                                 const pgo::Relation& rel) {
  const auto& cols = table.source_columns;
  if (rel.columns.size() != cols.size()) return {};
  std::vector<std::pair<std::string, std::string>> renamed;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const auto& r = rel.columns[i];
    if (!same_type(cols[i], r) || key_changed(table, rel, i)) return {};
    if (r.name != cols[i].name) renamed.emplace_back(cols[i].name, std::string(r.name));
  }
  return renamed;
}

std::optional<OlderShape> older_shape_of(const pipeline::TableSchema& table, const pgo::Relation& rel,
                                         const std::vector<std::string>& dropped,
                                         const std::vector<std::pair<std::string, std::string>>& renamed,
                                         const std::vector<std::pair<std::string, std::string>>& missing) {
  const auto& cols = table.source_columns;
  if (rel.columns.empty()) return std::nullopt;
  OlderShape shape;
  bool older = false;
  int last = -1;  // the table's columns keep their order; those it has beyond the last were added since
  for (const auto& r : rel.columns) {
    // Its name now: renamed since, in order (no name is taken twice, so the chain is the column's).
    std::string name(r.name);
    for (const auto& [from, to] : renamed) {
      if (name == from) name = to;
    }
    older = older || name != r.name;
    const auto it = std::find_if(cols.begin(), cols.end(), [&](const auto& c) { return c.name == name; });
    if (it == cols.end()) {
      if (std::find(dropped.begin(), dropped.end(), name) == dropped.end()) return std::nullopt;
      shape.index.push_back(-1);
      older = true;
    } else {
      const int j = static_cast<int>(it - cols.begin());
      // The table's columns in the same order, none skipped: only those after the last were added.
      if (j != last + 1 || widening_refusal(declared(r), declared(*it))) return std::nullopt;
      older = older || !same_type(*it, r);
      shape.index.push_back(j);
      last = j;
    }
    shape.types.push_back(declared(r));
  }
  older = older || last + 1 < static_cast<int>(cols.size());
  if (!older) return std::nullopt;
  for (int j = last + 1; j < static_cast<int>(cols.size()); ++j) {
    for (const auto& [added_as, value] : missing) {
      std::string name = added_as;  // renamed since, perhaps
      for (const auto& [from, to] : renamed) {
        if (name == from) name = to;
      }
      if (name == cols[static_cast<std::size_t>(j)].name) shape.filled.emplace_back(j, value);
    }
  }
  return shape;
}

TableGate::TableGate(table_sync::TableStates& states, Evolver evolver) : states_(states), evolver_(std::move(evolver)) {
  for (const auto* t : states_.tables()) {
    const TablePhase phase = states_.phase(*t);
    gates_[t->relation_oid] = Gate{t, phase == TablePhase::Streaming || phase == TablePhase::CatchingUp ||
                                          phase == TablePhase::Copying, false, std::nullopt};
    if (phase == TablePhase::CatchingUp) catching_up_.push_back(t);
  }
}

void TableGate::stop(const pipeline::TableSchema& table, std::string reason, std::string fix) {
  spdlog::error("table {} stopped: {} (fix: {}); the other tables go on", table.qualified_source(), reason, fix);
  states_.stop(table, std::move(reason), std::move(fix));
  gates_[table.relation_oid].apply = false;
  std::erase(catching_up_, &table);
}

const pipeline::TableSchema* TableGate::on_relation(const pgo::Relation& rel, Lsn position) {
  auto it = gates_.find(rel.oid);
  if (it == gates_.end()) return nullptr;  // published but not configured: skipped
  Gate& g = it->second;
  const pipeline::TableSchema& t = *g.table;
  const TablePhase phase = states_.phase(t);
  if (phase == TablePhase::Stopped) return nullptr;
  g.older.reset();
  if (g.held) {
    // Waiting for its copy, which takes its columns as they are then (online_resync.h).
    g.apply = false;
    return nullptr;
  }
  // A catching-up table follows its columns like a streaming one once past its copy point.
  const bool following = phase == TablePhase::Streaming || phase == TablePhase::CatchingUp;
  const Lsn copy_point = states_.at(t).copy_point;
  const bool before_copy = copy_point != kInvalidLsn && position < copy_point && !g.applied;
  const std::string diff = relation_difference(t, rel);
  if (diff.empty()) {
    // The same columns: perhaps one lost NOT NULL, which the message cannot show (the evolver
    // asks the catalog). Its target column must take NULL before the first one arrives.
    if (evolver_ && following && has_not_null_column(t)) {
      if (!follow(g, evolver_(t, rel, position), {})) return &t;
    }
    g.apply = !g.held;
    return nullptr;
  }
  if (following && !before_copy) {
    const Lsn evolved_at = states_.at(t).evolved_at;
    if (evolved_at != kInvalidLsn && position < evolved_at) {
      const auto& s = states_.at(t);
      if (auto older = older_shape_of(t, rel, s.dropped_columns, s.renamed_columns, s.missing_values)) {
        // Rows from before its columns changed: the stream gives the added columns NULL (or their
        // fast default), widens the values of the older types, as PostgreSQL did to the rows then,
        // and leaves out the values of columns dropped since.
        g.apply = true;
        g.older = std::move(*older);
        return nullptr;
      }
    }
    // One kind of change, or several at once (ALTERs in one transaction, or one ALTER with
    // several subcommands: a single Relation message shows them together): the evolver follows
    // them, asks for a copy, or says why the table stops.
    if (evolver_ && !retyped_beyond_widening(t, rel)) {
      return follow(g, evolver_(t, rel, position), diff) ? nullptr : &t;
    }
  }
  if (before_copy) {
    // Rows of an older shape, before the copy point: the copy (taken with the current columns)
    // holds their effect, and none of this table's changes was applied yet, so skipping them
    // keeps the skipped changes a prefix (see the header).
    if (g.apply) {
      spdlog::info("table {}: rows with its older columns ({}) before its copy point {} are skipped, the copy has "
                   "them",
                   t.qualified_source(), diff, format_lsn(copy_point));
    }
    g.apply = false;
    return nullptr;
  }
  stop(t, fmt::format("its columns changed while streaming: {}", diff),
       "restart pg2ch: a table whose columns changed is copied again with its new columns at the next start");
  return &t;
}

bool TableGate::follow(Gate& g, const Evolution& e, const std::string& diff) {
  const pipeline::TableSchema& t = *g.table;
  switch (e.outcome) {
    case Evolution::Outcome::Followed:
      g.apply = true;
      return true;
    case Evolution::Outcome::CopyAgain:
      // Its changes wait for the copy (copy_again()), which the evolver's caller asked for.
      spdlog::warn("table {}: its columns changed ({}) in a way the stream cannot follow: {}; copying it again while "
                   "the other tables stream",
                   t.qualified_source(), diff.empty() ? std::string("same names and types") : diff, e.why);
      g.apply = false;
      g.held = true;
      std::erase(catching_up_, &t);
      return true;
    case Evolution::Outcome::Stop: break;
  }
  stop(t, diff.empty() ? e.why : fmt::format("its columns changed while streaming: {} ({})", diff, e.why),
       "restart pg2ch: a table whose columns changed is copied again with its new columns at the next start");
  return false;
}

table_sync::StopReason bad_value_stop(const pipeline::TableSchema& table, const Error& error, const std::string& key) {
  return table_sync::refused_value(
      error, key,
      fmt::format("restart pg2ch (a changed table config or column list is copied again), or run `pg2ch resync {}` "
                  "when only the data was corrected",
                  table.qualified_source()));
}

void TableGate::stop_for_bad_change(const pipeline::TableSchema& table, const Error& error, const std::string& key) {
  auto why = bad_value_stop(table, error, key);
  stop(table, std::move(why.reason), std::move(why.fix));
}

void TableGate::stop_for_refused_insert(const pipeline::TableSchema& table, const Error& error) {
  stop(table, fmt::format("ClickHouse refused its rows: {}", error.what()),
       fmt::format("make its target match again (or drop it: pg2ch creates it anew), then run `pg2ch resync {}` or "
                   "restart pg2ch; the table is copied again",
                   table.qualified_source()));
}

void TableGate::stop_unpublished(const pipeline::TableSchema& table, const std::string& publication) {
  if (states_.phase(table) == TablePhase::Stopped) return;
  stop(table,
       fmt::format("it was removed from publication {} (ALTER PUBLICATION ... DROP TABLE, or SET TABLE without it): "
                   "its changes are no longer streamed",
                   publication),
       "restart pg2ch: it adds the table to the publication again and copies it again, so the changes made while it "
       "was out are not lost");
}

void TableGate::stop_dropped(const pipeline::TableSchema& table) {
  if (states_.phase(table) == TablePhase::Stopped) return;
  stop(table, "it was dropped at the source; its ClickHouse target is left in place with what it held",
       "remove it from [[tables]] (a `schema.*` entry drops it by itself at the next start), and drop its target "
       "yourself when it is no longer needed");
}

void TableGate::copy_again(const pipeline::TableSchema& table) {
  Gate& g = gates_.at(table.relation_oid);
  g.held = false;
  g.apply = true;
  g.applied = true;  // skipping has ended for good (see the header)
  g.older.reset();
  std::erase(catching_up_, &table);
}

void TableGate::catch_up(const pipeline::TableSchema& table) {
  if (std::find(catching_up_.begin(), catching_up_.end(), &table) == catching_up_.end()) catching_up_.push_back(&table);
}

void TableGate::on_durable(Lsn durable) {
  if (catching_up_.empty()) return;
  std::vector<const pipeline::TableSchema*> done;
  for (const auto* t : catching_up_) {
    if (states_.at(*t).copy_point <= durable) done.push_back(t);
  }
  if (done.empty()) return;
  states_.caught_up(done);
  for (const auto* t : done) {
    std::erase(catching_up_, t);
    spdlog::info("table {} caught up: streaming", t->qualified_source());
  }
}

}  // namespace pg2ch::capture::logical

#include "capture/logical/schema_evolution.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <thread>
#include <utility>

#include "capture/logical/ignored_changes.h"
#include "capture/logical/table_gate.h"
#include "capture/logical/type_widening.h"
#include "clickhouse/column_conversion.h"
#include "common/crash_point.h"

namespace pg2ch::capture::logical {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const pipeline::SourceColumn* source_column(const pipeline::TableSchema& t, std::string_view name) {
  const auto it =
      std::find_if(t.source_columns.begin(), t.source_columns.end(), [&](const auto& c) { return c.name == name; });
  return it == t.source_columns.end() ? nullptr : &*it;
}

const pipeline::TargetColumn* target_column(const pipeline::TableSchema& t, std::string_view name) {
  const auto it =
      std::find_if(t.target_columns.begin(), t.target_columns.end(), [&](const auto& c) { return c.name == name; });
  return it == t.target_columns.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> missing_value(std::string_view hex) {
  std::string bytes;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  const auto int32_at = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = v << 8 | static_cast<unsigned char>(bytes[at + k]);
    return static_cast<std::int32_t>(v);
  };
  // ndim, has-nulls flag, element type, (size, lower bound) per dimension, then (length, bytes).
  constexpr std::size_t kHeader = 12 + 8;
  if (bytes.size() < kHeader + 4 || int32_at(0) != 1 || int32_at(12) != 1) return std::nullopt;
  const std::int32_t length = int32_at(kHeader);
  if (length < 0 || bytes.size() != kHeader + 4 + static_cast<std::size_t>(length)) return std::nullopt;
  return bytes.substr(kHeader + 4);
}

namespace {

// The target column of the source column `name` (its name on the target may differ: a rename
// ignored, ignored_changes.h).
const pipeline::TargetColumn* target_for(const pipeline::TableSchema& t, std::string_view name) {
  const auto* c = source_column(t, name);
  return c && c->target_index >= 0 ? &t.target_columns[static_cast<std::size_t>(c->target_index)] : nullptr;
}

// Whether the rows already there hold what the stream assumes after `widened` columns of `table`
// changed type (`next`: the table described after the ALTER), told by pg_class.relfilenode: nullopt
// when they do, else the outcome.
// * A widening that is only a new typmod does not rewrite the table; one that did ran a USING
//   expression, which may have changed every value without the stream carrying any of them: stop.
// * timestamp → timestamptz (type_widening.h timestamp_changes_zone) kept the stored microseconds,
//   as UTC, exactly when the table was not rewritten (the ALTER ran under TimeZone UTC). Rewritten,
//   every row already there may hold another instant than pg2ch wrote: the table is copied again
//   while the others stream (a stop would need an operator for what pg2ch can mend alone).
// Why an unchanged relfilenode proves no rewrite: `table.relfilenode` was read before the ALTER
// committed (describe_table reads it before the columns, each query its own snapshot, and those
// columns still had the old type), `next.relfilenode` after it (the columns there have the new
// type); a rewrite in between gives the table a new relfilenode, and PostgreSQL does not hand out
// a number still in use or whose file awaits the next checkpoint, so the old one comes back only
// after the 32-bit counter wrapped around. The other way (VACUUM FULL, CLUSTER or another rewrite
// since `table` was described, with an ALTER under UTC) is a rewrite seen where the ALTER made none:
// a copy more than needed, never a value kept wrong. A partitioned table has no relfilenode of its
// own (0 before and after), so it cannot tell: copied again.
std::optional<Evolution> rewrite_refusal(const pipeline::TableSchema& table, const pipeline::TableSchema& next,
                                         const std::vector<std::string>& widened) {
  bool rewrite_expected = false;
  std::vector<std::string> zoned;
  for (const auto& name : widened) {
    const auto* before = source_column(table, name);
    const auto* after = source_column(next, name);
    const DeclaredType from{before->declared_type_oid, before->declared_typmod};
    const DeclaredType to{after->declared_type_oid, after->declared_typmod};
    rewrite_expected = rewrite_expected || widening_rewrites(from, to);
    if (timestamp_changes_zone(from, to)) zoned.push_back(name);
  }
  const bool rewritten = next.relfilenode != table.relfilenode;
  if (!zoned.empty() && (rewritten || table.partitioned || next.partitioned)) {
    return Evolution::copy_again(fmt::format(
        "column(s) {} changed from timestamp to timestamptz {}: PostgreSQL converted the rows already there in the "
        "ALTER's session TimeZone, so they may hold other instants than the ones replicated (only an ALTER under "
        "TimeZone UTC keeps them)",
        joined(zoned),
        rewritten ? "with the table rewritten (a TimeZone other than UTC, or a VACUUM FULL or CLUSTER since)"
                  : "on a partitioned table, whose partitions' rewrites pg2ch does not look at"));
  }
  if (!rewrite_expected && rewritten) {
    return Evolution(fmt::format("the table was rewritten with column(s) {} (ALTER ... TYPE ... USING, or VACUUM FULL "
                                 "since): the rows already there may hold values the stream does not carry",
                                 joined(widened)));
  }
  return std::nullopt;
}

bool same_clickhouse_type(std::string a, std::string b) {
  std::erase(a, ' ');
  std::erase(b, ' ');
  return a == b;
}

}  // namespace

Evolution SchemaEvolver::evolve(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                Lsn position) {
  if (relation_difference(table, rel).empty()) return follow_nullability(table, rel, position);
  wait_until_the_catalog_shows(table, rel);
  // A NOT NULL dropped with the change the Relation shows (the message cannot show it): several
  // kinds, followed together as each one's setting says.
  if (!lost_not_null(table).empty()) return follow_several_and_forget(table, rel, position);
  if (const auto added = columns_added_at_end(table, rel); !added.empty()) {
    if (cfg_.logical.on_column_added == "stop") return std::string("logical.on_column_added is \"stop\"");
    if (cfg_.logical.on_column_added == "ignore") return ignore(table, rel, added, "added", position);
    Evolution e = add_columns(table, rel, added, position);
    // Copied with its new columns: a current row fetched from here on has them.
    if (e.outcome == Evolution::Outcome::CopyAgain) fetcher_.forget(table.relation_oid);
    return e;
  }
  if (const auto widened = columns_widened(table, rel); !widened.empty()) {
    if (cfg_.logical.on_type_widened == "stop") return std::string("logical.on_type_widened is \"stop\"");
    Evolution e = widen_columns(table, rel, widened, position, cfg_.logical.on_type_widened == "ignore");
    if (e.outcome == Evolution::Outcome::CopyAgain) fetcher_.forget(table.relation_oid);
    return e;
  }
  if (const auto dropped = columns_dropped(table, rel); !dropped.empty()) {
    if (cfg_.logical.on_column_dropped == "stop") return std::string("logical.on_column_dropped is \"stop\"");
    return drop_columns(table, rel, dropped, position);
  }
  if (const auto renamed = columns_renamed(table, rel); !renamed.empty()) {
    if (cfg_.logical.on_column_renamed == "stop") return std::string("logical.on_column_renamed is \"stop\"");
    return rename_columns(table, rel, renamed, position, cfg_.logical.on_column_renamed == "ignore");
  }
  // Several kinds at once (a look at the catalog after two ALTERs; a Relation message after
  // several ALTERs in one transaction).
  return follow_several_and_forget(table, rel, position);
}

Evolution SchemaEvolver::follow_several_and_forget(const pipeline::TableSchema& table,
                                                   const pg::pgoutput::Relation& rel, Lsn position) {
  Evolution e = follow_several(table, rel, position);
  // Copied with its new columns: a current row fetched from here on has them.
  if (e.outcome == Evolution::Outcome::CopyAgain) fetcher_.forget(table.relation_oid);
  return e;
}

Evolution SchemaEvolver::follow_catalog(const pipeline::TableSchema& table) {
  auto described = describe_now(table);
  if (auto* why_not = std::get_if<std::string>(&described)) return std::move(*why_not);
  const pipeline::TableSchema& now = std::get<pipeline::TableSchema>(described);
  // The message pgoutput would send for the table now: its live columns, declared types, key.
  pg::pgoutput::Relation rel;
  rel.oid = now.relation_oid;
  rel.namespace_name = now.source_schema;
  rel.name = now.source_name;
  rel.replica_identity = now.replica_identity;
  for (const auto& c : now.source_columns) {
    rel.columns.push_back({static_cast<std::uint8_t>(c.is_key ? 1 : 0), c.name, c.declared_type_oid, c.declared_typmod});
  }
  return evolve(table, rel, current_source_position(p_.source));
}

Lsn current_source_position(pg::Connection& source) {
  // At or past the commit of the change the catalog shows: the Kafka consumer reads every change
  // below it as possibly of the older shape (kafka/event_row.h OlderShape). The insert position,
  // not pg_current_wal_lsn(): that is where WAL was written out, which lags commits under
  // synchronous_commit = off. On a standby (poll reads one too) the position replayed, which
  // passed the commit since the catalog shows it.
  return parse_lsn(source
                       .query("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE "
                              "pg_current_wal_insert_lsn() END::text")
                       .text(0, 0))
      .value_or(Lsn{1});
}

void SchemaEvolver::wait_until_the_catalog_shows(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel) {
  // A commit is decoded once it is in the WAL, which can be a moment before a new snapshot sees
  // it (as current_row_fetcher.h waits for): the catalog may still describe the columns from
  // before the ALTER. Asked again for up to 2 s; a catalog that moved past the Relation (a later
  // ALTER) never matches, and the checks after this say so.
  constexpr auto kStep = std::chrono::milliseconds(10);
  constexpr int kSteps = 200;
  for (int i = 0; i < kSteps; ++i) {
    pg::Result cols = p_.source.query(
        "SELECT attname, atttypid, atttypmod FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT "
        "attisdropped AND attgenerated = '' ORDER BY attnum",
        {std::to_string(table.relation_oid)});
    bool same = cols.rows() == static_cast<int>(rel.columns.size());
    for (int r = 0; same && r < cols.rows(); ++r) {
      const auto& c = rel.columns[static_cast<std::size_t>(r)];
      same = cols.value(r, 0) == c.name && cols.int64(r, 1) == c.type_oid && cols.int64(r, 2) == c.type_modifier;
    }
    if (same) return;
    std::this_thread::sleep_for(kStep);
  }
}

std::variant<SchemaEvolver::MissingValues, Evolution> SchemaEvolver::values_of_added(
    const pipeline::TableSchema& table, const std::vector<std::string>& added) {
  // What the rows that existed before hold in the new columns. A row written before a column was
  // added does not have it on disk: it reads the column's missing value (pg_attribute.
  // attmissingval, a fast default: a non-volatile DEFAULT) or else NULL. Only a rewrite of the
  // table (a volatile default, an identity, a stored generated column; a TRUNCATE or VACUUM FULL
  // since, which cannot be told apart) gives them values of their own, which the stream does not
  // carry: that table is copied again. The catalog may answer for a later moment than the
  // Relation's; a later rewrite shows as one, which is safe.
  std::string list;
  for (const auto& name : added) list += (list.empty() ? "" : ",") + p_.source.quote_literal(name);
  pg::Result filled = p_.source.query(
      fmt::format("SELECT a.attname, a.atthasmissing, encode(array_send(a.attmissingval), 'hex'), a.attnotnull, "
                  "c.relfilenode <> $2::oid FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                  "WHERE c.oid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname IN ({}) ORDER BY a.attnum",
                  list),
      {std::to_string(table.relation_oid), std::to_string(table.relfilenode)});
  MissingValues missing;
  for (int i = 0; i < filled.rows(); ++i) {
    const std::string name = filled.text(i, 0);
    if (filled.boolean(i, 4)) {
      return Evolution::copy_again(fmt::format(
          "column {} was added with the table rewritten (a volatile default, an identity or a generated column; or "
          "a TRUNCATE or VACUUM FULL since), so the rows already there hold values the stream does not carry",
          name));
    }
    if (filled.boolean(i, 1)) {
      auto value = missing_value(filled.text(i, 2));
      if (!value) {
        return Evolution::copy_again(
            fmt::format("the default value PostgreSQL recorded for column {} could not be read", name));
      }
      missing.emplace_back(name, std::move(*value));
    } else if (filled.boolean(i, 3)) {
      // NOT NULL without a value for the rows there: the table had none; rows of the older shape
      // read again after a restart would be NULL in a column that takes none.
      return Evolution(fmt::format("column {} was added NOT NULL without a default", name));
    }
  }
  if (filled.rows() != static_cast<int>(added.size())) {
    return Evolution(std::string("its columns changed again since (a column added is gone)"));
  }
  return missing;
}

std::optional<Evolution> SchemaEvolver::set_target_defaults(const pipeline::TableSchema& next, Change& change) {
  // Each DEFAULT checked on the server before anything is altered: one it cannot express needs
  // the rows copied instead.
  for (const auto& [name, value] : change.missing) {
    if (!target_column(next, name)) continue;  // excluded: nothing to write
    auto expression = p_.targets->default_expression(next, name, value);
    if (!expression) {
      return Evolution::copy_again(fmt::format(
          "ClickHouse {} cannot give column {} the default value the rows already there hold (see the warning above)",
          p_.targets->type_capabilities().version.text, name));
    }
    change.defaults.emplace(name, std::move(*expression));
  }
  return std::nullopt;
}

Evolution SchemaEvolver::follow_several(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                        Lsn position) {
  // Exact only by a copy: online where the capture can (logical), else the table stops and the
  // next start copies it.
  const auto copy_instead = [&](std::string why) {
    return copies_online_ ? Evolution::copy_again(std::move(why)) : Evolution(std::move(why));
  };
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  // Each column by its attnum: kept by a rename and a type change, new for a column added (also
  // one dropped and added again under its name).
  const auto by_attnum = [](const pipeline::TableSchema& t, int attnum) -> const pipeline::SourceColumn* {
    const auto it = std::find_if(t.source_columns.begin(), t.source_columns.end(),
                                 [&](const auto& c) { return c.attnum == attnum; });
    return it == t.source_columns.end() ? nullptr : &*it;
  };
  std::vector<std::string> added, widened, dropped, nullable;
  std::vector<std::pair<std::string, std::string>> renamed;
  for (const auto& c : table.source_columns) {
    if (c.attnum == 0) return copy_instead("the columns' attribute numbers were not recorded");
    const auto* now = by_attnum(next, c.attnum);
    if (!now) {
      if (c.is_key) return fmt::format("key column {} was dropped", c.name);
      dropped.push_back(c.name);
      continue;
    }
    if (now->is_key != c.is_key) return fmt::format("the table's key changed at column {}", c.name);
    if (now->name != c.name) renamed.emplace_back(c.name, now->name);
    const DeclaredType from{c.declared_type_oid, c.declared_typmod}, to{now->declared_type_oid, now->declared_typmod};
    if (from != to) {
      if (auto refusal = widening_refusal(from, to)) return fmt::format("column {}: {}", now->name, *refusal);
      widened.push_back(now->name);
    }
    if (c.catalog_not_null() && !now->not_null && c.target_index >= 0) nullable.push_back(now->name);
  }
  for (const auto& c : next.source_columns) {
    if (by_attnum(table, c.attnum)) continue;
    if (c.is_key) return fmt::format("the table's key changed at column {}", c.name);
    added.push_back(c.name);
  }
  // Each kind as its setting says; "ignore" only alone (evolve()), where what the target keeps is
  // one kind's: with others, the copy takes them all (as the next start would after a stop).
  const std::pair<const std::vector<std::string>*, const std::string*> kinds[] = {
      {&added, &cfg_.logical.on_column_added},       {&widened, &cfg_.logical.on_type_widened},
      {&dropped, &cfg_.logical.on_column_dropped},   {&nullable, &cfg_.logical.on_not_null_dropped}};
  const char* const setting_names[] = {"on_column_added", "on_type_widened", "on_column_dropped",
                                       "on_not_null_dropped"};
  for (std::size_t k = 0; k < std::size(kinds); ++k) {
    if (kinds[k].first->empty() || *kinds[k].second == "evolve") continue;
    const auto why = fmt::format("several kinds of change at once, and logical.{} is \"{}\"", setting_names[k],
                                 *kinds[k].second);
    return *kinds[k].second == "stop" ? Evolution(why) : copy_instead(why);
  }
  if (!renamed.empty() && cfg_.logical.on_column_renamed != "evolve") {
    const auto why = fmt::format("several kinds of change at once, and logical.on_column_renamed is \"{}\"",
                                 cfg_.logical.on_column_renamed);
    return cfg_.logical.on_column_renamed == "stop" ? Evolution(why) : copy_instead(why);
  }
  // No name means two columns: rows of an older shape read again name each column by its name then.
  std::vector<std::string> new_names = added, old_names = dropped;
  for (const auto& [from, to] : renamed) {
    old_names.push_back(from);
    new_names.push_back(to);
  }
  for (const auto& name : new_names) {
    if (name_taken_before(table, name) || std::find(old_names.begin(), old_names.end(), name) != old_names.end()) {
      return Evolution::copy_again(fmt::format("a column named {} was dropped or renamed earlier", name));
    }
  }
  Change change;
  for (const auto& [from, to] : renamed) {
    const auto* c = target_for(table, from);
    if (!c) continue;  // not replicated
    if (c->is_key) {
      return copy_instead(
          fmt::format("column {} is in the target's sorting key, which ClickHouse cannot rename", from));
    }
    if (!p_.targets->type_capabilities().rename_column) {
      return copy_instead(fmt::format("ClickHouse {} cannot rename a column (RENAME COLUMN needs 20.4)",
                                      p_.targets->type_capabilities().version.text));
    }
    change.renamed_in_target.emplace_back(c->name, to);
  }
  if (auto refused = rewrite_refusal(table, next, widened)) return std::move(*refused);
  if (!added.empty()) {
    auto values = values_of_added(table, added);
    if (auto* outcome = std::get_if<Evolution>(&values)) return std::move(*outcome);
    change.missing = std::get<MissingValues>(std::move(values));
  }
  for (const auto& c : next.target_columns) {
    const bool renamed_to = std::any_of(change.renamed_in_target.begin(), change.renamed_in_target.end(),
                                        [&](const auto& r) { return r.second == c.name; });
    if (!renamed_to && !target_column(table, c.name)) change.added.push_back(c.name);
  }
  auto retyped = retyped_target_columns(table, next, change.renamed_in_target);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  change.modified = std::get<std::vector<std::string>>(std::move(retyped));
  for (const auto& name : dropped) {
    if (const auto* c = target_for(table, name)) change.kept.push_back(c->name);
  }
  change.dropped = dropped;
  change.renamed = renamed;
  if (auto refused = set_target_defaults(next, change)) return std::move(*refused);
  replace(table, std::move(next), change, position);
  std::string what;
  const auto say = [&](const std::vector<std::string>& names, const char* verb) {
    if (!names.empty()) what += fmt::format("{}{} {}", what.empty() ? "" : "; ", joined(names), verb);
  };
  say(added, "added");
  say(widened, "widened");
  say(dropped, "dropped (target columns kept, NULL from now on)");
  say(nullable, "made nullable");
  for (const auto& [from, to] : renamed) what += fmt::format("{}{} renamed to {}", what.empty() ? "" : "; ", from, to);
  spdlog::info("table {}: several changes of its columns at the source followed at once ({}); streaming on",
               table.qualified_source(), what);
  return Evolution{};
}

Evolution SchemaEvolver::add_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                     const std::vector<std::string>& added, Lsn position) {
  for (const auto& name : added) {
    // Not in place: rows read again could not tell the two apart, and a dropped one's target
    // column, kept, holds its values. A copy re-creates the target with the columns as they are.
    if (name_taken_before(table, name)) {
      return Evolution::copy_again(fmt::format("a column named {} was dropped or renamed earlier", name));
    }
  }
  auto values = values_of_added(table, added);
  if (auto* outcome = std::get_if<Evolution>(&values)) return std::move(*outcome);
  const auto missing = std::get<MissingValues>(std::move(values));
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  Change change;
  for (const auto& c : next.target_columns) {
    if (!target_column(table, c.name)) change.added.push_back(c.name);
  }
  // A column of the table that lost NOT NULL meanwhile (the Relation message cannot say).
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  change.modified = std::get<std::vector<std::string>>(std::move(retyped));
  change.missing = missing;
  if (auto refused = set_target_defaults(next, change)) return std::move(*refused);
  replace(table, std::move(next), change, position);
  std::string defaults;
  for (const auto& [name, value] : missing) defaults += (defaults.empty() ? "" : ", ") + name;
  spdlog::info("table {}: column(s) {} added at the source, added to its target in place{}; streaming on",
               table.qualified_source(), joined(added),
               defaults.empty() ? std::string()
                                : fmt::format(" (with the default the rows already there hold: {})", defaults));
  return Evolution{};
}

Evolution SchemaEvolver::widen_columns(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                       const std::vector<std::string>& widened, Lsn position, bool keep_target_types) {
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  if (auto refused = rewrite_refusal(table, next, widened)) return std::move(*refused);
  Change change;
  if (keep_target_types) {
    // The target keeps each column's type where the ClickHouse type would change
    // (ignored_changes.h): values are narrowed back, each checked.
    for (const auto& name : widened) {
      const auto* before = target_for(table, name);
      const auto* after = target_for(next, name);
      if (!before || !after || before->mapping.clickhouse_type == after->mapping.clickhouse_type) continue;
      change.ignored.push_back({"widened", name, kept_type_of(table, name)});
    }
    apply_ignored(next, change.ignored, p_.targets->type_capabilities());
  }
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  const auto modified = std::get<std::vector<std::string>>(std::move(retyped));
  change.modified = modified;
  replace(table, std::move(next), change, position);
  spdlog::info("table {}: column(s) {} widened at the source, {}; streaming on", table.qualified_source(),
               joined(widened),
               modified.empty() ? std::string("its target unchanged (same ClickHouse types)")
                                : fmt::format("target column(s) {} changed in place", joined(modified)));
  return Evolution{};
}

std::optional<std::string> SchemaEvolver::drop_columns(const pipeline::TableSchema& table,
                                                       const pg::pgoutput::Relation& rel,
                                                       const std::vector<std::string>& dropped, Lsn position) {
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  std::vector<std::string> kept;
  for (const auto& name : dropped) {
    if (const auto* c = target_for(table, name)) kept.push_back(c->name);
  }
  Change change;
  change.modified = std::get<std::vector<std::string>>(std::move(retyped));
  change.kept = kept;
  change.dropped = dropped;
  replace(table, std::move(next), change, position);
  spdlog::info("table {}: column(s) {} dropped at the source; {}; streaming on", table.qualified_source(),
               joined(dropped),
               kept.empty() ? std::string("they were not replicated")
                            : fmt::format("target column(s) {} kept with their values, NULL from now on", joined(kept)));
  return std::nullopt;
}

std::optional<std::string> SchemaEvolver::rename_columns(
    const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
    const std::vector<std::pair<std::string, std::string>>& renamed, Lsn position, bool keep_target_names) {
  std::vector<std::pair<std::string, std::string>> in_target;
  for (const auto& [from, to] : renamed) {
    if (name_taken_before(table, to)) {
      return fmt::format("column {} was renamed to {}, a name a column dropped or renamed earlier had: rows read "
                         "again could not tell the two apart",
                         from, to);
    }
    const auto* c = target_for(table, from);
    if (!c) continue;  // not replicated
    if (keep_target_names) continue;  // the target keeps its name (ignored_changes.h)
    if (c->is_key) return fmt::format("column {} is in the target's sorting key, which ClickHouse cannot rename", from);
    in_target.emplace_back(c->name, to);
  }
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  // The Relation message names columns only: the same attnum under a new name is a rename, a new
  // one is a column dropped and another added in its place, whose rows hold NULL there.
  for (const auto& [from, to] : renamed) {
    const auto* before = source_column(table, from);
    const auto* after = source_column(next, to);
    if (!before || !after || before->attnum == 0 || before->attnum != after->attnum) {
      return fmt::format("column {} was dropped and {} added in its place (not a rename: another attnum)", from, to);
    }
  }
  if (!in_target.empty() && !p_.targets->type_capabilities().rename_column) {
    return fmt::format("ClickHouse {} cannot rename a column (RENAME COLUMN needs 20.4)",
                       p_.targets->type_capabilities().version.text);
  }
  Change change;
  if (keep_target_names) {
    for (const auto& [from, to] : renamed) {
      if (const auto* c = target_for(table, from)) change.ignored.push_back({"renamed", to, c->name});
    }
    apply_ignored(next, change.ignored, p_.targets->type_capabilities());
  }
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  std::string names;
  for (const auto& [from, to] : renamed) names += fmt::format("{}{} to {}", names.empty() ? "" : ", ", from, to);
  change.modified = std::get<std::vector<std::string>>(std::move(retyped));
  change.renamed_in_target = in_target;
  change.renamed = renamed;
  replace(table, std::move(next), change, position);
  spdlog::info("table {}: column(s) {} renamed at the source, {}; streaming on", table.qualified_source(), names,
               keep_target_names ? std::string("its target keeps the old names (logical.on_column_renamed is "
                                               "\"ignore\")")
               : in_target.empty() ? std::string("none of them replicated")
                                   : std::string("renamed on its target"));
  return std::nullopt;
}

Evolution SchemaEvolver::ignore(const pipeline::TableSchema& table, const pg::pgoutput::Relation& rel,
                                const std::vector<std::string>& columns, const std::string& kind, Lsn position) {
  const auto& known = states_.at(table).ignored;
  Change change;
  for (const auto& name : columns) {
    table_sync::IgnoredChange i{kind, name, ""};
    if (std::find(known.begin(), known.end(), i) == known.end()) change.ignored.push_back(std::move(i));
  }
  if (change.ignored.empty()) return Evolution{};  // a Relation again after the same change: recorded already
  if (kind == "added") {
    for (const auto& name : columns) {
      if (name_taken_before(table, name)) {
        return fmt::format("a column named {} was dropped or renamed earlier: rows read again could not tell the two "
                           "apart",
                           name);
      }
    }
  }
  auto fresh = describe_again(table, rel);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  apply_ignored(next, change.ignored, p_.targets->type_capabilities());
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  change.modified = std::get<std::vector<std::string>>(std::move(retyped));
  replace(table, std::move(next), change, position);
  spdlog::info("table {}: {} {} at the source left out of its target (logical.{} is \"ignore\"): {}; streaming on",
               table.qualified_source(), kind == "added" ? "column(s)" : "NOT NULL of column(s)", joined(columns),
               kind == "added" ? "on_column_added" : "on_not_null_dropped",
               kind == "added" ? "their values are not written"
                               : "its target column stays non-Nullable, and a NULL arriving stops the table");
  return Evolution{};
}

std::string SchemaEvolver::kept_type_of(const pipeline::TableSchema& table, const std::string& column) const {
  // Widened and ignored before: the target still has the type recorded then.
  if (const auto* kept = ignored_detail(states_.at(table).ignored, "widened", column)) return *kept;
  const auto* c = source_column(table, column);
  return kept_type_detail(c->declared_type_oid, c->declared_typmod);
}

bool name_taken_before(const table_sync::TableState& s, std::string_view name) {
  return std::find(s.dropped_columns.begin(), s.dropped_columns.end(), name) != s.dropped_columns.end() ||
         std::any_of(s.renamed_columns.begin(), s.renamed_columns.end(),
                     [&](const auto& r) { return r.first == name || r.second == name; });
}

bool SchemaEvolver::name_taken_before(const pipeline::TableSchema& table, std::string_view name) const {
  return logical::name_taken_before(states_.at(table), name);
}

std::vector<std::string> SchemaEvolver::lost_not_null(const pipeline::TableSchema& table) {
  // By attnum where recorded: the column may be renamed too.
  const bool by_attnum = std::none_of(table.source_columns.begin(), table.source_columns.end(),
                                      [](const auto& c) { return c.attnum == 0; });
  // One whose NOT NULL was dropped and ignored before keeps it on the schema (ignored_changes.h).
  const auto& ignored = states_.at(table).ignored;
  const auto ignored_before = [&](const std::string& name) {
    return std::find(ignored.begin(), ignored.end(), table_sync::IgnoredChange{"not_null", name, ""}) != ignored.end();
  };
  std::string list;
  for (const auto& c : table.source_columns) {
    if (!c.not_null || c.target_index < 0 || ignored_before(c.name)) continue;
    list += (list.empty() ? "" : ",") + (by_attnum ? std::to_string(c.attnum) : p_.source.quote_literal(c.name));
  }
  if (list.empty()) return {};
  pg::Result nullable = p_.source.query(
      fmt::format("SELECT attname, attnum FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT "
                  "attisdropped AND NOT attnotnull AND {} IN ({}) ORDER BY attnum",
                  by_attnum ? "attnum" : "attname", list),
      {std::to_string(table.relation_oid)});
  std::vector<std::string> names;
  for (int i = 0; i < nullable.rows(); ++i) {
    std::string name = nullable.text(i, 0);
    for (const auto& c : table.source_columns) {
      if (by_attnum && c.attnum == nullable.int64(i, 1)) name = c.name;
    }
    names.push_back(std::move(name));
  }
  return names;
}

Evolution SchemaEvolver::follow_nullability(const pipeline::TableSchema& table,
                                                             const pg::pgoutput::Relation& rel, Lsn position) {
  // pgoutput's Relation message has no NOT NULL: a new one with the same columns may follow a
  // DROP NOT NULL (or any other invalidation), so the catalog says which columns lost it. It may
  // answer for a later moment than the Relation's; a column made nullable early holds no NULL
  // yet, so that is exact too. A Kafka-only pipeline writes the NULL as it comes: nothing to do.
  if (cfg_.sink == "kafka") return Evolution{};
  const std::vector<std::string> names = lost_not_null(table);
  if (names.empty()) return Evolution{};
  if (cfg_.logical.on_not_null_dropped == "stop") {
    return fmt::format("column(s) {} may hold NULL now (DROP NOT NULL), and logical.on_not_null_dropped is \"stop\"",
                       joined(names));
  }
  auto fresh = describe_now(table);
  if (auto* why_not = std::get_if<std::string>(&fresh)) return std::move(*why_not);
  pipeline::TableSchema& next = std::get<pipeline::TableSchema>(fresh);
  if (const auto later = relation_difference(next, rel); !later.empty()) {
    // The catalog describes a later shape (columns added, dropped, retyped after this Relation, in
    // its transaction or a later one: rows of the older shape first, then the ALTERs). That
    // shape's Relation comes before any row of it, and the NOT NULL dropped is followed with the
    // rest then. A NULL in a row before it stops the table (its target column takes none yet):
    // never a value written wrong.
    spdlog::info("table {}: column(s) {} may hold NULL now, followed with the later change of its columns ({})",
                 table.qualified_source(), joined(names), later);
    return Evolution{};
  }
  if (cfg_.logical.on_not_null_dropped == "ignore") return ignore(table, rel, names, "not_null", position);
  apply_ignored(next, states_.at(table).ignored, p_.targets->type_capabilities());
  auto retyped = retyped_target_columns(table, next);
  if (auto* why_not = std::get_if<std::string>(&retyped)) return std::move(*why_not);
  const auto modified = std::get<std::vector<std::string>>(std::move(retyped));
  Change change;
  change.modified = modified;
  replace(table, std::move(next), change, position);
  spdlog::info("table {}: column(s) {} may hold NULL now (DROP NOT NULL), {}; streaming on", table.qualified_source(),
               joined(names),
               modified.empty() ? std::string("its target unchanged")
                                : fmt::format("target column(s) {} made Nullable in place", joined(modified)));
  return Evolution{};
}

std::variant<std::vector<std::string>, std::string> SchemaEvolver::retyped_target_columns(
    const pipeline::TableSchema& table, const pipeline::TableSchema& next,
    const std::vector<std::pair<std::string, std::string>>& renamed_in_target) {
  std::vector<std::string> modified;
  for (const auto& after : next.target_columns) {
    std::string_view was = after.name;
    for (const auto& [from, to] : renamed_in_target) {
      if (to == after.name) was = from;
    }
    const auto* before = target_column(table, was);
    if (!before || before->mapping.clickhouse_type == after.mapping.clickhouse_type) continue;
    if (before->is_key || after.is_key) {
      return fmt::format("column {} is in the target's sorting key, whose type ClickHouse cannot change ({} to {})",
                         after.name, before->mapping.clickhouse_type, after.mapping.clickhouse_type);
    }
    if (!clickhouse::converts_exactly(before->mapping.clickhouse_type, after.mapping.clickhouse_type)) {
      return fmt::format("column {} would change from {} to {} in ClickHouse, which does not keep every value exactly",
                         after.name, before->mapping.clickhouse_type, after.mapping.clickhouse_type);
    }
    modified.push_back(after.name);
  }
  return modified;
}

std::variant<pipeline::TableSchema, std::string> SchemaEvolver::describe_now(const pipeline::TableSchema& table) {
  auto ref = std::find_if(p_.refs.begin(), p_.refs.end(), [&](const auto& r) { return r.oid == table.relation_oid; });
  if (ref == p_.refs.end()) return std::string("the table is not among the configured ones");
  try {
    return pg::describe_table(p_.source, *ref, p_.targets->type_capabilities(), p_.describe_options);
  } catch (const Error& e) {
    // The table's config names a column it no longer has, or a new column has a type pg2ch cannot
    // map: this table's trouble, which stops it with the reason.
    if (e.kind() != ErrorKind::Config && e.kind() != ErrorKind::Schema) throw;
    return fmt::format("{} ({})", e.what(), e.hint());
  }
}

std::variant<pipeline::TableSchema, std::string> SchemaEvolver::describe_again(const pipeline::TableSchema& table,
                                                                               const pg::pgoutput::Relation& rel) {
  auto described = describe_now(table);
  if (std::holds_alternative<std::string>(described)) return described;
  auto& fresh = std::get<pipeline::TableSchema>(described);
  if (const auto diff = relation_difference(fresh, rel); !diff.empty()) {
    return fmt::format("its columns changed again since ({})", diff);
  }
  apply_ignored(fresh, states_.at(table).ignored, p_.targets->type_capabilities());
  return std::move(fresh);
}

void SchemaEvolver::replace(const pipeline::TableSchema& table, pipeline::TableSchema fresh, const Change& change,
                            Lsn position) {
  auto owned = std::find_if(p_.tables.begin(), p_.tables.end(), [&](const auto& t) { return t.get() == &table; });
  if (owned == p_.tables.end()) {
    throw Error(ErrorKind::Internal, fmt::format("{} is not among the configured tables", table.qualified_source()));
  }
  sink_.flush();  // rows of the old shape, with the old columns and types
  // Recorded before the target is altered: a crash from here on finds the table evolved, and the
  // next start alters the target again where it has not been (reapply(): each step idempotent).
  states_.evolved(table, position, change.dropped, change.renamed, change.missing, change.ignored, &fresh);
  crash_point("evolve_before_target_alter");
  if (!change.renamed_in_target.empty()) p_.targets->rename_columns(fresh, change.renamed_in_target);
  if (!change.added.empty()) p_.targets->add_columns(fresh, change.added, change.defaults);
  if (!change.modified.empty()) p_.targets->modify_columns(fresh, change.modified);
  if (!change.kept.empty()) p_.targets->keep_dropped_columns(table, change.kept);  // described by the old schema
  crash_point("evolve_after_target_alter");
  **owned = std::move(fresh);  // in place: every holder of the schema's address sees the new columns
  const pipeline::TableSchema* one[] = {owned->get()};
  p_.targets->ensure(one);  // the view, with the new columns
  fetcher_.forget(table.relation_oid);
}

void SchemaEvolver::reapply_all(
    SourceTables& p, const table_sync::TableStates& states,
    const std::function<void(const pipeline::TableSchema&, const std::string&)>& copy_again) {
  for (const auto& t : p.tables) {
    const auto& s = states.at(*t);
    if (s.phase == table_sync::TablePhase::Init || s.phase == table_sync::TablePhase::Stopped) continue;
    if (!s.ignored.empty()) apply_ignored(*t, s.ignored, p.targets->type_capabilities());
    if (auto why_not = reapply(p, s, *t)) copy_again(*t, *why_not);
  }
}

std::optional<std::string> SchemaEvolver::reapply(SourceTables& p, const table_sync::TableState& s,
                                                  const pipeline::TableSchema& table) {
  if (s.evolved_at == kInvalidLsn) return std::nullopt;
  auto have = p.targets->column_types(table);
  if (!have) return std::nullopt;  // no target: the start creates it (and copies the table)
  const auto has = [&](const std::string& name) { return have->contains(name); };
  bool said = false;
  const auto say = [&] {
    if (std::exchange(said, true)) return;
    spdlog::warn("table {}: its target lacks changes of its columns recorded before a crash; altering it again",
                 table.qualified_source());
  };
  // Renames in the order they happened; one whose new name is there already is done.
  for (const auto& [from, to] : s.renamed_columns) {
    const auto* c = target_column(table, to);
    if (!c || has(to) || !has(from)) continue;
    say();
    p.targets->rename_columns(table, {{from, to}});
    have->emplace(to, have->at(from));
    have->erase(from);
  }
  Change change;
  for (const auto& c : table.target_columns) {
    const auto now = have->find(c.name);
    if (now == have->end()) {
      change.added.push_back(c.name);
    } else if (!same_clickhouse_type(now->second, c.mapping.clickhouse_type)) {
      if (!clickhouse::converts_exactly(now->second, c.mapping.clickhouse_type)) {
        return fmt::format("its target column {} is {}, which does not convert exactly to {}", c.name, now->second,
                           c.mapping.clickhouse_type);
      }
      change.modified.push_back(c.name);
    }
  }
  for (const auto& name : change.added) {
    const auto value = std::find_if(s.missing_values.begin(), s.missing_values.end(),
                                    [&](const auto& m) { return m.first == name; });
    if (value == s.missing_values.end()) continue;
    auto expression = p.targets->default_expression(table, name, value->second);
    if (!expression) return fmt::format("ClickHouse cannot give column {} its default value", name);
    change.defaults.emplace(name, std::move(*expression));
  }
  for (const auto& name : s.dropped_columns) {
    if (has(name) && !target_column(table, name)) change.kept.push_back(name);
  }
  if (!change.added.empty() || !change.modified.empty() || !change.kept.empty()) say();
  if (!change.added.empty()) p.targets->add_columns(table, change.added, change.defaults);
  if (!change.modified.empty()) p.targets->modify_columns(table, change.modified);
  if (!change.kept.empty()) p.targets->keep_dropped_columns(table, change.kept);
  if (said) crash_point("reapply_after_target_alter");
  return std::nullopt;
}

}  // namespace pg2ch::capture::logical

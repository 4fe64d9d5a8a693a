#include "capture/table_sync/table_states.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "capture/table_sync/source_columns.h"
#include "common/error.h"
#include "common/fnv1a.h"
#include "pg/quote_ident.h"

namespace pg2ch::capture::table_sync {

namespace {

// Names as "<bytes>:<name>" one after another: any byte may be in a column name.
std::string encode_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += fmt::format("{}:{}", n.size(), n);
  return out;
}

std::string encode_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<std::string> flat;
  for (const auto& [a, b] : pairs) flat.insert(flat.end(), {a, b});
  return encode_names(flat);
}

std::vector<std::string> decode_names(std::string_view text);

// Values are binary (PostgreSQL's format); the store keeps text: hex.
std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::string unhex(std::string_view text) {
  const auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw Error(ErrorKind::Config, "malformed value in the state: not hex",
                "the state file was edited or truncated: delete it so `pg2ch run` takes a fresh snapshot");
  };
  if (text.size() % 2 != 0) nibble('x');
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) out += static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1]));
  return out;
}

std::string encode_ignored(const std::vector<IgnoredChange>& ignored) {
  std::vector<std::string> flat;
  for (const auto& i : ignored) flat.insert(flat.end(), {i.kind, i.column, i.detail});
  return encode_names(flat);
}

std::vector<IgnoredChange> decode_ignored(std::string_view text) {
  const auto flat = decode_names(text);
  std::vector<IgnoredChange> out;
  for (std::size_t i = 0; i + 2 < flat.size(); i += 3) out.push_back({flat[i], flat[i + 1], flat[i + 2]});
  return out;
}

std::vector<std::pair<std::string, std::string>> hexed(std::vector<std::pair<std::string, std::string>> pairs,
                                                       std::string (*f)(std::string_view)) {
  for (auto& p : pairs) p.second = f(p.second);
  return pairs;
}

std::vector<std::pair<std::string, std::string>> decode_pairs(std::string_view text) {
  const auto flat = decode_names(text);
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out.emplace_back(flat[i], flat[i + 1]);
  return out;
}

std::vector<std::string> decode_names(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto colon = text.find(':');
    std::size_t n = 0;
    for (char c : text.substr(0, colon)) n = n * 10 + static_cast<std::size_t>(c - '0');
    if (colon == std::string_view::npos || colon + 1 + n > text.size()) {
      throw Error(ErrorKind::Config, fmt::format("malformed list of dropped columns in the state: {}", text),
                  "the state file was edited or truncated: delete it so `pg2ch run` takes a fresh snapshot");
    }
    out.emplace_back(text.substr(colon + 1, n));
    text.remove_prefix(colon + 1 + n);
  }
  return out;
}

constexpr std::string_view kResyncRequested = "resync_requested";
// Every field record() writes and the resync request, so forget_states() erases them all.
constexpr std::string_view kStateFields[] = {
    "phase",        "reason",       "fix",          "source_digest",   "target_digest",   "copy_point",
    "evolved_at",   "skipped_from", "replay_until", "dropped_columns", "renamed_columns", "missing_values",
    "ignored",      "source_columns", kResyncRequested};

}  // namespace

std::string source_digest(const pipeline::TableSchema& table) {
  Fnv1a h;
  for (const auto& c : table.source_columns) {
    h.add(c.name).add(static_cast<std::int64_t>(c.declared_type_oid)).add(c.declared_typmod).add(c.type.name);
    h.add(std::int64_t{c.not_null}).add(std::int64_t{c.is_key});
  }
  return h.hex();
}

std::string target_digest(const pipeline::TableSchema& table) {
  Fnv1a h;
  h.add(table.target_name);
  for (const auto& c : table.target_columns) h.add(c.name).add(c.mapping.clickhouse_type);
  // Only where the operator chose the key: a table's own key changes its columns' digest already,
  // and digests recorded before this line must not change for every other table.
  if (table.key_from_config) {
    h.add("key");
    for (int i : table.key_target_indexes) h.add(table.target_columns[static_cast<std::size_t>(i)].name);
  }
  return h.hex();
}

std::string table_state_key(const pipeline::TableSchema& table, std::string_view field) {
  return fmt::format("table {}.{} {}", pg::quote_ident(table.source_schema), pg::quote_ident(table.source_name), field);
}

std::string resync_request_key(const pipeline::TableSchema& table) {
  return table_state_key(table, kResyncRequested);
}

void request_resync(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables) {
  TableStates states(store, tables);
  states.set(tables, TablePhase::Init);
  // The request itself, which a running pipeline takes (logical: online_resync.h); its own state
  // writes may overwrite the phase, never this key.
  std::map<std::string, std::string> requests;
  const std::string when = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  for (const auto* t : tables) requests[resync_request_key(*t)] = when;
  store.put(requests);
}

TableStates::TableStates(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables,
                         std::string key_prefix)
    : store_(store), key_prefix_(std::move(key_prefix)), tables_(tables.begin(), tables.end()) {
  for (const auto* t : tables_) states_.emplace(t, recorded(*t));
}

TableState TableStates::recorded(const pipeline::TableSchema& table) const {
  const auto offsets = [&](std::string_view field) {
    const std::string text = store_.get(key(table, field)).value_or("");
    auto parsed = parse_partition_offsets(text);
    if (!parsed) {
      throw Error(ErrorKind::Config, fmt::format("the state of {} has {} = \"{}\", which is not a list of offsets",
                                                 table.qualified_source(), field, text),
                  "the state store was edited by hand; restore it, or remove the table's keys to start it over");
    }
    return *parsed;
  };
  TableState s;
  auto field = [&](std::string_view name) { return store_.get(key(table, name)); };
  if (auto phase = field("phase")) {
    s.phase = parse_phase(*phase).value_or(TablePhase::Init);
    s.reason = field("reason").value_or("");
    s.fix = field("fix").value_or("");
    s.source_digest = field("source_digest").value_or("");
    s.source_columns = field("source_columns").value_or("");
    s.target_digest = field("target_digest").value_or("");
    s.copy_point = parse_lsn(field("copy_point").value_or("")).value_or(kInvalidLsn);
    s.evolved_at = parse_lsn(field("evolved_at").value_or("")).value_or(kInvalidLsn);
    s.skipped_from = offsets("skipped_from");
    s.replay_until = offsets("replay_until");
    s.dropped_columns = decode_names(field("dropped_columns").value_or(""));
    s.renamed_columns = decode_pairs(field("renamed_columns").value_or(""));
    s.missing_values = hexed(decode_pairs(field("missing_values").value_or("")), unhex);
    s.ignored = decode_ignored(field("ignored").value_or(""));
  }
  return s;
}

void TableStates::add(const pipeline::TableSchema& table) {
  if (states_.contains(&table)) return;
  tables_.push_back(&table);
  states_.emplace(&table, recorded(table));
}

void TableStates::remove(const pipeline::TableSchema& table) {
  std::erase(tables_, &table);
  states_.erase(&table);
}

void TableStates::forget(const pipeline::TableSchema& table) {
  remove(table);
  for (const auto field : kStateFields) store_.erase(key(table, field));
  if (on_forget_) on_forget_(table);
}

const TableState& TableStates::at(const pipeline::TableSchema& table) const {
  auto it = states_.find(&table);
  if (it == states_.end()) {
    throw Error(ErrorKind::Internal, fmt::format("no table state for {}", table.qualified_source()));
  }
  return it->second;
}

TableState& TableStates::mutable_at(const pipeline::TableSchema& table) {
  return const_cast<TableState&>(at(table));
}

void TableStates::record(std::map<std::string, std::string>& updates, const pipeline::TableSchema& table,
                         const TableState& s) {
  updates[key(table, "phase")] = std::string(to_string(s.phase));
  updates[key(table, "reason")] = s.reason;
  updates[key(table, "fix")] = s.fix;
  updates[key(table, "source_digest")] = s.source_digest;
  updates[key(table, "source_columns")] = s.source_columns;
  updates[key(table, "target_digest")] = s.target_digest;
  updates[key(table, "copy_point")] = s.copy_point == kInvalidLsn ? "" : format_lsn(s.copy_point);
  updates[key(table, "evolved_at")] = s.evolved_at == kInvalidLsn ? "" : format_lsn(s.evolved_at);
  updates[key(table, "skipped_from")] = format_partition_offsets(s.skipped_from);
  updates[key(table, "replay_until")] = format_partition_offsets(s.replay_until);
  updates[key(table, "dropped_columns")] = encode_names(s.dropped_columns);
  updates[key(table, "renamed_columns")] = encode_pairs(s.renamed_columns);
  updates[key(table, "missing_values")] = encode_pairs(hexed(s.missing_values, hex));
  updates[key(table, "ignored")] = encode_ignored(s.ignored);
}

void TableStates::replace(const pipeline::TableSchema& table, TableState s) {
  const TablePhase before = at(table).phase;
  std::map<std::string, std::string> updates;
  record(updates, table, s);
  store_.put(updates);
  mutable_at(table) = std::move(s);
  if (on_change_ && before != at(table).phase) on_change_(table, at(table).phase);
}

void TableStates::set(std::span<const pipeline::TableSchema* const> tables, TablePhase phase, Lsn copy_point) {
  std::map<std::string, std::string> updates;
  std::vector<TableState> next;
  for (const auto* t : tables) {
    TableState s;  // a new phase starts afresh: no reason, no offsets, no in-place history
    s.phase = phase;
    s.source_digest = source_digest(*t);
    s.source_columns = encode_source_columns(*t);
    s.target_digest = target_digest(*t);
    s.copy_point = copy_point;
    next.push_back(std::move(s));
    record(updates, *t, next.back());
  }
  store_.put(updates);
  for (std::size_t i = 0; i < tables.size(); ++i) {
    mutable_at(*tables[i]) = std::move(next[i]);
    if (on_change_) on_change_(*tables[i], phase);
  }
}

void TableStates::set(const pipeline::TableSchema& table, TablePhase phase, Lsn copy_point) {
  const pipeline::TableSchema* one[] = {&table};
  set(std::span<const pipeline::TableSchema* const>(one), phase, copy_point);
}

void TableStates::stop(const pipeline::TableSchema& table, std::string reason, std::string fix,
                       const PartitionOffsets& skipped_from) {
  const TableState& before = at(table);
  TableState s;
  s.phase = TablePhase::Stopped;
  s.reason = std::move(reason);
  s.fix = std::move(fix);
  s.source_digest = source_digest(table);
  s.source_columns = encode_source_columns(table);
  s.target_digest = target_digest(table);
  if (before.phase == TablePhase::CatchingUp) {
    s.skipped_from = before.skipped_from;
    s.replay_until = before.replay_until;
  }
  for (const auto& [tp, offset] : skipped_from) {
    const auto [it, added] = s.skipped_from.emplace(tp, offset);
    if (!added) it->second = std::min(it->second, offset);
  }
  std::map<std::string, std::string> updates;
  record(updates, table, s);
  store_.put(updates);
  mutable_at(table) = std::move(s);
  if (on_change_) on_change_(table, TablePhase::Stopped);
}

bool TableStates::skipped(const pipeline::TableSchema& table, const std::pair<std::string, int>& tp,
                          std::int64_t offset) {
  if (at(table).skipped_from.contains(tp)) return false;
  TableState s = at(table);
  s.skipped_from[tp] = offset;
  replace(table, std::move(s));
  return true;
}

void TableStates::resume(const pipeline::TableSchema& table, const PartitionOffsets& replay_until) {
  TableState s = at(table);
  s.phase = TablePhase::CatchingUp;
  s.reason.clear();
  s.fix.clear();
  s.source_digest = source_digest(table);
  s.source_columns = encode_source_columns(table);
  s.target_digest = target_digest(table);
  for (const auto& [tp, offset] : replay_until) {
    const auto [it, added] = s.replay_until.emplace(tp, offset);
    if (!added) it->second = std::max(it->second, offset);
  }
  replace(table, std::move(s));
}

void TableStates::evolved(const pipeline::TableSchema& table, Lsn position, const std::vector<std::string>& dropped,
                          const std::vector<std::pair<std::string, std::string>>& renamed,
                          const std::vector<std::pair<std::string, std::string>>& missing,
                          const std::vector<IgnoredChange>& ignored, const pipeline::TableSchema* shape) {
  TableState s = at(table);
  s.source_digest = source_digest(shape ? *shape : table);
  s.source_columns = encode_source_columns(shape ? *shape : table);
  s.target_digest = target_digest(shape ? *shape : table);
  s.evolved_at = position;
  for (const auto& name : dropped) {
    if (std::find(s.dropped_columns.begin(), s.dropped_columns.end(), name) == s.dropped_columns.end()) {
      s.dropped_columns.push_back(name);
    }
  }
  s.renamed_columns.insert(s.renamed_columns.end(), renamed.begin(), renamed.end());
  s.missing_values.insert(s.missing_values.end(), missing.begin(), missing.end());
  for (const auto& i : ignored) {
    if (std::find(s.ignored.begin(), s.ignored.end(), i) == s.ignored.end()) s.ignored.push_back(i);
  }
  replace(table, std::move(s));
}

void TableStates::caught_up(std::span<const pipeline::TableSchema* const> tables) {
  std::map<std::string, std::string> updates;
  std::vector<TableState> next;
  for (const auto* t : tables) {
    TableState s = at(*t);
    s.phase = TablePhase::Streaming;
    s.copy_point = kInvalidLsn;
    s.skipped_from.clear();
    s.replay_until.clear();
    s.source_digest = source_digest(*t);
    s.source_columns = encode_source_columns(*t);
    s.target_digest = target_digest(*t);
    next.push_back(std::move(s));
    record(updates, *t, next.back());
  }
  store_.put(updates);
  for (std::size_t i = 0; i < tables.size(); ++i) {
    mutable_at(*tables[i]) = std::move(next[i]);
    if (on_change_) on_change_(*tables[i], TablePhase::Streaming);
  }
}

bool TableStates::changed_since_recorded(const pipeline::TableSchema& table) const {
  const TableState& s = at(table);
  return s.source_digest != source_digest(table) || s.target_digest != target_digest(table);
}

bool TableStates::target_made_for_other_columns(const pipeline::TableSchema& table) const {
  const auto& recorded = at(table).target_digest;
  return !recorded.empty() && recorded != target_digest(table);
}

std::vector<const pipeline::TableSchema*> TableStates::in_phase(TablePhase phase) const {
  std::vector<const pipeline::TableSchema*> out;
  for (const auto* t : tables_) {
    if (at(*t).phase == phase) out.push_back(t);
  }
  return out;
}

bool stops_only_its_table(const Error& error) {
  return error.kind() == ErrorKind::Data || error.kind() == ErrorKind::Schema;
}

StopReason refused_value(const Error& error, const std::string& key, std::string_view how_back) {
  std::string fix = error.hint().empty() ? std::string("correct the value in PostgreSQL") : error.hint();
  fix += "; then ";
  fix += how_back;
  return {fmt::format("{} (key {})", error.what(), key), std::move(fix)};
}

namespace {
constexpr std::string_view kRefusedInsert = "ClickHouse refused its rows: ";
}

StopReason refused_insert(const pipeline::TableSchema& table, const Error& error, std::string_view how_back) {
  return {fmt::format("{}{}", kRefusedInsert, error.what()),
          fmt::format("make the ClickHouse target of {} match again (the error names what it refused; or drop the "
                      "target: pg2ch creates it anew), then {}",
                      table.qualified_source(), how_back)};
}

bool stopped_by_refused_insert(const TableState& state) {
  return state.phase == TablePhase::Stopped && state.reason.starts_with(kRefusedInsert);
}

TableStates& observe_states(TableStates& states, pipeline::PipelineObserver* observer) {
  if (!observer) return states;
  states.on_change([observer](const pipeline::TableSchema& t, TablePhase phase) {
    observer->table_state(t, to_string(phase));
  });
  states.on_forget([observer](const pipeline::TableSchema& t) { observer->table_forgotten(t); });
  for (const auto* t : states.tables()) observer->table_state(*t, to_string(states.phase(*t)));
  return states;
}

void forget_states(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables) {
  for (const auto* t : tables) {
    for (const auto field : kStateFields) store.erase(table_state_key(*t, field));
  }
}

void report_states(const TableStates& states, StatusReport& report) {
  for (const auto* t : states.tables()) {
    const TableState& s = states.at(*t);
    for (auto& row : report.tables) {
      if (row.table != t->qualified_source()) continue;
      if (row.state == "ok") row.state = std::string(to_string(s.phase));
      if (s.phase != TablePhase::Stopped) continue;
      row.last_error = s.reason;
      report.attention.push_back(fmt::format("{} stopped: {} (fix: {})", row.table, s.reason, s.fix));
    }
  }
}

}  // namespace pg2ch::capture::table_sync

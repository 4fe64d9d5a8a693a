#include "capture/table_sync/table_states.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "pg/quote_ident.h"

namespace pg2ch::capture::table_sync {

namespace {

class Fnv1a {
 public:
  Fnv1a& add(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
    h_ ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    h_ *= 0x100000001b3ULL;
    return *this;
  }
  Fnv1a& add(std::int64_t n) { return add(std::string_view(std::to_string(n))); }
  std::string hex() const { return fmt::format("{:016x}", h_); }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

// Names as "<bytes>:<name>" one after another: any byte may be in a column name.
std::string encode_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += fmt::format("{}:{}", n.size(), n);
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
  return h.hex();
}

std::string table_state_key(const pipeline::TableSchema& table, std::string_view field) {
  return fmt::format("table {}.{} {}", pg::quote_ident(table.source_schema), pg::quote_ident(table.source_name), field);
}

TableStates::TableStates(state::StateStore& store, std::span<const pipeline::TableSchema* const> tables)
    : store_(store), tables_(tables.begin(), tables.end()) {
  for (const auto* t : tables_) {
    TableState s;
    if (auto phase = store_.get(table_state_key(*t, "phase"))) {
      s.phase = parse_phase(*phase).value_or(TablePhase::Init);
      s.reason = store_.get(table_state_key(*t, "reason")).value_or("");
      s.fix = store_.get(table_state_key(*t, "fix")).value_or("");
      s.source_digest = store_.get(table_state_key(*t, "source_digest")).value_or("");
      s.target_digest = store_.get(table_state_key(*t, "target_digest")).value_or("");
      s.copy_point = parse_lsn(store_.get(table_state_key(*t, "copy_point")).value_or("")).value_or(kInvalidLsn);
      s.evolved_at = parse_lsn(store_.get(table_state_key(*t, "evolved_at")).value_or("")).value_or(kInvalidLsn);
      s.dropped_columns = decode_names(store_.get(table_state_key(*t, "dropped_columns")).value_or(""));
      const auto renamed = decode_names(store_.get(table_state_key(*t, "renamed_columns")).value_or(""));
      for (std::size_t i = 0; i + 1 < renamed.size(); i += 2) s.renamed_columns.emplace_back(renamed[i], renamed[i + 1]);
    }
    states_.emplace(t, std::move(s));
  }
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
  updates[table_state_key(table, "phase")] = std::string(to_string(s.phase));
  updates[table_state_key(table, "reason")] = s.reason;
  updates[table_state_key(table, "fix")] = s.fix;
  updates[table_state_key(table, "source_digest")] = s.source_digest;
  updates[table_state_key(table, "target_digest")] = s.target_digest;
  updates[table_state_key(table, "copy_point")] = s.copy_point == kInvalidLsn ? "" : format_lsn(s.copy_point);
  updates[table_state_key(table, "evolved_at")] = s.evolved_at == kInvalidLsn ? "" : format_lsn(s.evolved_at);
  updates[table_state_key(table, "dropped_columns")] = encode_names(s.dropped_columns);
  std::vector<std::string> renamed;
  for (const auto& [from, to] : s.renamed_columns) renamed.insert(renamed.end(), {from, to});
  updates[table_state_key(table, "renamed_columns")] = encode_names(renamed);
}

void TableStates::set(std::span<const pipeline::TableSchema* const> tables, TablePhase phase, Lsn copy_point) {
  std::map<std::string, std::string> updates;
  std::vector<TableState> next;
  for (const auto* t : tables) {
    next.push_back(TableState{phase, {}, {}, source_digest(*t), target_digest(*t), copy_point, kInvalidLsn, {}, {}});
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

void TableStates::stop(const pipeline::TableSchema& table, std::string reason, std::string fix) {
  TableState s{TablePhase::Stopped, std::move(reason), std::move(fix), source_digest(table), target_digest(table),
               kInvalidLsn, kInvalidLsn, {}, {}};
  std::map<std::string, std::string> updates;
  record(updates, table, s);
  store_.put(updates);
  mutable_at(table) = std::move(s);
  if (on_change_) on_change_(table, TablePhase::Stopped);
}

void TableStates::evolved(const pipeline::TableSchema& table, Lsn position, const std::vector<std::string>& dropped,
                          const std::vector<std::pair<std::string, std::string>>& renamed) {
  TableState s = at(table);
  s.source_digest = source_digest(table);
  s.target_digest = target_digest(table);
  s.evolved_at = position;
  for (const auto& name : dropped) {
    if (std::find(s.dropped_columns.begin(), s.dropped_columns.end(), name) == s.dropped_columns.end()) {
      s.dropped_columns.push_back(name);
    }
  }
  s.renamed_columns.insert(s.renamed_columns.end(), renamed.begin(), renamed.end());
  std::map<std::string, std::string> updates;
  record(updates, table, s);
  store_.put(updates);
  mutable_at(table) = std::move(s);
}

bool TableStates::changed_since_recorded(const pipeline::TableSchema& table) const {
  const TableState& s = at(table);
  return s.source_digest != source_digest(table) || s.target_digest != target_digest(table);
}

std::vector<const pipeline::TableSchema*> TableStates::in_phase(TablePhase phase) const {
  std::vector<const pipeline::TableSchema*> out;
  for (const auto* t : tables_) {
    if (at(*t).phase == phase) out.push_back(t);
  }
  return out;
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

#include "capture/logical/snapshot_progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "common/crash_point.h"
#include "common/error.h"

namespace pg2ch::capture::logical {

namespace {

// One line per table ("t <oid> <fingerprint>") and per range ("r <table oid> <leaf oid> <first>
// <end>"); leaf names are read again at resume (a partition renamed meanwhile keeps its oid).
std::string encode_plan(const std::vector<CopyRange>& ranges, const std::vector<std::pair<std::uint32_t, std::string>>& tables) {
  std::string out;
  for (const auto& [oid, fingerprint] : tables) out += fmt::format("t {} {}\n", oid, fingerprint);
  for (const auto& r : ranges) {
    out += fmt::format("r {} {} {} {}\n", r.table->relation_oid, r.leaf_oid, r.first_block, r.end_block);
  }
  return out;
}

[[noreturn]] void corrupt(const std::string& key, const std::string& what) {
  throw Error(ErrorKind::Config, fmt::format("state key {} is corrupt: {}", key, what),
              fmt::format("erase {} from the state to take the initial copy afresh", key));
}

}  // namespace

SnapshotProgress::SnapshotProgress(state::StateStore& store, std::string prefix)
    : store_(store), prefix_(std::move(prefix)) {}

bool SnapshotProgress::recorded() const { return store_.get(key("plan")).has_value(); }

bool SnapshotProgress::some_done_recorded() const {
  return recorded() && store_.get(key("done")).value_or("").find_first_not_of(" \n") != std::string::npos;
}

std::optional<std::string> SnapshotProgress::describe_recorded() const {
  const auto plan = store_.get(key("plan"));
  if (!plan) return std::nullopt;
  std::size_t ranges = 0, done = 0;
  std::uint64_t rows = 0;
  std::istringstream lines(*plan);
  for (std::string line; std::getline(lines, line);) ranges += line.starts_with("r ");
  std::istringstream entries(store_.get(key("done")).value_or(""));
  for (std::string item; entries >> item; ++done) {
    const auto colon = item.find(':');
    if (colon != std::string::npos) rows += std::stoull(item.substr(colon + 1));
  }
  return fmt::format("{} of {} ranges copied ({} rows); the next start copies the rest", done, ranges, rows);
}

bool SnapshotProgress::resumable(const table_sync::TableStates& states,
                                 std::span<const pipeline::TableSchema* const> tables) const {
  if (!recorded()) return false;
  for (const auto* t : tables) {
    const auto phase = states.phase(*t);
    if (phase == table_sync::TablePhase::Init) continue;
    if (phase != table_sync::TablePhase::Copying || states.changed_since_recorded(*t)) {
      spdlog::info("the copy was cut short, and {} changed since: taking it again from the start", t->qualified_source());
      return false;
    }
  }
  return true;
}

void SnapshotProgress::start(pg::Connection& conn, std::span<const pipeline::TableSchema* const> tables, int workers,
                             std::int64_t max_range_blocks) {
  std::lock_guard lock(mutex_);
  ranges_.clear();
  tables_.clear();
  for (const auto* t : tables) {
    const SourceRelations rels = source_relations(conn, *t);
    for (auto& r : plan_table(*t, rels, workers, max_range_blocks)) ranges_.push_back(std::move(r));
    tables_.push_back({t->relation_oid, rels.fingerprint});
  }
  done_rows_.assign(ranges_.size(), -1);
  record();
}

std::vector<const pipeline::TableSchema*> SnapshotProgress::resume(pg::Connection& conn,
                                                                   std::span<const pipeline::TableSchema* const> tables,
                                                                   int workers, std::int64_t max_range_blocks) {
  std::lock_guard lock(mutex_);
  // The recorded plan, by table oid.
  std::map<std::uint32_t, std::string> fingerprints;
  struct Recorded {
    std::uint32_t leaf_oid;
    std::int64_t first, end, rows;
  };
  std::map<std::uint32_t, std::vector<Recorded>> recorded_ranges;
  std::istringstream plan(store_.get(key("plan")).value_or(""));
  std::vector<std::pair<std::uint32_t, std::size_t>> order;  // (table, index in its list) in plan order
  std::string line;
  while (std::getline(plan, line)) {
    std::istringstream in(line);
    std::string kind;
    std::uint32_t oid = 0;
    in >> kind >> oid;
    if (kind == "t") {
      std::string fp;
      std::getline(in >> std::ws, fp);
      fingerprints[oid] = fp;
    } else if (kind == "r") {
      Recorded r{};
      if (!(in >> r.leaf_oid >> r.first >> r.end)) corrupt(key("plan"), "a range line lacks fields");
      r.rows = -1;
      recorded_ranges[oid].push_back(r);
      order.emplace_back(oid, recorded_ranges[oid].size() - 1);
    } else if (!line.empty()) {
      corrupt(key("plan"), "unknown line kind " + kind);
    }
  }
  std::istringstream done(store_.get(key("done")).value_or(""));
  for (std::string item; done >> item;) {
    const auto colon = item.find(':');
    if (colon == std::string::npos) corrupt(key("done"), "an entry is not index:rows");
    const std::size_t index = std::stoul(item.substr(0, colon));
    if (index >= order.size()) corrupt(key("done"), "an entry names no range");
    recorded_ranges[order[index].first][order[index].second].rows = std::stoll(item.substr(colon + 1));
  }

  ranges_.clear();
  tables_.clear();
  done_rows_.clear();
  std::vector<const pipeline::TableSchema*> again;
  for (const auto* t : tables) {
    const SourceRelations rels = source_relations(conn, *t);
    tables_.emplace_back(t->relation_oid, rels.fingerprint);
    const auto fp = fingerprints.find(t->relation_oid);
    if (fp == fingerprints.end() || fp->second != rels.fingerprint) {
      again.push_back(t);
      for (auto& r : plan_table(*t, rels, workers, max_range_blocks)) {
        ranges_.push_back(std::move(r));
        done_rows_.push_back(-1);
      }
      continue;
    }
    std::map<std::uint32_t, std::string> leaf_names;
    for (const auto& rel : rels.list) leaf_names[rel.oid] = rel.leaf;
    for (const auto& r : recorded_ranges[t->relation_oid]) {
      ranges_.push_back({t, r.first, r.end, r.leaf_oid, r.leaf_oid == 0 ? std::string() : leaf_names[r.leaf_oid]});
      done_rows_.push_back(r.rows);
    }
  }
  record();
  return again;
}

std::vector<std::size_t> SnapshotProgress::pending() const {
  std::lock_guard lock(mutex_);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < done_rows_.size(); ++i) {
    if (done_rows_[i] < 0) out.push_back(i);
  }
  return out;
}

void SnapshotProgress::done(std::size_t index, std::uint64_t rows) {
  std::lock_guard lock(mutex_);
  done_rows_.at(index) = static_cast<std::int64_t>(rows);
  record_done();
  crash_point("copy_range_recorded");  // tests: a copy cut short with a range done
}

std::size_t SnapshotProgress::ranges_done() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(done_rows_.begin(), done_rows_.end(), [](auto r) { return r >= 0; }));
}

std::uint64_t SnapshotProgress::rows_done() const {
  std::lock_guard lock(mutex_);
  std::uint64_t sum = 0;
  for (const auto r : done_rows_) sum += r > 0 ? static_cast<std::uint64_t>(r) : 0;
  return sum;
}

void SnapshotProgress::clear() {
  std::lock_guard lock(mutex_);
  ranges_.clear();
  tables_.clear();
  done_rows_.clear();
  for (const auto* what : {"plan", "done"}) {
    if (store_.get(key(what))) store_.erase(key(what));
  }
}

// The plan and its done list at once: done entries of an older plan never name this one's ranges.
void SnapshotProgress::record() { store_.put({{key("plan"), encode_plan(ranges_, tables_)}, {key("done"), done_text()}}); }

void SnapshotProgress::record_done() { store_.put({{key("done"), done_text()}}); }

std::string SnapshotProgress::done_text() const {
  std::string done;
  for (std::size_t i = 0; i < done_rows_.size(); ++i) {
    if (done_rows_[i] >= 0) done += fmt::format("{}{}:{}", done.empty() ? "" : " ", i, done_rows_[i]);
  }
  return done;
}

}  // namespace pg2ch::capture::logical

#include "service/copy_progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace pg2ch::service {
namespace {

constexpr auto kTerminalEvery = std::chrono::seconds(1);
constexpr auto kLogEvery = std::chrono::seconds(10);
constexpr std::size_t kTablesShown = 3;

std::string percent(std::uint64_t rows, std::int64_t estimate) {
  if (estimate <= 0) return "?%";
  return fmt::format("{}%", std::min<std::uint64_t>(99, rows * 100 / static_cast<std::uint64_t>(estimate)));
}

std::string duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} h {} min", s / 3600, s % 3600 / 60);
}

}  // namespace

std::string format_copy_progress(const std::vector<CopyTableProgress>& tables, double seconds, bool finished) {
  std::uint64_t rows = 0;
  std::int64_t estimate = 0;
  bool all_estimated = true;
  for (const auto& t : tables) {
    rows += t.rows;
    if (t.estimate < 0) all_estimated = false;
    estimate += std::max<std::int64_t>(t.estimate, 0);
  }
  const double rate = seconds > 0 ? rows / seconds : 0;
  std::string line = fmt::format("initial copy{}: {} tables", finished ? " finished" : "", tables.size());
  if (finished) return line + fmt::format(", {} rows in {}, {:.0f} rows/s", rows, duration(seconds), rate);
  if (all_estimated && estimate > 0) {
    line += fmt::format(", {} ({} of ~{} rows), {:.0f} rows/s", percent(rows, estimate), rows, estimate, rate);
    if (rate > 0 && static_cast<double>(estimate) > rows) line += ", ETA " + duration((estimate - rows) / rate);
  } else {
    line += fmt::format(", {} rows, {:.0f} rows/s", rows, rate);
  }
  // The tables being copied now, most rows left first.
  std::vector<const CopyTableProgress*> busy;
  for (const auto& t : tables) {
    if (t.rows > 0 && (t.estimate < 0 || t.rows < static_cast<std::uint64_t>(t.estimate))) busy.push_back(&t);
  }
  std::sort(busy.begin(), busy.end(), [](const auto* a, const auto* b) {
    return a->estimate - static_cast<std::int64_t>(a->rows) > b->estimate - static_cast<std::int64_t>(b->rows);
  });
  for (std::size_t i = 0; i < busy.size() && i < kTablesShown; ++i) {
    line += fmt::format("{}{} {} rows", i == 0 ? "; " : ", ", busy[i]->table, busy[i]->rows);
    if (busy[i]->estimate > 0) line += " (" + percent(busy[i]->rows, busy[i]->estimate) + ")";
  }
  if (busy.size() > kTablesShown) line += fmt::format(" and {} more", busy.size() - kTablesShown);
  return line;
}

CopyProgress::CopyProgress(pipeline::PipelineObserver* inner, bool terminal) : inner_(inner), terminal_(terminal) {}

CopyProgress::~CopyProgress() { stop_reporting(); }

void CopyProgress::changed(const pipeline::TableSchema& table, pipeline::ChangeOp op) {
  if (inner_) inner_->changed(table, op);
}
void CopyProgress::written(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes,
                           std::chrono::duration<double> took) {
  if (inner_) inner_->written(table, rows, bytes, took);
}
void CopyProgress::delivered(std::size_t messages, std::size_t bytes) {
  if (inner_) inner_->delivered(messages, bytes);
}
void CopyProgress::lag(const pipeline::LagSample& sample) {
  if (inner_) inner_->lag(sample);
}

void CopyProgress::target_parts(const pipeline::TableSchema& table, std::int64_t parts) {
  if (inner_) inner_->target_parts(table, parts);
}

void CopyProgress::budget_waiting(std::size_t batches) {
  if (inner_) inner_->budget_waiting(batches);
}

void CopyProgress::table_state(const pipeline::TableSchema& table, std::string_view state) {
  if (inner_) inner_->table_state(table, state);
}

void CopyProgress::table_forgotten(const pipeline::TableSchema& table) {
  if (inner_) inner_->table_forgotten(table);
}

void CopyProgress::copy_started(const std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>>& estimates) {
  if (inner_) inner_->copy_started(estimates);
  stop_reporting();  // a copy taken again after a retry starts its own count
  std::lock_guard lock(mutex_);
  tables_.clear();
  for (const auto& [t, estimate] : estimates) tables_[t] = {t->qualified_source(), estimate, 0};
  started_ = std::chrono::steady_clock::now();
  copying_ = true;
  reporter_ = std::thread([this] { report_loop(); });
}

void CopyProgress::copied(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes) {
  if (inner_) inner_->copied(table, rows, bytes);
  std::lock_guard lock(mutex_);
  auto it = tables_.find(&table);
  if (it != tables_.end()) it->second.rows += rows;
}

void CopyProgress::copy_finished() {
  if (inner_) inner_->copy_finished();
  stop_reporting();
}

void CopyProgress::stop_reporting() {
  {
    std::lock_guard lock(mutex_);
    if (!copying_) return;
    copying_ = false;
  }
  cv_.notify_all();
  if (reporter_.joinable()) reporter_.join();
  print(true);
}

void CopyProgress::report_loop() {
  std::unique_lock lock(mutex_);
  const auto every = terminal_ ? std::chrono::duration_cast<std::chrono::seconds>(kTerminalEvery) : kLogEvery;
  while (copying_) {
    if (cv_.wait_for(lock, every, [this] { return !copying_; })) break;
    lock.unlock();
    print(false);
    lock.lock();
  }
}

void CopyProgress::print(bool final) {
  std::vector<CopyTableProgress> tables;
  double seconds = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [_, t] : tables_) tables.push_back(t);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  if (tables.empty()) return;
  if (terminal_) {
    // Redrawn in place; the log's lines erase it first (common/logging.cpp) and it comes back on
    // the next tick. The last one stays, as a record of the whole copy.
    std::fprintf(stderr, "\r\x1b[2K%s%s", format_copy_progress(tables, seconds, final).c_str(), final ? "\n" : "");
    std::fflush(stderr);
  } else {
    spdlog::info("{}", format_copy_progress(tables, seconds, final));
  }
}

}  // namespace pg2ch::service

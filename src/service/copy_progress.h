#pragma once
// Progress of the initial copy for the person or journal watching: on a terminal a live line
// redrawn every second (overall and busiest tables: rows, rows/s, percent and ETA from
// pg_class.reltuples), otherwise an info line every 10 seconds. It sits in front of the pipeline's
// other observer (the metrics) and passes every event on.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/pipeline_observer.h"

namespace pg2ch::service {

struct CopyTableProgress {
  std::string table;
  std::int64_t estimate = -1;  // rows, from pg_class.reltuples; < 0: unknown
  std::uint64_t rows = 0;
};

// One line: "initial copy: 2 tables, 45% (2300000 of ~5000000 rows), 1200000 rows/s, ETA 2 s; public.a
// 800000 rows (80%), ..."; once `finished`, "initial copy finished: ..." without ETA and tables.
std::string format_copy_progress(const std::vector<CopyTableProgress>& tables, double seconds, bool finished = false);

class CopyProgress final : public pipeline::PipelineObserver {
 public:
  // `inner` (may be null) gets every event; `terminal`: redraw one line in place on stderr.
  CopyProgress(pipeline::PipelineObserver* inner, bool terminal);
  ~CopyProgress() override;

  void changed(const pipeline::TableSchema& table, pipeline::ChangeOp op) override;
  void written(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes,
               std::chrono::duration<double> took) override;
  void delivered(std::size_t messages, std::size_t bytes) override;
  void copy_started(const std::vector<std::pair<const pipeline::TableSchema*, std::int64_t>>& estimates) override;
  void copied(const pipeline::TableSchema& table, std::size_t rows, std::size_t bytes) override;
  void copy_finished() override;
  void lag(const pipeline::LagSample& sample) override;
  void table_state(const pipeline::TableSchema& table, std::string_view state) override;
  void table_forgotten(const pipeline::TableSchema& table) override;
  void budget_waiting(std::size_t batches) override;
  void target_parts(const pipeline::TableSchema& table, std::int64_t parts) override;

 private:
  void report_loop();
  void stop_reporting();
  void print(bool final);

  pipeline::PipelineObserver* inner_;
  const bool terminal_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool copying_ = false;
  std::chrono::steady_clock::time_point started_;
  std::map<const pipeline::TableSchema*, CopyTableProgress> tables_;
  std::thread reporter_;
};

}  // namespace pg2ch::service

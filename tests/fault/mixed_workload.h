#pragma once
// The mixed workload every fault route runs under: three tables, written by two writer threads and
// one "holder" whose transactions stay open for up to 1.5 s (so commits land out of order), with
// inserts, updates, deletes, key changes, multi-row and multi-table transactions, an occasional
// 2,000-row transaction and TOAST-sized values (incompressible ~5 KB texts, stored out of line),
// some updated again without touching them (unchanged TOAST in the WAL).
//
// Writers survive PostgreSQL restarts: a failed statement (server away) is counted, the session
// opened again, and the writer goes on. Each thread owns the keys = its index (mod threads), so no
// two threads wait on one row, and key changes never collide. A transaction cut by a restart may
// or may not have committed: only the source's final state counts, which the fault tests compare.
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/test_database.h"

namespace pg2ch::test::fault {

struct WorkloadOptions {
  unsigned seed = 1;
  // poll and notify see neither deletes nor key changes (README, "Capture modes"): their
  // workload updates instead.
  bool deletes_and_key_changes = true;
};

class MixedWorkload {
 public:
  static constexpr int kThreads = 3;  // two writers and the holder
  // fault_a, fault_b, fault_c: (id bigint PRIMARY KEY, n int, body text, updated_at timestamptz)
  // with a trigger keeping updated_at current (the poll/notify watermark), `seed_rows` each.
  static void create_tables(TestDatabase& db, int seed_rows);
  static std::vector<std::string> tables() { return {"public.fault_a", "public.fault_b", "public.fault_c"}; }

  MixedWorkload(TestDatabase& db, WorkloadOptions options, int seed_rows);
  MixedWorkload(const MixedWorkload&) = delete;
  MixedWorkload& operator=(const MixedWorkload&) = delete;
  ~MixedWorkload() { stop(); }

  void stop();
  long transactions() const { return transactions_; }
  long failed_statements() const { return failures_; }

 private:
  void run(int index, unsigned seed);

  TestDatabase& db_;
  WorkloadOptions options_;
  int seed_rows_;
  std::atomic<bool> stop_{false};
  std::atomic<long> transactions_{0};
  std::atomic<long> failures_{0};
  std::vector<std::thread> threads_;
};

}  // namespace pg2ch::test::fault

#pragma once
// For the poll, notify and outbox tests of partitions changed between two looks
// (capture/shared/attached_partitions.h), and the DETACH ... CONCURRENTLY tests of every mode.
#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include "config/config.h"
#include "state/file_state_store.h"
#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {

// Waits until the pipeline's state records `partition` among public.`table`'s partitions: a
// change made before that look would be its starting point rather than a change. `kind`: the state
// key's last word ("leaves" for the logical capture's partition_watch.h).
inline bool wait_partition_recorded(const config::Config& cfg, const std::string& table, const std::string& partition,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                    const std::string& kind = "partitions") {
  const std::string key = "table \"public\".\"" + table + "\" " + kind;
  return wait_until(
      [&] {
        const auto text = state::FileStateStore(cfg.state.path).get(key);
        return text && text->find(":" + partition) != std::string::npos;
      },
      timeout);
}

// Deletes, updates and inserts rows of sales_moon (sales(id, region, v, ...)), other ones each
// `round`: `more_set` goes on the UPDATE's SET list after v, `more_values` on the inserted rows'
// values after v. The inserted rows have v 'late<round>', 100 of them.
inline std::string change_moon(int round, const std::string& more_set, const std::string& more_values) {
  const std::string n = std::to_string(round);
  return "DELETE FROM sales_moon WHERE id % 5 = " + n + "; UPDATE sales_moon SET v = 'fixed" + n + "'" + more_set +
         " WHERE id % 7 = " + n + "; INSERT INTO sales_moon SELECT g, 'moon', 'late" + n + "', " + more_values +
         " FROM generate_series(" + std::to_string(1000 * round + 2000) + ", " + std::to_string(1000 * round + 2099) +
         ") g";
}

// Detaches sales_moon from sales, runs `changes` on it (no trigger of sales fires: PostgreSQL 15
// drops the cloned ones at DETACH) and attaches it again: in one transaction (no look of a running
// pipeline falls in between) or statement by statement.
inline void detach_change_attach_moon(TestDatabase& db, const std::string& changes, bool one_transaction) {
  const std::string detach = "ALTER TABLE sales DETACH PARTITION sales_moon";
  const std::string attach = "ALTER TABLE sales ATTACH PARTITION sales_moon FOR VALUES IN ('moon')";
  if (one_transaction) {
    db.pg_exec("BEGIN; " + detach + "; " + changes + "; " + attach + "; COMMIT");
    return;
  }
  db.pg_exec(detach);
  db.pg_exec(changes);
  db.pg_exec(attach);
}

// `BEGIN; CREATE TABLE <table>_<region> (LIKE <table>); INSERT ...; ALTER TABLE <table> ATTACH
// PARTITION ... FOR VALUES IN ('<region>'); COMMIT`: the row type and the pg_inherits row share the
// xmin, as with CREATE TABLE ... PARTITION OF, but no trigger or publication of `table` saw the
// rows (capture/shared/filled_before_attach.h). They are (g, region, 'filled' || g, more_values)
// for g in 1..rows.
inline std::string create_fill_attach(const std::string& table, const std::string& region, int rows,
                                      const std::string& more_values) {
  const std::string name = table + "_" + region;
  return "BEGIN; CREATE TABLE " + name + " (LIKE " + table + "); INSERT INTO " + name + " SELECT g, '" + region +
         "', 'filled' || g, " + more_values + " FROM generate_series(1, " + std::to_string(rows) +
         ") g; ALTER TABLE " + table + " ATTACH PARTITION " + name + " FOR VALUES IN ('" + region + "'); COMMIT";
}

// `ALTER TABLE table DETACH PARTITION partition CONCURRENTLY` while a REPEATABLE READ transaction
// begun before it writes to the partition through the table: `before` runs in that transaction
// first (locking the table), the detach's first phase commits, its second waits for the
// transaction, which finish() ends after running `during` in it.
class ConcurrentDetach {
 public:
  ConcurrentDetach(TestDatabase& db, const std::string& table, const std::string& partition, const std::string& before)
      : db_(db), late_(db.pg_connect()) {
    late_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    late_.exec(before);
    detach_ = std::jthread([this, sql = "ALTER TABLE " + table + " DETACH PARTITION " + partition + " CONCURRENTLY"] {
      try {
        db_.pg_connect().exec(sql);
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    });
  }

  bool first_phase_committed(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return wait_until(
        [&] { return db_.pg_rows("SELECT count(*) FROM pg_inherits WHERE inhdetachpending")[0][0] == "1"; }, timeout);
  }

  // Cancels the detach while its second phase waits (as an operator's Ctrl-C or a statement
  // timeout would): the partition stays detach-pending until `... DETACH PARTITION ... FINALIZE`.
  // Returns the detach's error.
  std::string interrupt() {
    wait_until([&] {
      return db_.pg_rows("SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE "
                         "'ALTER TABLE % DETACH PARTITION % CONCURRENTLY' AND pid <> pg_backend_pid()")[0][0] == "1";
    }, std::chrono::seconds(30));
    detach_.join();
    return error_;
  }

  // Runs `during` in the transaction, commits it and waits for the detach; returns its error, "" if none.
  std::string finish(const std::string& during) {
    late_.exec(during);
    late_.exec("COMMIT");
    if (detach_.joinable()) detach_.join();
    return error_;
  }

 private:
  TestDatabase& db_;
  std::string error_;
  std::jthread detach_;  // destroyed (joined) after late_, whose end the detach waits for
  pg::Connection late_;
};

}  // namespace pg2ch::test

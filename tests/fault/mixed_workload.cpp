#include "fault/mixed_workload.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

namespace pg2ch::test::fault {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kTables = {"fault_a", "fault_b", "fault_c"};

// ~5 KB of hex digits: pglz finds nothing to compress, so the value is stored out of line.
constexpr const char* kToastValue = "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 160))";

// One thread's view of its keys per table. It may go stale when a transaction cut by a restart
// committed after all: a stale key only makes a later statement match nothing.
struct Keys {
  std::vector<std::vector<long>> ids = std::vector<std::vector<long>>(kTables.size());
  long next = 0;
  int step = 1;
  long fresh() {
    const long id = next;
    next += step;
    return id;
  }
};

class Transaction {
 public:
  Transaction(std::mt19937& rng, Keys& keys, bool deletes_and_key_changes)
      : rng_(rng), keys_(keys), full_(deletes_and_key_changes) {}

  // Appends one random change (or a group of them) to the transaction.
  void add() {
    const std::size_t t = rng_() % kTables.size();
    auto& ids = keys_.ids[t];
    const std::string& table = kTables[t];
    const int roll = ids.size() < 20 ? 400 : static_cast<int>(rng_() % 1000);
    if (roll < 300) {
      // n only: an unchanged TOAST body is not in the WAL record.
      sql_.push_back(fmt::format("UPDATE {} SET n = n + 1 WHERE id = {}", table, pick(ids)));
    } else if (roll < 450) {
      const long id = keys_.fresh();
      sql_.push_back(fmt::format("INSERT INTO {} (id, n, body) VALUES ({}, {}, 'v{}')", table, id, rng_() % 1000, id));
      ids.push_back(id);
    } else if (roll < 530) {
      const long id = keys_.fresh();
      sql_.push_back(fmt::format("INSERT INTO {} (id, n, body) VALUES ({}, 0, {})", table, id, kToastValue));
      ids.push_back(id);
    } else if (roll < 580) {
      sql_.push_back(fmt::format("UPDATE {} SET body = {} WHERE id = {}", table, kToastValue, pick(ids)));
    } else if (roll < 700 && full_) {
      const std::size_t i = rng_() % ids.size();
      sql_.push_back(fmt::format("DELETE FROM {} WHERE id = {}", table, ids[i]));
      ids[i] = ids.back();
      ids.pop_back();
    } else if (roll < 800 && full_) {
      const std::size_t i = rng_() % ids.size();
      const long id = keys_.fresh();
      sql_.push_back(fmt::format("UPDATE {} SET id = {}, n = n + 1 WHERE id = {}", table, id, ids[i]));
      ids[i] = id;
    } else if (roll < 920) {
      multi_row(t);
    } else if (roll < 923) {
      large(t);
    } else {
      sql_.push_back(fmt::format("UPDATE {} SET n = n + 1, body = body || '+' WHERE id IN ({}, {}, {})", table,
                                 pick(ids), pick(ids), pick(ids)));
    }
  }
  const std::vector<std::string>& statements() const { return sql_; }

 private:
  long pick(const std::vector<long>& ids) { return ids[rng_() % ids.size()]; }

  // 20 rows in one statement, and changes of two other tables in the same transaction.
  void multi_row(std::size_t t) {
    const long first = keys_.next;
    for (int i = 0; i < 20; ++i) keys_.ids[t].push_back(keys_.fresh());
    sql_.push_back(fmt::format("INSERT INTO {} (id, n, body) SELECT {} + g * {}, g, 'm' || g FROM generate_series(0, 19) g",
                               kTables[t], first, keys_.step));
    auto& other = keys_.ids[(t + 1) % kTables.size()];
    sql_.push_back(fmt::format("UPDATE {} SET n = n - 1 WHERE id IN ({}, {})", kTables[(t + 1) % kTables.size()],
                               pick(other), pick(other)));
    auto& third = keys_.ids[(t + 2) % kTables.size()];
    if (full_ && third.size() > 50) {
      sql_.push_back(fmt::format("DELETE FROM {} WHERE id = {}", kTables[(t + 2) % kTables.size()], third.back()));
      third.pop_back();
    }
  }

  // 2,000 rows inserted and half of them updated again: larger than a batch, flushed mid-transaction.
  void large(std::size_t t) {
    const long first = keys_.next;
    for (int i = 0; i < 2000; ++i) keys_.ids[t].push_back(keys_.fresh());
    sql_.push_back(fmt::format("INSERT INTO {} (id, n, body) SELECT {} + g * {}, g, 'large' FROM generate_series(0, 1999) g",
                               kTables[t], first, keys_.step));
    sql_.push_back(fmt::format("UPDATE {} SET n = -n WHERE id IN (SELECT {} + g * {} FROM generate_series(0, 1999, 2) g)",
                               kTables[t], first, keys_.step));
  }

  std::mt19937& rng_;
  Keys& keys_;
  bool full_;
  std::vector<std::string> sql_;
};

}  // namespace

void MixedWorkload::create_tables(TestDatabase& db, int seed_rows) {
  db.pg_exec("CREATE OR REPLACE FUNCTION fault_touch() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$");
  for (const auto& t : kTables) {
    db.pg_exec("CREATE TABLE " + t +
               " (id bigint PRIMARY KEY, n int NOT NULL, body text, updated_at timestamptz NOT NULL DEFAULT now())");
    db.pg_exec("CREATE TRIGGER " + t + "_touch BEFORE UPDATE ON " + t + " FOR EACH ROW EXECUTE FUNCTION fault_touch()");
    db.pg_exec("CREATE INDEX ON " + t + " (updated_at, id)");
    // Every 50th seed row carries a TOAST-sized value.
    db.pg_exec(fmt::format("INSERT INTO {} (id, n, body) SELECT g, g % 97, CASE WHEN g % 50 = 0 THEN {} ELSE 's' || g "
                           "END FROM generate_series(1, {}) g",
                           t, kToastValue, seed_rows));
  }
}

MixedWorkload::MixedWorkload(TestDatabase& db, WorkloadOptions options, int seed_rows)
    : db_(db), options_(options), seed_rows_(seed_rows) {
  for (int i = 0; i < kThreads; ++i) threads_.emplace_back([this, i] { run(i, options_.seed * 31 + i); });
}

void MixedWorkload::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void MixedWorkload::run(int index, unsigned seed) {
  std::mt19937 rng(seed);
  const bool holder = index == kThreads - 1;
  Keys keys;
  keys.step = kThreads;
  keys.next = 1'000'000 + index;
  for (auto& ids : keys.ids)
    for (long id = 1; id <= seed_rows_; ++id)
      if (id % kThreads == index) ids.push_back(id);
  std::optional<pg::Connection> conn;
  while (!stop_) {
    Transaction tx(rng, keys, options_.deletes_and_key_changes);
    const int changes = holder ? 2 + static_cast<int>(rng() % 3) : 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < changes; ++i) tx.add();
    try {
      if (!conn) {
        conn.emplace(db_.pg_connect());
        // The test server commits asynchronously: an immediate shutdown would lose transactions
        // the SQL-reading modes (poll, notify, outbox) already saw and wrote to ClickHouse, and the
        // source would end behind its copy (an outbox run ended so: rows one update ahead in
        // ClickHouse). A source that commits durably, as production ones do, has no such window.
        conn->exec("SET synchronous_commit = on");
      }
      conn->exec("BEGIN");
      for (const auto& sql : tx.statements()) conn->exec(sql);
      // Open while the writers commit around it: its commit lands after theirs.
      if (holder) conn->exec(fmt::format("SELECT pg_sleep({})", 0.3 + (rng() % 1200) / 1000.0));
      conn->exec("COMMIT");
      ++transactions_;
    } catch (const std::exception&) {
      // PostgreSQL restarting under the test: open a new session once it is back.
      ++failures_;
      conn.reset();
      std::this_thread::sleep_for(200ms);
    }
    if (!holder) std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 20));
  }
}

}  // namespace pg2ch::test::fault

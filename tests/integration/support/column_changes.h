#pragma once
// Shared by the tests of tables whose columns change, or whose target refuses rows, under a
// running pipeline: the kinds of column change, a table `t` to apply them to, its live columns,
// and a writer that keeps another table (and optionally `t`) changing meanwhile.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/background_writer.h"
#include "support/pg2ch_cli.h"
#include "support/pipeline_runner.h"
#include "support/table_compare.h"
#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {

struct ColumnChange {
  const char* name;
  const char* ddl;     // on table t (create_changing_table)
  const char* insert;  // a row of the new shape
};

inline constexpr ColumnChange kColumnChanges[] = {
    {"AddColumn", "ALTER TABLE t ADD COLUMN extra int", "INSERT INTO t (n, extra) VALUES (1, 5)"},
    {"AddColumnWithDefault", "ALTER TABLE t ADD COLUMN extra int DEFAULT 7", "INSERT INTO t (n) VALUES (1)"},
    {"DropColumn", "ALTER TABLE t DROP COLUMN w", "INSERT INTO t (n, v) VALUES (1, 'x')"},
    {"RenameColumn", "ALTER TABLE t RENAME COLUMN v TO v2", "INSERT INTO t (n, v2) VALUES (1, 'x')"},
    {"WidenIntToBigint", "ALTER TABLE t ALTER COLUMN w TYPE bigint", "INSERT INTO t (n, w) VALUES (1, 5000000000)"},
    {"DropNotNull", "ALTER TABLE t ALTER COLUMN n DROP NOT NULL", "INSERT INTO t (n) VALUES (NULL)"},
    // Two kinds in one transaction: a capture that reads the catalog sees them at once.
    {"AddAndDropColumns", "ALTER TABLE t ADD COLUMN extra int DEFAULT 7; ALTER TABLE t DROP COLUMN w",
     "INSERT INTO t (n, v, extra) VALUES (1, 'x', 8)"},
};
inline constexpr int kColumnChangeCount = static_cast<int>(std::size(kColumnChanges));

// Whether the test's ClickHouse can rename a column (RENAME COLUMN: 20.4 and later).
inline bool clickhouse_can_rename(TestDatabase& db) {
  const auto v = db.ch_rows("SELECT version()");
  int major = 0, minor = 0;
  std::sscanf(v.at(0).at(0).c_str(), "%d.%d", &major, &minor);
  return major > 20 || (major == 20 && minor >= 4);
}

// For value-parameterized test names: "<prefix>_<change>".
inline std::string column_change_test_name(const std::string& prefix, int change) {
  return prefix + "_" + kColumnChanges[change].name;
}

// t (id serial PRIMARY KEY, n int NOT NULL DEFAULT 0, w int, v text), with a watermark
// `updated_at` that follows every write when asked, and 50 rows.
inline void create_changing_table(TestDatabase& db, bool with_updated_at) {
  db.pg_exec(std::string("CREATE TABLE t (id serial PRIMARY KEY, n int NOT NULL DEFAULT 0, w int, v text") +
             (with_updated_at ? ", updated_at timestamptz NOT NULL DEFAULT clock_timestamp())" : ")"));
  if (with_updated_at) {
    db.pg_exec("CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");
  }
  db.pg_exec("INSERT INTO t (n, w, v) SELECT g, g, 'r' || g FROM generate_series(1, 50) g");
}

// For the Kafka route's tests: t (id serial PRIMARY KEY, n smallint NOT NULL DEFAULT 0, r real,
// s varchar(10), p numeric(8,2), w int NOT NULL DEFAULT 1, old text), with a column for each
// kind of change, and 60 rows (the writer changes ids 1..50); other (id serial PRIMARY KEY, v
// text) with 50.
inline void create_route_tables(TestDatabase& db) {
  db.pg_exec("CREATE TABLE t (id serial PRIMARY KEY, n smallint NOT NULL DEFAULT 0, r real, s varchar(10), "
             "p numeric(8,2), w int NOT NULL DEFAULT 1, old text)");
  db.pg_exec("CREATE TABLE other (id serial PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t (n, r, s, p, w, old) SELECT g, g + 0.5, 's' || g, g + 0.25, g, 'o' || g "
             "FROM generate_series(1, 60) g");
  db.pg_exec("INSERT INTO other (v) SELECT 'o' || g FROM generate_series(1, 50) g");
}

// `table`'s live columns in order, but `except` (e.g. a watermark whose ClickHouse form differs).
inline std::string live_columns(TestDatabase& db, const std::string& table, const std::string& except = {}) {
  std::string out;
  for (const auto& r : db.pg_rows("SELECT attname FROM pg_attribute WHERE attrelid = '" + table +
                                  "'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
    if (r[0] != except) out += (out.empty() ? "" : ", ") + r[0];
  }
  return out;
}

// Waits until `table`'s ClickHouse target can be read with `columns` (a start alters it a moment
// after it begins: until then a comparison fails with an unknown column).
inline ::testing::AssertionResult wait_target_has(TestDatabase& db, const std::string& table,
                                                  const std::string& columns) {
  using namespace std::chrono_literals;
  std::string last;
  const bool has = wait_until(
      [&] {
        try {
          db.ch_rows("SELECT " + columns + " FROM " + table + " LIMIT 1");
          return true;
        } catch (const Error& e) {
          last = e.what();
          return false;
        }
      },
      60s);
  if (has) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the target " << table << " never had " << columns << ": " << last;
}

// What a table stopped by `change` says: the change, or for a dropped NOT NULL the first NULL its
// target refused, which may come before the catalog is looked at.
inline ::testing::AssertionResult names_the_change(int change, const std::string& reason) {
  const bool named = reason.find("changed at the source") != std::string::npos ||
                     (std::string(kColumnChanges[change].name) == "DropNotNull" &&
                      reason.find("NULL in column n") != std::string::npos);
  if (named) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the reason does not name the change: " << reason;
}

// Every 5 ms: a row inserted into `other` (id serial, v text) and one of its first 50 updated;
// with `also_t`, the same for t by statements valid before and after every change above.
inline std::unique_ptr<BackgroundWriter> writer_of(TestDatabase& db, const std::string& other, bool also_t = false) {
  return std::make_unique<BackgroundWriter>(
      db,
      [other, also_t](pg::Connection& conn, int i) {
        conn.exec("INSERT INTO " + other + " (v) VALUES ('w" + std::to_string(i) + "')");
        conn.exec("UPDATE " + other + " SET v = v || '+' WHERE id = " + std::to_string(1 + i % 50));
        if (!also_t) return;
        conn.exec("INSERT INTO t DEFAULT VALUES");
        conn.exec("UPDATE t SET n = n + 1 WHERE id = " + std::to_string(1 + i % 50));
      },
      std::chrono::milliseconds(5));
}

// Under a writer of t and `other` (id, v), applies `change` to t; succeeds once t is stopped with
// a reason naming the change while `other` streamed on, ends equal and is streaming.
inline ::testing::AssertionResult change_until_stopped(TestDatabase& db, const std::filesystem::path& config,
                                                       const PipelineRunner& runner, int change,
                                                       const std::string& other) {
  using namespace std::chrono_literals;
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config, "status", /*attention_ok=*/true), table);
  };
  auto writer = writer_of(db, other, /*also_t=*/true);
  std::this_thread::sleep_for(300ms);
  db.pg_exec(kColumnChanges[change].ddl);
  db.pg_exec(kColumnChanges[change].insert);
  const bool stopped = wait_until([&] { return state_of("public.t").state == "stopped"; }, 60s);
  std::this_thread::sleep_for(500ms);
  writer->finish();
  if (!stopped) return ::testing::AssertionFailure() << "t did not stop: " << runner.describe();
  if (auto named = names_the_change(change, state_of("public.t").last_error); !named) return named;
  if (auto equal = wait_equal(db, same_columns(other, "id, v", "id")); !equal) {
    return equal << " (the other table must stream on)";
  }
  if (state_of("public." + other).state != "streaming") return ::testing::AssertionFailure() << other << " stopped";
  if (runner.failed()) return ::testing::AssertionFailure() << runner.describe();
  return ::testing::AssertionSuccess();
}

// Under a writer of b (id, v), drops a's target column v in ClickHouse by hand and inserts a row
// into a; succeeds once a is stopped because ClickHouse refused its rows, while b streamed on,
// ends equal and is streaming. Rows of a changed after the stop: id 3 updated, id 4 deleted.
inline ::testing::AssertionResult refuse_rows_until_stopped(TestDatabase& db, const std::filesystem::path& config,
                                                            const PipelineRunner& runner) {
  using namespace std::chrono_literals;
  auto state_of = [&](const std::string& table) {
    return status_table_row(pg2ch_status_json(db, config, "status", /*attention_ok=*/true), table);
  };
  {
    auto writer = writer_of(db, "b");
    db.ch_exec("ALTER TABLE a DROP COLUMN v");  // by hand, under the running pipeline
    db.pg_exec("INSERT INTO a (v) VALUES ('refused')");
    if (!wait_until([&] { return state_of("public.a").state == "stopped"; }, 60s)) {
      return ::testing::AssertionFailure() << "a did not stop: " << runner.describe();
    }
    db.pg_exec("UPDATE a SET v = 'after the stop' WHERE id = 3");
    db.pg_exec("DELETE FROM a WHERE id = 4");
    std::this_thread::sleep_for(500ms);
  }
  if (auto equal = wait_equal(db, same_columns("b", "id, v", "id")); !equal) {
    return equal << " (the other table must stream on)";
  }
  if (runner.failed()) return ::testing::AssertionFailure() << runner.describe();
  const auto stopped = state_of("public.a");
  if (stopped.last_error.find("ClickHouse refused its rows") == std::string::npos) {
    return ::testing::AssertionFailure() << "a stopped for another reason: " << stopped.last_error;
  }
  if (state_of("public.b").state != "streaming") return ::testing::AssertionFailure() << "b stopped";
  return ::testing::AssertionSuccess();
}

}  // namespace pg2ch::test

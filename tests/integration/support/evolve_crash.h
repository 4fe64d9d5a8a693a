#pragma once
// Shared by the tests of a crash in the middle of following a change of a table's columns in
// place (logical: capture/logical/schema_evolution.h; poll, notify: capture/poll/poll_engine.h):
// the kinds of change on a table t (id int PRIMARY KEY, v text, n int, m int NOT NULL, w text,
// r text, and whatever else the mode needs, with defaults), the two places to die, and the checks
// on the start after the crash.
#include <gtest/gtest.h>

#include <csignal>
#include <ostream>
#include <string>

#include "support/child_process.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"
#include "support/wait.h"

namespace pg2ch::test {

struct EvolveCrashKind {
  const char* name;
  const char* alter;
  const char* after;    // rows of the new shape
  const char* columns;  // compared
  bool renames = false;
};

inline constexpr EvolveCrashKind kEvolveCrashKinds[] = {
    {"Add", "ALTER TABLE t ADD COLUMN extra int",
     "INSERT INTO t (id, v, n, m, w, r, extra) VALUES (101, 'new', 1, 1, 'w', 'r', 5)", "id, v, n, m, w, r, extra"},
    {"AddWithDefault", "ALTER TABLE t ADD COLUMN extra int NOT NULL DEFAULT 7",
     "INSERT INTO t (id, v, n, m, w, r, extra) VALUES (101, 'new', 1, 1, 'w', 'r', 5)", "id, v, n, m, w, r, extra"},
    {"Widen", "ALTER TABLE t ALTER COLUMN n TYPE bigint", "UPDATE t SET n = 5000000000 WHERE id = 96",
     "id, v, n, m, w, r"},
    {"DropNotNull", "ALTER TABLE t ALTER COLUMN m DROP NOT NULL", "UPDATE t SET m = NULL WHERE id = 95",
     "id, v, n, m, w, r"},
    {"Drop", "ALTER TABLE t DROP COLUMN w", "INSERT INTO t (id, v, n, m, r) VALUES (101, 'new', 1, 1, 'r')",
     "id, v, n, m, r"},
    {"Rename", "ALTER TABLE t RENAME COLUMN r TO r2", "UPDATE t SET r2 = 'renamed' WHERE id > 95",
     "id, v, n, m, w, r2", true},
};

inline constexpr const char* kEvolveCrashPlaces[] = {"evolve_before_target_alter", "evolve_after_target_alter"};

inline void PrintTo(const EvolveCrashKind& kind, std::ostream* os) { *os << kind.name; }

// "<kind>BeforeTheAlter" / "<kind>AfterTheAlter".
inline std::string evolve_crash_name(const EvolveCrashKind& kind, const std::string& place) {
  return std::string(kind.name) + (place == "evolve_before_target_alter" ? "BeforeTheAlter" : "AfterTheAlter");
}

// The test's parameter name, for a parameter (kind, place, ...).
template <typename Info>
std::string evolve_crash_param_name(const Info& info) {
  return evolve_crash_name(std::get<0>(info.param), std::get<1>(info.param));
}

// The run after a kill right after a change followed in place (logical): t ends equal by `q`,
// nothing was copied again, the run stops cleanly and t streams.
inline void expect_equal_without_a_copy(TestDatabase& db, const std::filesystem::path& config, ChildProcess& second,
                                        const TableQuery& q) {
  EXPECT_TRUE(wait_equal(db, q)) << second.describe();
  EXPECT_EQ(second.stderr_text().find("copying"), std::string::npos) << "copied again: " << second.describe();
  EXPECT_EQ(second.stderr_text().find("snapshot"), std::string::npos) << "copied again: " << second.describe();
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
  EXPECT_EQ(pg2ch_table_state(db, config, "public.t"), "streaming ");
}

// t with 100 rows; `more`: columns after r, with defaults (e.g. a watermark).
inline void create_evolve_crash_table(TestDatabase& db, const std::string& more = {}) {
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text, n int, m int NOT NULL, w text, r text" +
             (more.empty() ? std::string() : ", " + more) + ")");
  db.pg_exec("INSERT INTO t (id, v, n, m, w, r) SELECT g, 'v' || g, g, g, 'w' || g, 'r' || g "
             "FROM generate_series(1, 100) g");
}

// Starts `pg2ch run` dying at `place` and waits until t streams; in one transaction changes rows of
// the old shape, applies `kind` (the ALTER, rows of the new shape) and waits for the crash. Then
// starts `pg2ch run` again, waits for `started` in its log (until the start has altered it, the
// target may lack a column the comparison reads), makes a later change, and expects t equal in
// `kind.columns` and streaming, none of `not_in_log` (what a copy would say) in the log and, after
// a crash before the ALTER, that the target was altered again; the run stops cleanly. Before the
// change, t's `status` position must start with `position_prefix`.
inline void expect_followed_across_a_crash(TestDatabase& db, const std::filesystem::path& config,
                                           const EvolveCrashKind& kind, const std::string& place,
                                           const std::string& started, std::initializer_list<const char*> not_in_log,
                                           const std::string& position_prefix = {}) {
  using namespace std::chrono_literals;
  auto first = ChildProcess::spawn_pg2ch(
      {.args = {"--config", config.string(), "run"}, .env = {{"PG2CH_CRASH_AT", place}}, .dir = db.dir(),
       .log_prefix = "first"});
  ASSERT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 60s))
      << first.describe();
  // A position durable before the change (a watermark checkpoint), so the next start resumes there.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto status = pg2ch_status_json(db, config, "status", /*attention_ok=*/true);
        for (const auto& t : status["tables"].GetArray()) {
          if (std::string(t["table"].GetString()) == "public.t") {
            return std::string(t["position"].GetString()).starts_with(position_prefix);
          }
        }
        return false;
      },
      60s))
      << first.describe();
  db.pg_exec(std::string("BEGIN; UPDATE t SET v = 'old shape' WHERE id <= 10; ") + kind.alter + "; " + kind.after +
             "; COMMIT");
  ASSERT_EQ(first.wait(60s), std::optional<int>(137)) << "did not die at " << place << ": " << first.describe();

  auto second = pg2ch_cli(db, config, {"run"}, "second");
  ASSERT_TRUE(wait_until([&] { return second.stderr_text().find(started) != std::string::npos; }, 60s))
      << second.describe();
  db.pg_exec("UPDATE t SET v = v || '+' WHERE id % 7 = 0");
  EXPECT_TRUE(wait_equal(db, same_columns("t", kind.columns, "id"))) << second.describe();
  EXPECT_TRUE(wait_until([&] { return pg2ch_table_state(db, config, "public.t") == "streaming "; }, 30s))
      << second.describe();
  const auto log = second.stderr_text();
  for (const char* copy : not_in_log) {
    EXPECT_EQ(log.find(copy), std::string::npos) << "copied again: " << second.describe();
  }
  if (place == "evolve_before_target_alter") {
    EXPECT_NE(log.find("altering it again"), std::string::npos) << second.describe();
  }
  EXPECT_EQ(second.stop(SIGTERM), 0) << second.describe();
}

}  // namespace pg2ch::test

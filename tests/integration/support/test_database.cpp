#include "support/test_database.h"
#include "support/test_database_created_with.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>
#include <utility>

#include "clickhouse/tab_separated.h"
#include "support/servers.h"
#include "support/test_config.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

std::string sanitize(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (alnum) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

pg::Connection admin_connection() {
  auto admin = pg::Connection::connect(postgres_config("postgres").conninfo(), "test PostgreSQL (admin)");
  // "database ... does not exist, skipping" on every fresh database is noise in the test log.
  PQsetNoticeProcessor(admin.get(), [](void*, const char*) {}, nullptr);
  return admin;
}

// Slots pin their database: a left-over one (from an earlier run against external servers, or a
// crashed pg2ch) must go before DROP DATABASE can.
void drop_slots(pg::Connection& admin, const std::string& database) {
  admin.query(
      "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
      "WHERE database = $1 AND active_pid IS NOT NULL",
      {database});
  bool dropped = wait_until(
      [&] {
        admin.query(
            "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots "
            "WHERE database = $1 AND NOT active",
            {database});
        return admin.query("SELECT count(*) FROM pg_replication_slots WHERE database = $1", {database})
                   .int64(0, 0) == 0;
      },
      std::chrono::seconds(10));
  if (!dropped) throw std::runtime_error("replication slots of " + database + " stay active");
}

void recreate_in_postgres(const std::string& name, std::string_view create_options) {
  auto admin = admin_connection();
  drop_slots(admin, name);
  auto quoted = admin.quote_identifier(name);
  admin.exec("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)");
  admin.exec("CREATE DATABASE " + quoted + (create_options.empty() ? "" : " " + std::string(create_options)));
}

void recreate_in_clickhouse(const std::string& name) {
  clickhouse::HttpClient admin(clickhouse_endpoint("default"));
  admin.execute("DROP DATABASE IF EXISTS " + clickhouse::quote_identifier(name));
  admin.execute("CREATE DATABASE " + clickhouse::quote_identifier(name));
}

}  // namespace

std::string database_name_for_current_test(std::string_view suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string full = info ? std::string(info->test_suite_name()) + "." + info->name() : "no_test";
  if (!suffix.empty()) full += "." + std::string(suffix);
  auto name = sanitize(full);
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name = "t_" + name;
  if (name.size() > 63) {
    char hash[9];
    std::snprintf(hash, sizeof hash, "%08zx", std::hash<std::string>{}(full) & 0xffffffffu);
    name = name.substr(0, 54) + "_" + hash;
  }
  return name;
}

TestDatabase make_test_database(std::string_view name) { return make_test_database_created_with({}, name); }

TestDatabase make_test_database_created_with(std::string_view postgres_create_options, std::string_view name) {
  auto db_name = database_name_for_current_test(name);
  recreate_in_postgres(db_name, postgres_create_options);
  recreate_in_clickhouse(db_name);
  return TestDatabase(db_name);
}

TestDatabase::TestDatabase(std::string name) : name_(std::move(name)), dir_(run_dir() / "tests" / name_) {
  // Fresh like the databases: a state file left by an earlier repeat (--gtest_repeat) of the same
  // test would make a pipeline resume a checkpoint that no longer matches the recreated tables.
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}
TestDatabase::TestDatabase(TestDatabase&& other) noexcept
    : name_(std::exchange(other.name_, {})),
      dir_(std::move(other.dir_)),
      pg_(std::move(other.pg_)),
      ch_(std::move(other.ch_)) {}

TestDatabase& TestDatabase::operator=(TestDatabase&& other) noexcept {
  if (this != &other) {
    TestDatabase gone(std::move(*this));  // our old database's slots go now
    name_ = std::exchange(other.name_, {});
    dir_ = std::move(other.dir_);
    pg_ = std::move(other.pg_);
    ch_ = std::move(other.ch_);
  }
  return *this;
}
// A test's replication slots go with it: the server has a fixed number of them, and every slot
// left behind would pin WAL and make a later test's pipeline fail with "all replication slots are
// in use". (The databases themselves are kept for inspection until the next run.)
TestDatabase::~TestDatabase() {
  if (name_.empty()) return;  // moved from
  try {
    auto admin = admin_connection();
    drop_slots(admin, name_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[ cleanup  ] %s: %s\n", name_.c_str(), e.what());
  }
}

pg::Connection TestDatabase::pg_connect() const {
  return pg::Connection::connect(postgres_config(name_).conninfo(), "test PostgreSQL " + name_);
}

pg::Connection& TestDatabase::pg() {
  if (!pg_) pg_ = std::make_unique<pg::Connection>(pg_connect());
  return *pg_;
}

clickhouse::HttpClient& TestDatabase::ch() {
  if (!ch_) ch_ = std::make_unique<clickhouse::HttpClient>(clickhouse_endpoint(name_));
  return *ch_;
}

Rows TestDatabase::pg_rows(std::string_view sql) {
  auto result = pg().query(sql);
  Rows rows;
  for (int r = 0; r < result.rows(); ++r) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < result.cols(); ++c) row.push_back(result.is_null(r, c) ? kNull : result.text(r, c));
  }
  return rows;
}

Rows TestDatabase::ch_rows(std::string_view sql) {
  // Servers since 21.9 print Decimal 1.50 as 1.5 unless told otherwise; tests compare with
  // PostgreSQL's text, which keeps the scale. 18.16 keeps it and does not know the setting.
  std::map<std::string, std::string> settings;
  if (ch().capabilities().version.at_least(21, 9)) settings["output_format_decimal_trailing_zeros"] = "1";
  return clickhouse::parse_tab_separated(ch().query(std::string(sql) + " FORMAT TabSeparated", settings));
}

}  // namespace pg2ch::test

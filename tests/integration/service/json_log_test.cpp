// log.format = "json": every line pg2ch writes to stderr is one JSON object, also when a message
// carries quotes and backslashes (here in a table's name).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <sstream>

#include "support/fixture.h"
#include "support/pg2ch_cli.h"

namespace pg2ch::test {
namespace {

TEST(JsonLog, EveryLineIsAJsonObjectWithTheMessageIntact) {
  auto db = make_test_database();
  db.pg_exec(R"(CREATE TABLE "say ""hi"" \o/" (id int PRIMARY KEY, v text))");
  db.pg_exec(R"(INSERT INTO "say ""hi"" \o/" SELECT g, 'v' FROM generate_series(1, 10) g)");
  auto cfg = make_test_config(db, {"public.*"});
  cfg.log.format = "json";
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  auto run = pg2ch_cli(db, file, {"run", "--until-caught-up"}, "run");
  ASSERT_EQ(run.wait(std::chrono::seconds(120)), 0) << run.describe();

  std::istringstream lines(run.stderr_text());
  int parsed = 0;
  bool named = false, progress = false;
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << "not JSON: " << line;
    ASSERT_TRUE(d.IsObject() && d.HasMember("msg") && d.HasMember("level") && d.HasMember("ts")) << line;
    named = named || std::string(d["msg"].GetString()).find(R"(public.say "hi" \o/)") != std::string::npos;
    const std::string msg = d["msg"].GetString();
    progress = progress || msg.rfind("initial copy finished: 1 tables, 10 rows", 0) == 0;
    ++parsed;
  }
  EXPECT_GT(parsed, 3);
  EXPECT_TRUE(progress) << "the copy's closing progress line:\n" << run.stderr_text();
  EXPECT_TRUE(named) << "a message naming the table, quotes and backslash intact:\n" << run.stderr_text();
}

}  // namespace
}  // namespace pg2ch::test

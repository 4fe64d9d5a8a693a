// Precedence: defaults < TOML < .env < process environment < CLI, for the same setting.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

using testing::TempDir;

// One setting written in every source, with a distinct value per source.
struct Layers {
  TempDir dir;
  LoadOptions options = testing::isolated_options();

  Layers(const std::string& toml, const std::string& dotenv, const std::string& env_name,
         const std::string& env_value, const std::string& cli_key, const std::string& cli_value) {
    options.config_path = dir.write("pg2ch.toml", toml);
    options.env_file = dir.write(".env", dotenv);
    options.environment[env_name] = env_value;
    options.cli_overrides[cli_key] = cli_value;
  }
};

TEST(ConfigPrecedence, DefaultsWhenNothingIsSet) {
  auto c = load(testing::isolated_options());
  EXPECT_EQ(c.name, "pg2ch");
  EXPECT_EQ(c.mode, "logical");
  EXPECT_EQ(c.postgres.host, "127.0.0.1");
  EXPECT_EQ(c.postgres.port, 5432);
  EXPECT_EQ(c.clickhouse.port, 8123);
  EXPECT_EQ(c.clickhouse.compression, "auto");
  EXPECT_EQ(c.batch.max_rows, 100000u);
  EXPECT_EQ(c.batch.max_delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.logical.slot, "pg2ch");
  EXPECT_EQ(c.log.level, "info");
}

TEST(ConfigPrecedence, EachLayerWinsOverTheOnesBelow) {
  Layers l("[postgres]\nport = 1001\n", "PG_PORT=1002\n", "PG_PORT", "1003", "postgres.port", "1004");
  EXPECT_EQ(load(l.options).postgres.port, 1004);
  l.options.cli_overrides.erase("postgres.port");
  EXPECT_EQ(load(l.options).postgres.port, 1003);
  l.options.environment.clear();
  EXPECT_EQ(load(l.options).postgres.port, 1002);
  l.options.env_file.reset();
  EXPECT_EQ(load(l.options).postgres.port, 1001);
  l.options.config_path.reset();
  EXPECT_EQ(load(l.options).postgres.port, 5432);
}

TEST(ConfigPrecedence, GenericNamesFollowTheSameOrder) {
  Layers l("[batch]\nmax_rows = 11\n", "PG2CH_BATCH_MAX_ROWS=12\n", "PG2CH_BATCH_MAX_ROWS", "13", "batch.max_rows",
           "14");
  EXPECT_EQ(load(l.options).batch.max_rows, 14u);
  l.options.cli_overrides.erase("batch.max_rows");
  EXPECT_EQ(load(l.options).batch.max_rows, 13u);
  l.options.environment.clear();
  EXPECT_EQ(load(l.options).batch.max_rows, 12u);
  l.options.env_file.reset();
  EXPECT_EQ(load(l.options).batch.max_rows, 11u);
}

TEST(ConfigPrecedence, HigherLayerReplacesTheWholeTableList) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.cli_overrides.clear();
  options.config_path = dir.write("pg2ch.toml",
                                  "[[tables]]\nname = \"public.a\"\ntarget = \"a_ch\"\n"
                                  "[[tables]]\nname = \"public.b\"\n");
  auto from_file = load(options);
  ASSERT_EQ(from_file.tables.size(), 2u);
  EXPECT_EQ(from_file.tables[0].target, "a_ch");

  options.environment["PG2CH_TABLES"] = "sales.*";
  auto from_env = load(options);
  ASSERT_EQ(from_env.tables.size(), 1u);
  EXPECT_EQ(from_env.tables[0].pattern, "sales.*");

  options.cli_overrides["tables"] = "public.x, public.y";
  auto from_cli = load(options);
  ASSERT_EQ(from_cli.tables.size(), 2u);
  EXPECT_EQ(from_cli.tables[1].pattern, "public.y");
}

TEST(ConfigPrecedence, Pg2chNameWinsOverSeedNameInOneLayer) {
  auto options = testing::isolated_options();
  options.environment = {{"PG_HOST", "seed.example"}, {"PG2CH_POSTGRES_HOST", "own.example"}};
  EXPECT_EQ(load(options).postgres.host, "own.example");
}

TEST(ConfigPrecedence, DotenvInWorkingDirectoryIsReadByDefault) {
  TempDir dir;
  dir.write(".env", "CH_HOST=from-dotenv\n");
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto options = testing::isolated_options();
  options.read_default_env_file = true;
  auto with_default = load(options);
  options.read_default_env_file = false;
  auto without = load(options);
  std::filesystem::current_path(previous);
  EXPECT_EQ(with_default.clickhouse.host, "from-dotenv");
  EXPECT_EQ(without.clickhouse.host, "127.0.0.1");
}

TEST(ConfigPrecedence, ExplicitEnvFileMustExist) {
  auto options = testing::isolated_options();
  options.env_file = "/nonexistent/pg2ch.env";
  auto e = testing::config_error([&] { load(options); });
  EXPECT_NE(std::string(e.what()).find("/nonexistent/pg2ch.env"), std::string::npos);
}

}  // namespace
}  // namespace pg2ch::config

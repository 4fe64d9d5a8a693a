// Unknown keys and bad values are errors naming the setting and where it came from.
#include <gtest/gtest.h>

#include <filesystem>

#include "config_test_util.h"

namespace pg2ch::config {
namespace {

using testing::TempDir;

// Loads `toml` (plus one table unless the file has its own) and returns the Config error.
Error toml_error(const std::string& toml, std::string* path_out = nullptr) {
  TempDir dir;
  auto options = testing::isolated_options();
  options.config_path = dir.write("pipeline.toml", toml);
  if (toml.find("[[tables]]") != std::string::npos) options.cli_overrides.clear();
  if (path_out) *path_out = *options.config_path;
  return testing::config_error([&] { load(options); });
}

Error cli_error(const std::string& key, const std::string& value) {
  auto options = testing::isolated_options();
  options.cli_overrides[key] = value;
  return testing::config_error([&] { load(options); });
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ConfigValidation, UnknownKeyInSectionNamesKeyAndFile) {
  std::string path;
  auto e = toml_error("[batch]\nmax_row = 10\n", &path);
  EXPECT_TRUE(contains(e.what(), "batch.max_row")) << e.what();
  EXPECT_TRUE(contains(e.what(), path + " line 2")) << e.what();
  EXPECT_TRUE(contains(e.hint(), "max_rows")) << e.hint();
}

TEST(ConfigValidation, UnknownTopLevelKeyAndSection) {
  EXPECT_TRUE(contains(toml_error("nmae = \"x\"\n").what(), "unknown key nmae"));
  EXPECT_TRUE(contains(toml_error("[postgress]\nhost = \"x\"\n").what(), "unknown key postgress"));
}

TEST(ConfigValidation, UnknownKeyInTables) {
  auto e = toml_error("[[tables]]\nname = \"public.a\"\ncolumns = [\"id\"]\n");
  EXPECT_TRUE(contains(e.what(), "tables[1].columns")) << e.what();
}

TEST(ConfigValidation, WrongTypeInToml) {
  auto e = toml_error("[postgres]\nport = \"5432\"\n");
  EXPECT_TRUE(contains(e.what(), "setting postgres.port (from config file ")) << e.what();
  EXPECT_TRUE(contains(e.what(), "must be an integer, not a string")) << e.what();
  EXPECT_FALSE(e.hint().empty());
  EXPECT_TRUE(contains(toml_error("[batch]\nmax_rows = 1.5\n").what(), "not a floating-point number"));
  EXPECT_TRUE(contains(toml_error("postgres = 1\n").what(), "must be a table"));
}

TEST(ConfigValidation, SyntaxErrorNamesFileAndLine) {
  std::string path;
  auto e = toml_error("[postgres]\nhost = \"x\"\nport = = 1\n", &path);
  EXPECT_TRUE(contains(e.what(), path + " line 3")) << e.what();
}

struct BadValue {
  const char* key;
  const char* value;
  const char* problem;
};

const std::string kTooLongName(64, 'p');

class ConfigBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValue, MessageNamesSettingSourceAndProblem) {
  auto [key, value, problem] = GetParam();
  auto e = cli_error(key, value);
  std::string message = e.what();
  EXPECT_TRUE(contains(message, std::string("setting ") + key + " (from command line --set " + key + ")")) << message;
  EXPECT_TRUE(contains(message, problem)) << message;
  EXPECT_FALSE(e.hint().empty()) << message;
}

// Readable, stable test names: "postgres_port_2" rather than the bytes of the struct.
std::string bad_value_name(const ::testing::TestParamInfo<BadValue>& info) {
  std::string name = info.param.key;
  for (auto& c : name)
    if (c == '.') c = '_';
  return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(
    ConfigSettings, ConfigBadValue,
    ::testing::Values(BadValue{"postgres.port", "70000", "between 1 and 65535"},
                      BadValue{"postgres.port", "0", "between 1 and 65535"},
                      BadValue{"postgres.port", "54x", "not a whole number"},
                      BadValue{"clickhouse.port", "-1", "between 1 and 65535"},
                      BadValue{"batch.max_rows", "0", "between 1 and"},
                      BadValue{"batch.max_bytes", "-5", "between 1 and"},
                      BadValue{"mode", "cdc", "must be one of: logical, poll, notify, outbox, kafka"},
                      BadValue{"clickhouse.compression", "lz4", "auto, none, gzip, zstd"},
                      BadValue{"clickhouse.secure", "maybe", "not a boolean"},
                      BadValue{"clickhouse.cluster", "my cluster", "is not a cluster name"},
                      BadValue{"clickhouse.cluster", "1st", "is not a cluster name"},
                      BadValue{"clickhouse.distributed", "sometimes", "not a boolean"},
                      BadValue{"postgres.sslmode", "sometimes", "verify-full"},
                      BadValue{"logical.slot", "Orders-Slot", "a-z, 0-9 and _"},
                      BadValue{"logical.publication", kTooLongName.c_str(), "1 to 63"},
                      BadValue{"log.level", "loud", "must be one of"},
                      BadValue{"postgres.host", "", "must not be empty"},
                      BadValue{"name", "my pipeline", "1 to 63 characters"}),
    bad_value_name);

TEST(ConfigValidation, BadValueFromEnvironmentNamesTheVariable) {
  auto options = testing::isolated_options();
  options.environment["PG2CH_LOGICAL_SLOT"] = "bad slot";
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), "setting logical.slot (from environment variable PG2CH_LOGICAL_SLOT) = \"bad slot\""))
      << e.what();
}

TEST(ConfigValidation, BadValueFromTomlNamesFileAndLine) {
  std::string path;
  auto e = toml_error("name = \"ok\"\n\n[batch]\nmax_rows = 0\n", &path);
  EXPECT_TRUE(contains(e.what(), "setting batch.max_rows (from config file " + path + " line 4) = 0")) << e.what();
}

TEST(ConfigValidation, DistributedNeedsACluster) {
  auto options = testing::isolated_options();
  options.cli_overrides["clickhouse.distributed"] = "true";
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), "clickhouse.distributed = true needs clickhouse.cluster")) << e.what();
  EXPECT_FALSE(e.hint().empty());

  options.cli_overrides["clickhouse.cluster"] = "events_cluster";
  const auto c = load(options);
  EXPECT_EQ(c.clickhouse.cluster, "events_cluster");
  EXPECT_TRUE(c.clickhouse.distributed);
}

TEST(ConfigValidation, NoClusterByDefault) {
  const auto c = load(testing::isolated_options());
  EXPECT_EQ(c.clickhouse.cluster, "");
  EXPECT_FALSE(c.clickhouse.distributed);
}

TEST(ConfigValidation, UnknownCliKey) {
  auto e = cli_error("postgres.hots", "x");
  EXPECT_TRUE(contains(e.what(), "postgres.hots")) << e.what();
}

TEST(ConfigValidation, TablePatterns) {
  EXPECT_TRUE(contains(cli_error("tables", "orders").what(), "must be \"schema.table\" or \"schema.*\""));
  EXPECT_TRUE(contains(cli_error("tables", "public.ord*").what(), "tables[1].name"));
  EXPECT_TRUE(contains(cli_error("tables", "public.a,public.b,public.a").what(), "tables[3].name"));
  EXPECT_TRUE(contains(cli_error("tables", "*.*").what(), "schema.table"));
}

TEST(ConfigValidation, TableEntries) {
  EXPECT_TRUE(contains(toml_error("[[tables]]\nname = \"public.*\"\ntarget = \"x\"\n").what(), "tables[1].target"));
  EXPECT_TRUE(contains(toml_error("[[tables]]\nname = \"public.a\"\ninclude = [\"a\"]\nexclude = [\"b\"]\n").what(),
                       "sets both include and exclude"));
  EXPECT_TRUE(contains(toml_error("[[tables]]\ntarget = \"x\"\n").what(), "tables[1].name"));
  EXPECT_TRUE(contains(toml_error("[[tables]]\nname = \"public.a\"\ninclude = \"a\"\n").what(), "an array of strings"));
  EXPECT_TRUE(contains(toml_error("[[tables]]\nname = \"public.a\"\ntypes = { price = \"Int8\" }\n").what(),
                       "tables[1].types.price"));
  EXPECT_TRUE(contains(toml_error("[[tables]]\nname = \"public.a\"\ntypes = \"String\"\n").what(), "a table"));
}

TEST(ConfigValidation, TomlTablesAreRead) {
  TempDir dir;
  LoadOptions options;
  options.read_default_env_file = false;
  options.config_path = dir.write("p.toml",
                                  "[[tables]]\nname = \"public.orders\"\ntarget = \"orders_v2\"\n"
                                  "include = [\"id\", \"total\"]\n"
                                  "[[tables]]\nname = \"audit.*\"\nexclude = [\"payload\"]\n"
                                  "watermark = \"changed_at\"\ntypes = { price = \"String\" }\n");
  auto c = load(options);
  ASSERT_EQ(c.tables.size(), 2u);
  EXPECT_EQ(c.tables[0].target, "orders_v2");
  EXPECT_EQ(c.tables[0].include, (std::vector<std::string>{"id", "total"}));
  EXPECT_EQ(c.tables[1].exclude, (std::vector<std::string>{"payload"}));
  EXPECT_EQ(c.tables[0].watermark, "");
  EXPECT_EQ(c.tables[1].watermark, "changed_at");
  EXPECT_EQ(c.tables[1].types, (std::map<std::string, std::string>{{"price", "String"}}));
}

TEST(ConfigValidation, TableKeyIsReadAndChecked) {
  TempDir dir;
  LoadOptions options;
  options.read_default_env_file = false;
  options.config_path = dir.write("k.toml", "[[tables]]\nname = \"public.readings\"\nkey = [\"sensor\", \"at\"]\n");
  EXPECT_EQ(load(options).tables[0].key, (std::vector<std::string>{"sensor", "at"}));

  options.config_path = dir.write("w.toml", "[[tables]]\nname = \"public.*\"\nkey = [\"id\"]\n");
  auto wildcard = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(wildcard.what(), "tables[1].key")) << wildcard.what();
  EXPECT_TRUE(contains(wildcard.what(), "whole schema")) << wildcard.what();

  options.config_path =
      dir.write("x.toml", "[[tables]]\nname = \"public.r\"\nkey = [\"at\"]\nexclude = [\"at\"]\n");
  auto excluded = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(excluded.what(), "left out of the target")) << excluded.what();
}

TEST(ConfigValidation, NoTablesIsAnErrorWithHint) {
  LoadOptions options;
  options.read_default_env_file = false;
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), "no tables configured")) << e.what();
  EXPECT_TRUE(contains(e.hint(), "[[tables]]")) << e.hint();
}

TEST(ConfigValidation, MissingConfigFile) {
  auto options = testing::isolated_options();
  options.config_path = "/nonexistent/pg2ch.toml";
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), "config file /nonexistent/pg2ch.toml cannot be read")) << e.what();
}

// A directory opens as a stream that reads nothing: it used to load as a config without settings.
TEST(ConfigValidation, ADirectoryNamedAsTheConfigIsAnError) {
  auto options = testing::isolated_options();
  options.config_path = std::filesystem::temp_directory_path().string();
  auto e = testing::config_error([&] { load(options); });
  EXPECT_TRUE(contains(e.what(), "is a directory, not a file")) << e.what();
  EXPECT_TRUE(contains(e.hint(), "pg2ch.toml")) << e.hint();
}


// Every per-change-kind setting takes evolve, ignore or stop (capture/logical/ignored_changes.h).
TEST(ConfigValidation, SchemaChangeSettingsTakeEvolveIgnoreOrStop) {
  for (const std::string key : {"logical.on_column_added", "logical.on_type_widened", "logical.on_not_null_dropped",
                                "logical.on_column_dropped", "logical.on_column_renamed"}) {
    for (const std::string value : {"evolve", "ignore", "stop"}) {
      auto options = testing::isolated_options();
      options.cli_overrides[key] = value;
      EXPECT_NO_THROW(load(options)) << key << " = " << value;
    }
    auto options = testing::isolated_options();
    options.cli_overrides[key] = "skip";
    const auto e = testing::config_error([&] { load(options); });
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ignore"), std::string::npos) << "names the accepted values: " << e.what();
  }
  auto options = testing::isolated_options();
  options.cli_overrides["logical.on_column_renamed"] = "ignore";
  EXPECT_EQ(load(options).logical.on_column_renamed, "ignore");
}

// A table dropped at the source keeps its target unless told otherwise (capture/shared/dropped_table.h).
TEST(ConfigValidation, OnTableDroppedTakesKeepOrDrop) {
  EXPECT_EQ(load(testing::isolated_options()).logical.on_table_dropped, "keep");
  auto options = testing::isolated_options();
  options.cli_overrides["logical.on_table_dropped"] = "drop";
  EXPECT_EQ(load(options).logical.on_table_dropped, "drop");
  for (const std::string value : {"delete", "DROP", "stop", ""}) {
    options.cli_overrides["logical.on_table_dropped"] = value;
    const auto e = testing::config_error([&] { load(options); });
    EXPECT_NE(std::string(e.what()).find("logical.on_table_dropped"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("keep, drop"), std::string::npos) << "names the accepted values: " << e.what();
  }
}

}  // namespace
}  // namespace pg2ch::config

// Which existing ClickHouse tables pg2ch accepts as a table's target, and what it says about the
// others. The same checks on a real server: integration/sink/target_validation_test.cpp.
#include "clickhouse/target_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "common/error.h"

namespace pg2ch::clickhouse {
namespace {

ServerCapabilities caps(const char* version) { return ServerCapabilities::from_version(parse_server_version(version)); }

// public.t (id int4 PRIMARY KEY, v int4, note text, "we ird" int8 NOT NULL) with key (id, "we ird").
pipeline::TableSchema schema() {
  pipeline::TableSchema t;
  t.source_schema = "public";
  t.source_name = "t";
  t.target_name = "t";
  const std::pair<const char*, const char*> cols[] = {
      {"id", "Int32"}, {"v", "Nullable(Int32)"}, {"note", "Nullable(String)"}, {"we ird", "Int64"}};
  for (const auto& [name, type] : cols) {
    pipeline::TargetColumn c;
    c.name = name;
    c.mapping.clickhouse_type = type;
    t.target_columns.push_back(std::move(c));
  }
  t.key_target_indexes = {0, 3};
  return t;
}

// What ClickHouse 18.16 reports for the table pg2ch creates for schema().
TableShape created() {
  TableShape s;
  s.engine = "ReplacingMergeTree";
  s.engine_full = "ReplacingMergeTree(_version) ORDER BY (id, `we ird`) SETTINGS index_granularity = 8192";
  s.sorting_key = "id, `we ird`";
  s.columns = {{"id", "Int32", "", false, ""},         {"v", "Nullable(Int32)", "", false, ""},
               {"note", "Nullable(String)", "", false, ""}, {"we ird", "Int64", "", false, ""},
               {"_version", "UInt64", "", false, ""},  {"_deleted", "UInt8", "", false, ""}};
  return s;
}

ColumnShape& column(TableShape& s, const std::string& name) {
  return *std::find_if(s.columns.begin(), s.columns.end(), [&](const ColumnShape& c) { return c.name == name; });
}

// The check's error for `s`; nullopt when it accepts the table.
std::optional<Error> check(const TableShape& s, const char* version = "18.16.1") {
  try {
    check_target_table(s, schema(), "shop", caps(version));
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

bool accepted(const TableShape& s, const char* version = "18.16.1") { return !check(s, version); }

void expect_refused(const TableShape& s, const std::vector<std::string>& message, const std::vector<std::string>& hint,
                    const char* version = "18.16.1") {
  const auto e = check(s, version);
  ASSERT_TRUE(e) << "accepted";
  const std::string what = e->what();
  EXPECT_EQ(e->kind(), ErrorKind::Schema);
  EXPECT_NE(what.find("ClickHouse table shop.t (the target of public.t)"), std::string::npos) << what;
  for (const auto& m : message) EXPECT_NE(what.find(m), std::string::npos) << "'" << m << "' not in: " << what;
  for (const auto& h : hint) EXPECT_NE(e->hint().find(h), std::string::npos) << "'" << h << "' not in: " << e->hint();
}

TEST(TargetCheck, AcceptsWhatPg2chCreatesOnOldAndNewServers) {
  EXPECT_TRUE(accepted(created()));
  TableShape modern = created();
  modern.engine_full = "ReplacingMergeTree(_version, _deleted) ORDER BY (id, `we ird`) SETTINGS index_granularity = 8192";
  EXPECT_TRUE(accepted(modern, "24.8.1"));
  // A table made on 18.16 stays fine after the server is upgraded, and the other way round.
  EXPECT_TRUE(accepted(created(), "24.8.1"));
  EXPECT_TRUE(accepted(modern));
}

TEST(TargetCheck, AcceptsTheDocumentedDifferences) {
  TableShape s = created();
  std::reverse(s.columns.begin(), s.columns.end());  // every INSERT names its columns
  s.columns.push_back({"loaded_at", "DateTime", "DEFAULT", false, ""});
  s.columns.push_back({"v2", "Nullable(Int64)", "MATERIALIZED", false, ""});
  s.columns.push_back({"v3", "Nullable(Int64)", "ALIAS", false, ""});
  column(s, "v").type = "Nullable( Int32 )";
  column(s, "note").default_kind = "DEFAULT";  // pg2ch writes it anyway
  EXPECT_TRUE(accepted(s));
  s.engine_full = "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/t', '{replica}', _version) ORDER BY (id, `we ird`)";
  EXPECT_TRUE(accepted(s));
  s.engine_full = "ReplacingMergeTree(dt, (id, `we ird`), 8192, _version)";  // the pre-2018 syntax
  EXPECT_TRUE(accepted(s));
}

TEST(TargetCheck, NamesAWrongTypeWithTheFix) {
  TableShape s = created();
  s.columns[1].type = "Nullable(UInt32)";
  expect_refused(s, {"column v has type Nullable(UInt32), pg2ch writes Nullable(Int32)"},
                 {"ALTER TABLE `shop`.`t` MODIFY COLUMN `v` Nullable(Int32)", "drop shop.t and shop.t__current"});
  s = created();
  s.columns[0].type = "Nullable(Int32)";  // NULL flags where pg2ch writes none garble every row
  expect_refused(s, {"column id has type Nullable(Int32), pg2ch writes Int32"}, {"MODIFY COLUMN `id` Int32"});
  s = created();
  s.columns[4].type = "Int64";
  expect_refused(s, {"column _version has type Int64, pg2ch writes UInt64"}, {"MODIFY COLUMN `_version` UInt64"});
}

TEST(TargetCheck, NamesMissingAndUnwritableColumns) {
  TableShape s = created();
  s.columns.erase(s.columns.begin() + 2);
  s.columns[1].default_kind = "MATERIALIZED";
  s.columns.push_back({"extra", "String", "", false, ""});
  expect_refused(s,
                 {"column note is missing (Nullable(String))", "column v is MATERIALIZED, but pg2ch writes it",
                  "column extra is not written by pg2ch and has no DEFAULT"},
                 {"ALTER TABLE `shop`.`t` ADD COLUMN `note` Nullable(String)", "MODIFY COLUMN `v` Nullable(Int32)",
                  "MODIFY COLUMN `extra` String DEFAULT"});
}

TEST(TargetCheck, RefusesEnginesThatDoNotReplaceByVersion) {
  const std::vector<std::string> recreate = {"cannot be altered", "drop shop.t and shop.t__current",
                                             "run `pg2ch setup` again"};
  TableShape s = created();
  s.engine = "MergeTree";
  s.engine_full = "MergeTree ORDER BY (id, `we ird`) SETTINGS index_granularity = 8192";
  expect_refused(s, {"its engine is MergeTree, pg2ch needs ReplacingMergeTree(_version)"}, recreate);
  expect_refused(s, {"pg2ch needs ReplacingMergeTree(_version, _deleted)"}, recreate, "23.8.1");
  s.engine_full = "ReplacingMergeTree ORDER BY (id, `we ird`)";
  expect_refused(s, {"has no version column"}, recreate);
  s.engine_full = "ReplacingMergeTree(v) ORDER BY (id, `we ird`)";
  expect_refused(s, {"its engine is ReplacingMergeTree(v)"}, recreate);
  s.engine_full = "ReplacingMergeTree(_version, gone) ORDER BY (id, `we ird`)";
  expect_refused(s, {"its engine is ReplacingMergeTree(_version, gone)"}, recreate);
  s.engine_full = "CollapsingMergeTree(_deleted) ORDER BY (id, `we ird`)";
  expect_refused(s, {"its engine is CollapsingMergeTree(_deleted)"}, recreate);
}

TEST(TargetCheck, RefusesSortKeysOtherThanTheSourceKey) {
  const std::vector<std::string> recreate = {"cannot be altered", "drop shop.t"};
  TableShape s = created();
  s.sorting_key = "id, `we ird`, _version";
  expect_refused(s, {"ORDER BY (id, `we ird`, _version), pg2ch needs ORDER BY (id, `we ird`)", "every version"}, recreate);
  s.sorting_key = "`we ird`, id";
  expect_refused(s, {"ORDER BY (`we ird`, id)"}, recreate);
  s.sorting_key = "id";
  expect_refused(s, {"ORDER BY (id)", "one row per sort key"}, recreate);
  s.sorting_key = "id, intHash32(`we ird`)";
  expect_refused(s, {"ORDER BY (id, intHash32(`we ird`))"}, recreate);
  s.sorting_key = "";
  expect_refused(s, {"ORDER BY ()"}, recreate);
}

TEST(TargetCheck, RefusesPartitionsByNonKeyColumns) {
  TableShape s = created();
  s.columns[0].in_partition_key = true;  // PARTITION BY id % 10: a key never changes partition
  EXPECT_TRUE(accepted(s));
  s.columns[1].in_partition_key = true;
  expect_refused(s, {"PARTITION BY uses column v, which is not part of the key"}, {"cannot be altered"});
}

TEST(TargetCheck, OnAClusterOnlyTheReplicatedEngineIsAccepted) {
  const TargetLayout cluster{.cluster = "events"};
  TableShape s = created();
  s.engine = "ReplicatedReplacingMergeTree";
  // Its own path and replica name are the owner's business; the version column is pg2ch's.
  s.engine_full = "ReplicatedReplacingMergeTree('/ch/{shard}/custom', '{replica}', _version) ORDER BY (id, `we ird`)";
  EXPECT_NO_THROW(check_target_table(s, schema(), "shop", caps("18.16.1"), cluster));
  s = created();  // plain ReplacingMergeTree: each host would keep its rows to itself
  try {
    check_target_table(s, schema(), "shop", caps("18.16.1"), cluster);
    FAIL() << "accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("its engine is ReplacingMergeTree on cluster events"), std::string::npos) << what;
    EXPECT_NE(what.find("pg2ch needs ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/t', '{replica}', "
                        "_version)"),
              std::string::npos)
        << what;
  }
  // The fixes it prints must reach every host.
  s.engine = "ReplicatedReplacingMergeTree";
  s.engine_full = "ReplicatedReplacingMergeTree('/p', '{replica}', _version) ORDER BY (id, `we ird`)";
  s.columns.erase(s.columns.begin() + 2);
  try {
    check_target_table(s, schema(), "shop", caps("18.16.1"), cluster);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("ALTER TABLE `shop`.`t` ON CLUSTER `events` ADD COLUMN `note` Nullable(String)"),
              std::string::npos)
        << e.hint();
  }
}

// What 18.16 shows for the Distributed table pg2ch creates for schema() on cluster "events".
TableShape distributed() {
  TableShape s = created();
  s.engine = "Distributed";
  s.engine_full = "Distributed('events', 'shop', 't', cityHash64(id, `we ird`))";
  s.sorting_key = "";
  return s;
}

TEST(TargetCheck, ADistributedTableMatchesOnlyOverThisClusterTargetAndKey) {
  const TargetLayout cluster{.cluster = "events", .distributed = true};
  EXPECT_TRUE(distributed_table_matches(distributed(), schema(), "shop", cluster));
  TableShape s = distributed();
  s.engine_full = "Distributed(events, shop, t, cityHash64(id, `we ird`))";  // identifiers, as a user may write
  EXPECT_TRUE(distributed_table_matches(s, schema(), "shop", cluster));
  EXPECT_FALSE(distributed_table_matches(distributed(), schema(), "shop", {.cluster = "other", .distributed = true}));
  EXPECT_FALSE(distributed_table_matches(distributed(), schema(), "other_db", cluster));
  s.engine_full = "Distributed('events', 'shop', 't', cityHash64(id))";  // versions of a key could split
  EXPECT_FALSE(distributed_table_matches(s, schema(), "shop", cluster));
  s.engine_full = "Distributed('events', 'shop', 't', rand())";
  EXPECT_FALSE(distributed_table_matches(s, schema(), "shop", cluster));
  s.engine_full = "Distributed('events', 'shop', 't')";
  EXPECT_FALSE(distributed_table_matches(s, schema(), "shop", cluster));
  s = distributed();
  s.columns.erase(s.columns.begin() + 2);  // made for the table's old columns
  EXPECT_FALSE(distributed_table_matches(s, schema(), "shop", cluster));
  s = distributed();
  s.engine = "MergeTree";
  EXPECT_FALSE(distributed_table_matches(s, schema(), "shop", cluster));
}

}  // namespace
}  // namespace pg2ch::clickhouse

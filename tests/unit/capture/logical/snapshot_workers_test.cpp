#include "capture/logical/snapshot_workers.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>

#include "config/config.h"

namespace pg2ch::capture::logical {
namespace {

TEST(SnapshotWorkers, AnExplicitSettingWins) {
  EXPECT_EQ(choose_snapshot_workers(3, 2, 0.0, true, true).workers, 3);
  EXPECT_EQ(choose_snapshot_workers(1, 64, 0.0, false, false).workers, 1);
}

TEST(SnapshotWorkers, LocalServersGetTheCoresThatAreNotBusy) {
  // The measured cases (issue 16): 2 cores, both servers local; quiet -> two, busy -> one.
  EXPECT_EQ(choose_snapshot_workers(0, 2, 0.4, true, true).workers, 2);
  EXPECT_EQ(choose_snapshot_workers(0, 2, 2.5, true, true).workers, 1);
  EXPECT_EQ(choose_snapshot_workers(0, 2, 1.2, true, true).workers, 1);
  EXPECT_EQ(choose_snapshot_workers(0, 1, 0.0, true, true).workers, 1);
  EXPECT_EQ(choose_snapshot_workers(0, 16, 5.0, true, false).workers, 11);
  EXPECT_EQ(choose_snapshot_workers(0, 16, 40.0, false, true).workers, 1);
  EXPECT_EQ(choose_snapshot_workers(0, 8, -1.0, true, true).workers, 8) << "a nonsense load counts as none";
}

TEST(SnapshotWorkers, RemoteServersAreCappedBecauseTheirCoresAreUnknown) {
  EXPECT_EQ(choose_snapshot_workers(0, 2, 0.0, false, false).workers, 2);
  EXPECT_EQ(choose_snapshot_workers(0, 64, 30.0, false, false).workers, kRemoteCap);
  EXPECT_EQ(choose_snapshot_workers(0, 0, 0.0, false, false).workers, 1) << "unknown core count";
}

TEST(SnapshotWorkers, TheReasonSaysWhyAndHowToChange) {
  const auto c = choose_snapshot_workers(0, 2, 0.4, true, true);
  EXPECT_NE(c.reason.find("2 core(s), load 0.4"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("PostgreSQL and ClickHouse on this machine"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("logical.snapshot_workers"), std::string::npos) << c.reason;
}

TEST(SnapshotWorkers, LocalHosts) {
  EXPECT_TRUE(is_local_host("127.0.0.1"));
  EXPECT_TRUE(is_local_host("localhost"));
  EXPECT_TRUE(is_local_host("::1"));
  EXPECT_TRUE(is_local_host("/var/run/postgresql"));
  EXPECT_TRUE(is_local_host(""));
  std::array<char, 256> name{};
  ASSERT_EQ(::gethostname(name.data(), name.size() - 1), 0);
  EXPECT_TRUE(is_local_host(name.data()));
  EXPECT_FALSE(is_local_host("db.example.com"));
  EXPECT_FALSE(is_local_host("10.1.2.3"));
}

TEST(SnapshotWorkers, AKafkaSinkDoesNotCountClickHouse) {
  config::Config cfg;
  cfg.postgres.host = "db.example.com";
  cfg.clickhouse.host = "127.0.0.1";
  cfg.sink = "kafka";
  const auto kafka = choose_snapshot_workers(cfg);
  cfg.sink = "clickhouse";
  const auto clickhouse = choose_snapshot_workers(cfg);
  EXPECT_NE(kafka.reason, clickhouse.reason);
  EXPECT_NE(clickhouse.reason.find("ClickHouse on this machine"), std::string::npos) << clickhouse.reason;
}

}  // namespace
}  // namespace pg2ch::capture::logical

#include "capture/logical/transaction_spool.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace pg2ch::capture::logical {
namespace {

using Replayed = std::vector<std::pair<Lsn, std::string>>;

Replayed replay(TransactionSpool& spool, std::uint32_t xid) {
  Replayed out;
  spool.replay(xid, [&](Lsn at, std::string_view m) { out.emplace_back(at, std::string(m)); });
  return out;
}

class TransactionSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pg2ch-spool-test-" + std::to_string(::getpid()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TransactionSpoolTest, ReplaysInOrderAcrossBlocksAndForgets) {
  TransactionSpool spool(dir_.string());
  spool.start(10, true);
  spool.append(10, 10, 100, "I-a");
  spool.start(11, true);
  spool.append(11, 11, 150, "I-other");
  spool.start(10, false);  // a later block of 10
  spool.append(10, 10, 200, std::string("U-b\0x", 5));
  spool.append(10, 10, 300, "");
  EXPECT_EQ(spool.open_transactions(), 2u);
  EXPECT_GT(spool.bytes(), 0u);
  EXPECT_EQ(replay(spool, 10), (Replayed{{100, "I-a"}, {200, std::string("U-b\0x", 5)}, {300, ""}}));
  EXPECT_EQ(spool.open_transactions(), 1u);
  EXPECT_TRUE(replay(spool, 10).empty()) << "forgotten after its commit";
  EXPECT_EQ(replay(spool, 11), (Replayed{{150, "I-other"}}));
}

TEST_F(TransactionSpoolTest, ARolledBackTransactionLeavesNothing) {
  TransactionSpool spool(dir_.string());
  spool.start(5, true);
  spool.append(5, 5, 1, "I-x");
  spool.abort(5, 5);
  EXPECT_EQ(spool.open_transactions(), 0u);
  EXPECT_TRUE(replay(spool, 5).empty());
}

TEST_F(TransactionSpoolTest, ARolledBackSubtransactionKeepsOnlyItsRelationMessages) {
  TransactionSpool spool(dir_.string());
  spool.start(5, true);
  spool.append(5, 5, 1, "I-top");
  spool.append(5, 6, 2, "R-relation-first-sent-here");
  spool.append(5, 6, 3, "I-sub");
  spool.append(5, 7, 4, "I-other-sub");
  spool.abort(5, 6);
  spool.append(5, 5, 5, "I-after");
  EXPECT_EQ(replay(spool, 5),
            (Replayed{{1, "I-top"}, {2, "R-relation-first-sent-here"}, {4, "I-other-sub"}, {5, "I-after"}}));
}

TEST_F(TransactionSpoolTest, AFirstSegmentAgainStartsOver) {
  // After a reconnect the server streams an unfinished transaction again from its first change.
  TransactionSpool spool(dir_.string());
  spool.start(8, true);
  spool.append(8, 8, 1, "I-1");
  spool.start(8, true);
  spool.append(8, 8, 1, "I-1");
  spool.append(8, 8, 2, "I-2");
  EXPECT_EQ(replay(spool, 8), (Replayed{{1, "I-1"}, {2, "I-2"}}));
}

TEST_F(TransactionSpoolTest, ManyChangesGoToDiskNotMemory) {
  TransactionSpool spool(dir_.string());
  spool.start(1, true);
  const std::string row(200, 'v');
  for (Lsn i = 0; i < 100000; ++i) spool.append(1, 1, i, row);
  EXPECT_EQ(spool.bytes(), 100000u * (16 + row.size()));
  std::size_t n = 0;
  Lsn last = 0;
  spool.replay(1, [&](Lsn at, std::string_view m) {
    EXPECT_EQ(m.size(), row.size());
    last = at;
    ++n;
  });
  EXPECT_EQ(n, 100000u);
  EXPECT_EQ(last, 99999u);
  // Anonymous files: nothing is left in the directory.
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(TransactionSpoolTest, AnUnwritableDirectoryIsAClearError) {
  TransactionSpool spool("/proc/pg2ch-cannot-be-here");
  try {
    spool.start(3, true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/pg2ch-cannot-be-here"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("logical.spool_dir"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace pg2ch::capture::logical

// pg::wait_until_visible (pg/transaction_visibility.h) against a real server: a transaction still
// open is not visible, the same one once committed is, and so is one from long ago.
#include <gtest/gtest.h>

#include "pg/transaction_visibility.h"
#include "support/test_database.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(TransactionVisibility, AnOpenTransactionIsNotVisibleItsCommitIs) {
  auto db = make_test_database();
  auto open = db.pg_connect();
  auto reader = db.pg_connect();
  const auto past = static_cast<std::uint32_t>(std::stoull(reader.query("SELECT txid_current() % 4294967296").text(0, 0)));
  open.exec("BEGIN");
  const auto xid = static_cast<std::uint32_t>(std::stoull(open.query("SELECT txid_current() % 4294967296").text(0, 0)));
  EXPECT_FALSE(pg::wait_until_visible(reader, xid, 50ms)) << "xid " << xid << " is still open";
  EXPECT_TRUE(pg::wait_until_visible(reader, past, 0ms)) << "xid " << past << " committed before";
  open.exec("COMMIT");
  EXPECT_TRUE(pg::wait_until_visible(reader, xid, 2s)) << "xid " << xid << " committed";
}

}  // namespace
}  // namespace pg2ch::test

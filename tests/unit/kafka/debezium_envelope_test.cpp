// Whole message keys and values: the Debezium envelope and the seed's key-only event.
#include "kafka/envelope.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "kafka_test_support.h"

namespace pg2ch::kafka {
namespace {

using pipeline::ValueRef;
using test::make_table;
using test::unhex;
namespace oid = types::oid;

class DebeziumEnvelope : public ::testing::Test {
 protected:
  pipeline::TableSchema table = make_table("public", "orders",
                                           {{"id", oid::kInt4, true},
                                            {"name", oid::kText},
                                            {"secret", oid::kText, false, true},
                                            {"price", oid::kNumeric}});
  EnvelopeContext ctx{"shop", "shopdb"};
  std::string id42 = unhex("0000002a");
  std::string price = unhex("0002 0000 0000 0002 000c 1388");
  std::vector<ValueRef> row{ValueRef::binary(id42), ValueRef::binary("ann"), ValueRef::binary("s"),
                            ValueRef::binary(price)};

  static std::string source(const char* lsn, const char* snapshot = "false") {
    return std::string(R"("source":{"version":"pg2ch-)") + PG2CH_VERSION +
           R"(","connector":"postgresql","name":"shop","ts_ms":1700000000000,"snapshot":")" + snapshot +
           R"(","db":"shopdb","sequence":null,"schema":"public","table":"orders","txId":null,"lsn":)" + lsn +
           R"(,"xmin":null})";
  }
};

TEST_F(DebeziumEnvelope, KeyIsThePrimaryKeyObject) {
  EXPECT_EQ(message_key(table, row, ""), R"({"id":42})");
  EXPECT_EQ(message_key(table, row, "pg2ch.public.orders"),
            R"({"id":42,"__dbz__physicalTableIdentifier":"pg2ch.public.orders"})");
}

TEST_F(DebeziumEnvelope, CompositeKeyKeepsKeyOrder) {
  auto t = make_table("s", "pairs", {{"label", oid::kText}, {"tenant", oid::kInt4, true}, {"id", oid::kInt8, true}});
  const std::string tenant = unhex("00000003"), id = unhex("0000000000000007");
  std::vector<ValueRef> r{ValueRef::binary("x"), ValueRef::binary(tenant), ValueRef::binary(id)};
  EXPECT_EQ(message_key(t, r, ""), R"({"tenant":3,"id":7})");
}

TEST_F(DebeziumEnvelope, CreateHasAfterOnlyAndSkipsExcludedColumns) {
  EXPECT_EQ(debezium_value(ctx, table, 'c', {}, row, 22817720, 1700000000000),
            R"({"before":null,"after":{"id":42,"name":"ann","price":"12.50"},)" + source("22817720") +
                R"(,"op":"c","ts_ms":1700000000000,"transaction":null})");
}

TEST_F(DebeziumEnvelope, SourceCarriesTheTransactionIdAndCommitTime) {
  // source.ts_ms is when the source committed, the top-level ts_ms when pg2ch produced the event.
  const std::string v = debezium_value(ctx, table, 'c', {}, row, 22817720, EventTimes(1700000000500, 1700000000000, 748));
  EXPECT_NE(v.find(R"("source":{"version":"pg2ch-)"), std::string::npos);
  EXPECT_NE(v.find(R"("name":"shop","ts_ms":1700000000000,)"), std::string::npos) << v;
  EXPECT_NE(v.find(R"("txId":748,"lsn":22817720)"), std::string::npos) << v;
  EXPECT_NE(v.find(R"("op":"c","ts_ms":1700000000500,)"), std::string::npos) << v;
}

TEST_F(DebeziumEnvelope, SnapshotReadCarriesVersionZero) {
  EXPECT_EQ(debezium_value(ctx, table, 'r', {}, row, 0, 1700000000000),
            R"({"before":null,"after":{"id":42,"name":"ann","price":"12.50"},)" + source("0", "true") +
                R"(,"op":"r","ts_ms":1700000000000,"transaction":null})");
}

TEST_F(DebeziumEnvelope, DeleteHasBeforeWithNullNonKeyColumnsAndUnchangedToastPlaceholder) {
  std::vector<ValueRef> old_key{ValueRef::binary(id42), ValueRef::null(), ValueRef::null(), ValueRef::null()};
  EXPECT_EQ(debezium_value(ctx, table, 'd', old_key, {}, 5, 1700000000000),
            R"({"before":{"id":42,"name":null,"price":null},"after":null,)" + source("5") +
                R"(,"op":"d","ts_ms":1700000000000,"transaction":null})");
  std::vector<ValueRef> toast{ValueRef::binary(id42), ValueRef::unchanged(), ValueRef::null(), ValueRef::binary(price)};
  EXPECT_EQ(debezium_value(ctx, table, 'u', {}, toast, 6, 1700000000000),
            R"({"before":null,"after":{"id":42,"name":"__debezium_unavailable_value","price":"12.50"},)" +
                source("6") + R"(,"op":"u","ts_ms":1700000000000,"transaction":null})");
}

TEST_F(DebeziumEnvelope, TruncateHasNoRowsAndNoLsn) {
  EXPECT_EQ(debezium_truncate(ctx, table, 1700000000000),
            R"({"before":null,"after":null,)" + source("null") +
                R"(,"op":"t","ts_ms":1700000000000,"transaction":null})");
}

TEST_F(DebeziumEnvelope, KeyFormatEvent) {
  EXPECT_EQ(key_event(table, 'u', row, 99), R"({"id":42,"__op":"u","__schema":"public","__table":"orders","__lsn":99})");
  EXPECT_EQ(key_event(table, 't', {}, 0), R"({"__op":"t","__schema":"public","__table":"orders","__lsn":null})");
  // The source transaction, when the capture knows it: the consumer's fetch must see it.
  EXPECT_EQ(key_event(table, 'u', row, 99, 4294967295u),
            R"({"id":42,"__op":"u","__schema":"public","__table":"orders","__lsn":99,"__xid":4294967295})");
  EXPECT_EQ(key_event(table, 't', {}, 0, 7), R"({"__op":"t","__schema":"public","__table":"orders","__lsn":null})");
}

TEST_F(DebeziumEnvelope, BadValueNamesTheColumn) {
  std::vector<ValueRef> bad{ValueRef::binary("xx"), ValueRef::null(), ValueRef::null(), ValueRef::null()};
  try {
    message_key(table, bad, "");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("column id of public.orders"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pg2ch::kafka

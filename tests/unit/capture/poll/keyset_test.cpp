#include "capture/poll/keyset.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "types/pg_type.h"

namespace pg2ch::capture::poll {
namespace {

pipeline::TableSchema table(std::uint32_t wm_oid, bool wm_is_key) {
  pipeline::TableSchema t;
  t.source_schema = "public";
  t.source_name = "Orders";
  auto col = [&](std::string name, std::uint32_t oid, std::string type, bool key) {
    pipeline::SourceColumn c;
    c.name = std::move(name);
    c.type.oid = oid;
    c.type.name = std::move(type);
    c.is_key = key;
    c.target_index = static_cast<int>(t.target_columns.size());
    t.source_columns.push_back(c);
    pipeline::TargetColumn tc;
    tc.name = t.source_columns.back().name;
    tc.source_index = static_cast<int>(t.source_columns.size() - 1);
    tc.is_key = key;
    if (key) t.key_target_indexes.push_back(static_cast<int>(t.target_columns.size()));
    t.target_columns.push_back(std::move(tc));
  };
  col("id", types::oid::kInt8, "bigint", true);
  col("note", types::oid::kText, "text", false);
  col("updated_at", wm_oid, "timestamp with time zone", wm_is_key);
  return t;
}

TEST(PollKeyset, WatermarkThenKeyOrder) {
  const auto k = make_keyset(table(types::oid::kTimestampTz, false), "updated_at");
  ASSERT_EQ(k.order.size(), 2u);
  EXPECT_EQ(k.order[0].name, "updated_at");
  EXPECT_EQ(k.order[1].name, "id");
  EXPECT_EQ(k.source_columns, 3u);
  const auto q = fresh_page_query(k, Cursor{"2026-01-01 00:00:00+00", {"7"}}, 100);
  EXPECT_EQ(q.sql,
            "SELECT \"id\", \"note\", \"updated_at\", \"updated_at\"::text AS pg2ch_order_0, \"id\"::text AS pg2ch_order_1 FROM \"public\".\"Orders\" "
            "WHERE \"updated_at\" >= $1::timestamp with time zone AND (\"updated_at\", \"id\") > "
            "($1::timestamp with time zone, $2::bigint) ORDER BY \"updated_at\", \"id\" LIMIT 100");
  EXPECT_EQ(q.params, (Params{"2026-01-01 00:00:00+00", "7"}));
}

TEST(PollKeyset, SingleColumnKeyWatermarkUsesPlainComparison) {
  const auto k = make_keyset(table(types::oid::kTimestampTz, false), "id");
  ASSERT_EQ(k.order.size(), 1u);
  const auto q = fresh_page_query(k, Cursor{"41", {}}, 10);
  EXPECT_NE(q.sql.find("WHERE \"id\" > $1::bigint ORDER BY \"id\" LIMIT 10"), std::string::npos) << q.sql;
  const auto first = fresh_page_query(k, std::nullopt, 10);
  EXPECT_NE(first.sql.find("WHERE \"id\" IS NOT NULL ORDER BY"), std::string::npos) << first.sql;
  EXPECT_TRUE(first.params.empty());
}

TEST(PollKeyset, RescanFiltersOnSnapshotVisibilityWithinRange) {
  const auto k = make_keyset(table(types::oid::kTimestampTz, false), "updated_at");
  const std::optional<Cursor> lo = Cursor{"a", {"1"}};
  const Cursor hi{"b", {"9"}};
  const std::string snap = "10:20:12";
  const std::uint64_t xmax = (5ull << 32) | 20;
  const auto q = rescan_page_query(k, RescanRange{&lo, &hi, &snap, xmax}, Cursor{"a", {"3"}}, 50);
  // The pagination cursor replaces lo (it is past it); hi bounds the range in keyset order.
  EXPECT_EQ(q.params, (Params{"10:20:12", "5", "20", "b", "9", "a", "3"}));
  EXPECT_NE(q.sql.find("WHERE \"updated_at\" <= $4::timestamp with time zone AND (\"updated_at\", \"id\") <= "
                       "($4::timestamp with time zone, $5::bigint) AND \"updated_at\" >= $6::timestamp"),
            std::string::npos)
      << q.sql;
  EXPECT_NE(q.sql.find("(\"updated_at\", \"id\") > ($6::timestamp with time zone, $7::bigint)"), std::string::npos)
      << q.sql;
  const auto first = rescan_page_query(k, RescanRange{&lo, &hi, &snap, xmax}, std::nullopt, 50);
  EXPECT_EQ(first.params, (Params{"10:20:12", "5", "20", "b", "9", "a", "1"}));
  EXPECT_NE(q.sql.find("NOT pg_visible_in_snapshot("), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("$1::pg_snapshot"), std::string::npos) << q.sql;
}

TEST(PollKeyset, MissingWatermarkColumnNamesTableColumnAndFix) {
  try {
    make_keyset(table(types::oid::kTimestampTz, false), "changed_at");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Schema);
    EXPECT_NE(std::string(e.what()).find("public.Orders: watermark column changed_at does not exist"),
              std::string::npos);
    EXPECT_NE(e.hint().find("watermark"), std::string::npos);
  }
}

TEST(PollKeyset, UnorderedWatermarkTypeRefused) {
  try {
    make_keyset(table(types::oid::kTimestampTz, false), "note");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Schema);
    EXPECT_NE(std::string(e.what()).find("watermark column note has type text"), std::string::npos) << e.what();
  }
  for (auto oid : {types::oid::kInt2, types::oid::kInt4, types::oid::kInt8, types::oid::kNumeric, types::oid::kDate,
                   types::oid::kTimestamp, types::oid::kTimestampTz}) {
    EXPECT_TRUE(is_watermark_type(oid)) << oid;
  }
  EXPECT_FALSE(is_watermark_type(types::oid::kUuid));
  EXPECT_FALSE(is_watermark_type(types::oid::kFloat8));
}

TEST(PollKeyset, IdentifiersAreQuoted) {
  EXPECT_EQ(quote_pg_identifier("a\"b"), "\"a\"\"b\"");
}

// A reset is recognised by the watermark's sequence (integers only) and the greatest value.
TEST(PollKeyset, WatermarkResetProbeAsksTheSequenceOnlyForIntegers) {
  const auto by_id = make_keyset(table(types::oid::kTimestampTz, false), "id");
  const Query q = watermark_reset_query(by_id, Cursor{"500", {}});
  EXPECT_NE(q.sql.find("pg_get_serial_sequence($2, $3)"), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find("v.last_value < $1::bigint"), std::string::npos) << q.sql;
  EXPECT_NE(q.sql.find(R"(max("id") FROM "public"."Orders")"), std::string::npos) << q.sql;
  EXPECT_EQ(q.params, (Params{"500", R"("public"."Orders")", "id"}));

  const auto by_time = make_keyset(table(types::oid::kTimestampTz, false), "updated_at");
  const Query t = watermark_reset_query(by_time, Cursor{"2024-05-01 10:00:00+00", {"7"}});
  EXPECT_EQ(t.sql.find("pg_get_serial_sequence"), std::string::npos) << t.sql;
  EXPECT_NE(t.sql.find("< $1::timestamp with time zone, true)"), std::string::npos) << t.sql;
  EXPECT_EQ(t.params.size(), 1u);
}

}  // namespace
}  // namespace pg2ch::capture::poll

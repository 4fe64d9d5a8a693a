// The outbox's generated SQL as text: names, quoting, the statement-trigger bodies and the
// per-table drain queries. Behaviour on a real server is covered by tests/integration/outbox.
#include "capture/outbox/outbox_sql.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/error.h"

namespace pg2ch::capture::outbox {
namespace {

pipeline::SourceColumn column(std::string name, std::uint32_t oid, bool key = false) {
  pipeline::SourceColumn c;
  c.name = std::move(name);
  c.type.oid = oid;
  c.is_key = key;
  return c;
}

// "Odd Schema"."orders" (tenant int, "Id" bigint, note text, secret text, doc jsonb, score float8),
// key (tenant, "Id"), `secret` excluded.
pipeline::TableSchema orders() {
  pipeline::TableSchema t;
  t.relation_oid = 16384;
  t.source_schema = "Odd Schema";
  t.source_name = "orders";
  t.source_columns = {column("tenant", types::oid::kInt4, true), column("Id", types::oid::kInt8, true),
                      column("note", types::oid::kText),         column("secret", types::oid::kText),
                      column("doc", types::oid::kJsonb),         column("score", types::oid::kFloat8)};
  for (std::size_t i = 0; i < t.source_columns.size(); ++i) {
    auto& c = t.source_columns[i];
    if (c.name == "secret") continue;
    c.target_index = static_cast<int>(t.target_columns.size());
    pipeline::TargetColumn tc;
    tc.name = c.name;
    tc.source_index = static_cast<int>(i);
    tc.is_key = c.is_key;
    t.target_columns.push_back(std::move(tc));
  }
  t.key_target_indexes = {0, 1};
  return t;
}

OutboxNames names() {
  config::Config cfg;
  cfg.name = "shop";
  return outbox_names(cfg);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(OutboxSql, QuotesIdentifiersAndLiterals) {
  EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
}

TEST(OutboxSql, ObjectTagKeepsSimpleNamesAndHashesOthers) {
  EXPECT_EQ(object_tag("shop"), "shop");
  const auto dash = object_tag("orders-to-ch");
  const auto dot = object_tag("orders.to.ch");
  EXPECT_NE(dash, dot) << "names that differ only in punctuation must not share objects";
  EXPECT_TRUE(dash.starts_with("orders_to_ch_"));
  const auto long_tag = object_tag(std::string(63, 'x'));
  EXPECT_LE(long_tag.size(), 40u);
  for (char c : dash + long_tag + object_tag("Upper.Case")) {
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << c;
  }
}

TEST(OutboxSql, NamesFitPostgresIdentifierLimit) {
  config::Config cfg;
  cfg.name = std::string(63, 'N');
  const auto n = outbox_names(cfg);
  EXPECT_LE(n.function_name(4294967295u, TriggerOp::Truncate).size(), 63u);
  EXPECT_LE(n.trigger_name(TriggerOp::Truncate).size(), 63u);
  EXPECT_EQ(n.events_table(), "\"pg2ch\".\"events\"");
  EXPECT_EQ(n.progress_table(), "\"pg2ch\".\"events_progress\"");
  cfg.outbox.table = std::string(60, 'e');
  EXPECT_THROW(outbox_names(cfg), Error) << "the progress table name would not fit";
}

TEST(OutboxSql, InsertTriggerBuildsTheKeyFromTheTransitionTable) {
  const auto t = orders();
  const auto key = trigger_body(names(), t, Payload::Key, TriggerOp::Insert);
  EXPECT_TRUE(contains(key,
                       "'Odd Schema', 'orders', 'I', pg_catalog.jsonb_build_object('tenant', n.\"tenant\", 'Id', "
                       "n.\"Id\"), NULL FROM new_rows n"))
      << key;
  EXPECT_FALSE(contains(key, "to_jsonb")) << "key payload stores no row";

  const auto row = trigger_body(names(), t, Payload::Row, TriggerOp::Insert);
  EXPECT_TRUE(contains(row, "pg_catalog.to_jsonb(n) OPERATOR(pg_catalog.-) ARRAY['secret']::pg_catalog.text[]"))
      << "excluded columns stay out: " << row;
  EXPECT_TRUE(contains(row,
                       "OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('doc', n.\"doc\"::pg_catalog.text, "
                       "'score', n.\"score\"::pg_catalog.text)"))
      << "json and float columns travel as text: " << row;
}

TEST(OutboxSql, KeyMovesAreDeletesQueuedByARowTriggerOnTheKeyColumns) {
  const auto update = trigger_body(names(), orders(), Payload::Key, TriggerOp::Update);
  EXPECT_TRUE(contains(update, "'U', pg_catalog.jsonb_build_object('tenant', n.\"tenant\", 'Id', n.\"Id\")"))
      << update;
  EXPECT_FALSE(contains(update, "old_rows")) << "the statement trigger writes the new rows only: " << update;

  const auto move = trigger_body(names(), orders(), Payload::Row, TriggerOp::KeyMove);
  EXPECT_TRUE(contains(move, "VALUES ('Odd Schema', 'orders', 'D', pg_catalog.jsonb_build_object('tenant', "
                             "OLD.\"tenant\", 'Id', OLD.\"Id\"), NULL)"))
      << move;

  const auto ddl = trigger_ddl(names(), orders(), Payload::Key);
  const std::string when =
      " FOR EACH ROW WHEN (ROW(OLD.\"tenant\", OLD.\"Id\")::pg_catalog.record OPERATOR(pg_catalog.*<>) "
      "ROW(NEW.\"tenant\", NEW.\"Id\")::pg_catalog.record) EXECUTE FUNCTION \"pg2ch\".\"shop_16384_mov\"()";
  EXPECT_EQ(ddl[8], "CREATE OR REPLACE TRIGGER \"pg2ch_shop_mov\" AFTER UPDATE OF \"tenant\", \"Id\" ON "
                    "\"Odd Schema\".\"orders\"" +
                        when);
  const auto every = trigger_ddl(names(), orders(), Payload::Key, KeyMoveScope::EveryUpdate);
  EXPECT_EQ(every[8], "CREATE OR REPLACE TRIGGER \"pg2ch_shop_mov\" AFTER UPDATE ON \"Odd Schema\".\"orders\"" + when)
      << "a table with a BEFORE UPDATE trigger of its own: every update is looked at";
}

TEST(OutboxSql, TriggerBodiesQualifyEveryNameTheyUse) {
  // SECURITY DEFINER without a pinned search_path: an unqualified function, operator or type
  // could resolve to a writer's own object and run with the definer's rights.
  const std::regex unqualified_call(R"((^|[^.\w])(jsonb_build_object|to_jsonb)\()");
  const std::regex bare_operator(R"(\) (-|\|\||=) )");
  const std::regex unqualified_cast(R"(::(text|jsonb)\b)");
  for (Payload payload : {Payload::Key, Payload::Row}) {
    for (TriggerOp op : kTriggerOps) {
      const auto body = trigger_body(names(), orders(), payload, op);
      EXPECT_FALSE(std::regex_search(body, unqualified_call)) << body;
      EXPECT_FALSE(std::regex_search(body, bare_operator)) << body;
      EXPECT_FALSE(std::regex_search(body, unqualified_cast)) << body;
    }
  }
}

TEST(OutboxSql, TriggerDdlIsStatementLevelWithTransitionTables) {
  const auto ddl = trigger_ddl(names(), orders(), Payload::Key);
  ASSERT_EQ(ddl.size(), 15u);  // function, comment, trigger for 5 operations
  EXPECT_TRUE(contains(ddl[0], "CREATE OR REPLACE FUNCTION \"pg2ch\".\"shop_16384_ins\"()")) << ddl[0];
  EXPECT_TRUE(contains(ddl[1], "writes pg2ch.events")) << ddl[1];
  EXPECT_EQ(ddl[2],
            "CREATE OR REPLACE TRIGGER \"pg2ch_shop_ins\" AFTER INSERT ON \"Odd Schema\".\"orders\" REFERENCING NEW "
            "TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION \"pg2ch\".\"shop_16384_ins\"()");
  EXPECT_TRUE(contains(ddl[5], "AFTER UPDATE ON \"Odd Schema\".\"orders\" REFERENCING NEW TABLE AS new_rows FOR EACH "
                              "STATEMENT"))
      << ddl[5];
  EXPECT_TRUE(contains(ddl[11], "AFTER DELETE ON \"Odd Schema\".\"orders\" REFERENCING OLD TABLE AS old_rows"))
      << ddl[11];
  EXPECT_TRUE(contains(ddl[14], "AFTER TRUNCATE ON \"Odd Schema\".\"orders\" FOR EACH STATEMENT")) << ddl[14];
  for (std::size_t i = 0; i < ddl.size(); ++i) {
    EXPECT_EQ(contains(ddl[i], "FOR EACH ROW"), i == 8) << "only the key-move trigger is per row: " << ddl[i];
  }
  EXPECT_TRUE(contains(ddl[0], function_source(trigger_body(names(), orders(), Payload::Key, TriggerOp::Insert))))
      << "run compares the installed prosrc with function_source()";
}

TEST(OutboxSql, FunctionsPinTheSettingsTheirEventsDependOn) {
  const auto t = orders();
  const auto key = function_settings(t, Payload::Key);
  EXPECT_EQ(key, " SECURITY DEFINER") << "the key holds no float, interval or money: no settings to pay for";
  const auto row = function_settings(t, Payload::Row);
  EXPECT_TRUE(contains(row, "SET extra_float_digits = 1")) << "the row holds a float8 column: " << row;
  EXPECT_FALSE(contains(row, "intervalstyle")) << row;
  EXPECT_TRUE(contains(trigger_ddl(names(), t, Payload::Row)[0], row));
}

TEST(OutboxSql, KeyPayloadFetchJoinsTheSourceOnTheTypedKey) {
  const auto sql = fetch_rows_sql(names(), orders(), Payload::Key);
  EXPECT_TRUE(contains(sql,
                       "SELECT e.id, e.op <> 'D' AND s.\"tenant\" IS NOT NULL, COALESCE(s.\"tenant\", "
                       "k.\"tenant\"), COALESCE(s.\"Id\", k.\"Id\"), s.\"note\", NULL, s.\"doc\", s.\"score\" FROM"))
      << sql;
  EXPECT_TRUE(contains(sql,
                       "jsonb_populate_record(NULL::\"Odd Schema\".\"orders\", e.pk) k LEFT JOIN \"Odd "
                       "Schema\".\"orders\" s ON s.\"tenant\" = k.\"tenant\" AND s.\"Id\" = k.\"Id\""))
      << sql;
  EXPECT_TRUE(contains(sql,
                       "WHERE e.id = ANY($1::bigint[]) AND e.schema_name = 'Odd Schema' AND e.table_name = "
                       "'orders' AND e.op <> 'T'"))
      << "only this table's events are read as its row type: " << sql;
}

TEST(OutboxSql, RowPayloadFetchPopulatesFromTheEvent) {
  const auto sql = fetch_rows_sql(names(), orders(), Payload::Row);
  EXPECT_TRUE(contains(sql, "jsonb_populate_record(NULL::\"Odd Schema\".\"orders\", COALESCE(e.\"row\", e.pk)) r"))
      << sql;
  EXPECT_TRUE(contains(sql,
                       "r.\"tenant\", r.\"Id\", r.\"note\", NULL, CASE WHEN e.\"row\" IS NULL THEN r.\"doc\" "
                       "ELSE (e.\"row\" ->> 'doc')::jsonb END, r.\"score\""))
      << sql;
}

TEST(OutboxSql, ClaimSkipsLockedEventsInIdOrder) {
  EXPECT_EQ(claim_sql(names()),
            "SELECT id, schema_name, table_name, op FROM \"pg2ch\".\"events\" ORDER BY id LIMIT $1 FOR UPDATE SKIP "
            "LOCKED");
}

}  // namespace
}  // namespace pg2ch::capture::outbox

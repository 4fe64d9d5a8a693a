// The outbox's generated SQL as text: names, quoting, the row- and statement-trigger bodies and
// the per-table drain queries. Behaviour on a real server is covered by tests/integration/outbox.
#include "capture/outbox/outbox_sql.h"

#include <gtest/gtest.h>

#include <algorithm>
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

constexpr OutboxLayout kKeyRow{Payload::Key, TriggerLevel::Row};
constexpr OutboxLayout kKeyStatement{Payload::Key, TriggerLevel::Statement};
constexpr OutboxLayout kRowRow{Payload::Row, TriggerLevel::Row};
constexpr OutboxLayout kRowStatement{Payload::Row, TriggerLevel::Statement};

// "public"."items" (id bigint, note text), key id.
pipeline::TableSchema items() {
  pipeline::TableSchema t;
  t.relation_oid = 16500;
  t.source_schema = "public";
  t.source_name = "items";
  t.source_columns = {column("id", types::oid::kInt8, true), column("note", types::oid::kText)};
  for (std::size_t i = 0; i < t.source_columns.size(); ++i) {
    t.source_columns[i].target_index = static_cast<int>(i);
    pipeline::TargetColumn tc;
    tc.name = t.source_columns[i].name;
    tc.source_index = static_cast<int>(i);
    tc.is_key = t.source_columns[i].is_key;
    t.target_columns.push_back(std::move(tc));
  }
  t.key_target_indexes = {0};
  return t;
}

TEST(OutboxSql, EventsAreAHeapVersionedByTheWalPosition) {
  const auto ddl = queue_ddl(names(), Payload::Key);
  EXPECT_TRUE(contains(ddl[1], "lsn pg_lsn NOT NULL,\n  rel oid NOT NULL,\n  op \"char\" NOT NULL,\n  pk text)"))
      << "the key payload's queue has no row column: " << ddl[1];
  const auto rows = queue_ddl(names(), Payload::Row);
  EXPECT_TRUE(contains(rows[1], "pk text,\n  \"row\" jsonb)")) << rows[1];
  EXPECT_EQ(rows.back(), "ALTER TABLE \"pg2ch\".\"events\" ADD COLUMN IF NOT EXISTS \"row\" jsonb");
  for (const auto& sql : ddl) {
    EXPECT_FALSE(contains(sql, "IDENTITY")) << "no sequence: " << sql;
    EXPECT_FALSE(contains(sql, "DEFAULT now()") && contains(sql, "\"events\" (")) << "no clock default: " << sql;
  }
  EXPECT_TRUE(contains(ddl[2], "\"pg2ch\".\"events_truncates\" (lsn pg_lsn NOT NULL, rel oid NOT NULL, part oid)"))
      << ddl[2];
  EXPECT_TRUE(std::any_of(ddl.begin(), ddl.end(), [](const auto& sql) {
    return contains(sql, "ALTER TABLE \"pg2ch\".\"events_truncates\" ADD COLUMN part oid");
  })) << "a truncates table from before copy requests gets their column";
}

TEST(OutboxSql, RowTriggerWritesOneEventFromNew) {
  const auto bare = trigger_body(names(), items(), kKeyRow, TriggerOp::Insert);
  EXPECT_TRUE(contains(bare, "k := NEW.\"id\"::pg_catalog.text;")) << "a one-column integer key travels as its bare text";
  EXPECT_TRUE(contains(bare, "INSERT INTO \"pg2ch\".\"events\" (lsn, rel, op, pk)\n  VALUES "
                             "(pg_catalog.pg_current_wal_insert_lsn(), 16500::pg_catalog.oid, 'I', k);"))
      << bare;
  const auto composite = trigger_body(names(), orders(), kKeyRow, TriggerOp::Update);
  EXPECT_TRUE(contains(composite,
                       "k := pg_catalog.jsonb_build_object('tenant', NEW.\"tenant\", 'Id', "
                       "NEW.\"Id\")::pg_catalog.text;"))
      << composite;
  const auto del = trigger_body(names(), items(), kKeyRow, TriggerOp::Delete);
  EXPECT_TRUE(contains(del, "k := OLD.\"id\"::pg_catalog.text;")) << del;
  EXPECT_TRUE(contains(del, "'D', k);")) << del;
}

// What a body names as a field fails once that column is dropped, renamed or retyped; the block
// around it then computes the event from expressions that name no column (issue 12).
TEST(OutboxSql, BodiesFallBackToExpressionsNamingNoColumn) {
  const auto bare = trigger_body(names(), items(), kKeyRow, TriggerOp::Insert);
  EXPECT_TRUE(contains(bare, "EXCEPTION WHEN undefined_column OR datatype_mismatch THEN\n        k := "
                             "(pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.->>) 'id'::pg_catalog.text);"))
      << bare;
  const auto row = trigger_body(names(), orders(), kRowRow, TriggerOp::Insert);
  EXPECT_TRUE(contains(row, "x := pg_catalog.num_nulls(NEW.\"secret\");"))
      << "an excluded column renamed must take the fallback, not be copied under its new name: " << row;
  EXPECT_TRUE(contains(row, "k := pg_catalog.jsonb_build_object('tenant', (pg_catalog.to_jsonb(NEW) "
                            "OPERATOR(pg_catalog.->) 'tenant'::pg_catalog.text), 'Id', (pg_catalog.to_jsonb(NEW) "
                            "OPERATOR(pg_catalog.->) 'Id'::pg_catalog.text))::pg_catalog.text;\n        r := NULL;"))
      << "the fallback event has no row: the drainer reads the table's row: " << row;
  const auto statement = trigger_body(names(), orders(), kRowStatement, TriggerOp::Insert);
  EXPECT_TRUE(contains(statement, "EXCEPTION WHEN undefined_column OR datatype_mismatch THEN\n    INSERT INTO "
                                  "\"pg2ch\".\"events\" (lsn, rel, op, pk, \"row\")\n  SELECT "
                                  "pg_catalog.pg_current_wal_insert_lsn(), 16384::pg_catalog.oid, 'I', "
                                  "pg_catalog.jsonb_build_object('tenant', (pg_catalog.to_jsonb(n.*)"))
      << statement;
  EXPECT_TRUE(contains(statement, "NULL FROM new_rows n;\n  END;")) << statement;
}

TEST(OutboxSql, StatementTriggerWritesEventsFromTheTransitionTable) {
  const auto t = orders();
  const auto key = trigger_body(names(), t, kKeyStatement, TriggerOp::Insert);
  EXPECT_TRUE(contains(key,
                       "SELECT pg_catalog.pg_current_wal_insert_lsn(), 16384::pg_catalog.oid, 'I', "
                       "pg_catalog.jsonb_build_object('tenant', n.\"tenant\", 'Id', n.\"Id\")::pg_catalog.text "
                       "FROM new_rows n"))
      << key;
  EXPECT_FALSE(contains(key, "to_jsonb(n.*) OPERATOR(pg_catalog.-)")) << "key payload stores no row";

  const auto row = trigger_body(names(), t, kRowStatement, TriggerOp::Insert);
  EXPECT_TRUE(contains(row, "(pg_catalog.to_jsonb(n.*) OPERATOR(pg_catalog.-) ARRAY['secret']::pg_catalog.text[]) "
                            "OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('', '" +
                                row_mark(t) + "', 'doc', n.\"doc\"::pg_catalog.text, 'score', n.\"score\"::pg_catalog.text)"))
      << "excluded columns stay out, json and float columns travel as text, the mark under \"\": " << row;
  EXPECT_TRUE(contains(row, "FROM new_rows n WHERE pg_catalog.num_nulls(n.\"secret\") OPERATOR(pg_catalog.>=) 0;"))
      << row;
  EXPECT_TRUE(contains(trigger_body(names(), items(), kRowRow, TriggerOp::Insert),
                       "r := (pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.||) '{\"\": \"" + row_mark(items()) +
                           "\"}'::pg_catalog.jsonb);"))
      << "without a column to build, the mark is a constant";
  const auto rows_key = trigger_body(names(), items(), kRowRow, TriggerOp::Delete);
  EXPECT_TRUE(contains(rows_key, "k := pg_catalog.jsonb_build_object('id', OLD.\"id\")::pg_catalog.text;"))
      << "the row payload's key is JSON, which jsonb_populate_record reads: " << rows_key;
}

TEST(OutboxSql, KeyMovesAreQueuedByTheUpdateTrigger) {
  const auto row = trigger_body(names(), orders(), kRowRow, TriggerOp::Update);
  EXPECT_TRUE(contains(row, "IF ROW(OLD.\"tenant\", OLD.\"Id\")::pg_catalog.record OPERATOR(pg_catalog.*<>) "
                            "ROW(NEW.\"tenant\", NEW.\"Id\")::pg_catalog.record THEN m := "
                            "pg_catalog.jsonb_build_object('tenant', OLD.\"tenant\", 'Id', "
                            "OLD.\"Id\")::pg_catalog.text; END IF;"))
      << row;
  EXPECT_TRUE(contains(row, "IF m IS NOT NULL THEN\n      INSERT INTO \"pg2ch\".\"events\" (lsn, rel, op, pk, "
                            "\"row\")\n  VALUES (pg_catalog.pg_current_wal_insert_lsn(), 16384::pg_catalog.oid, "
                            "'M', m, NULL);"))
      << "the old key's 'M' before the new row's 'U': " << row;
  EXPECT_LT(row.find("'M', m"), row.find("'U', k")) << row;

  const auto statement = trigger_body(names(), orders(), kKeyStatement, TriggerOp::Update);
  EXPECT_TRUE(contains(statement, "'M', pg_catalog.jsonb_build_object('tenant', o.\"tenant\", 'Id', "
                                  "o.\"Id\")::pg_catalog.text FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows "
                                  "n WHERE pg_catalog.jsonb_build_object('tenant', n.\"tenant\", 'Id', "
                                  "n.\"Id\")::pg_catalog.text OPERATOR(pg_catalog.=) "))
      << "the old keys the new rows do not have: " << statement;
  EXPECT_TRUE(contains(statement, "AND ROW(n.\"tenant\", n.\"Id\")::pg_catalog.record OPERATOR(pg_catalog.*=) "
                                  "ROW(o.\"tenant\", o.\"Id\")::pg_catalog.record)"))
      << statement;

  // A trigger definition naming a column (UPDATE OF, WHEN) makes PostgreSQL refuse to retype or
  // drop that column.
  for (const auto layout : {kKeyRow, kKeyStatement, kRowRow, kRowStatement}) {
    for (const auto& sql : trigger_ddl(names(), orders(), layout)) {
      if (!sql.starts_with("CREATE OR REPLACE TRIGGER")) continue;
      EXPECT_FALSE(contains(sql, " OF ")) << sql;
      EXPECT_FALSE(contains(sql, "WHEN")) << sql;
    }
  }
}

TEST(OutboxSql, TriggerBodiesQualifyEveryNameTheyUse) {
  // SECURITY DEFINER without a pinned search_path: an unqualified function, operator or type
  // could resolve to a writer's own object and run with the definer's rights.
  const std::regex unqualified_call(R"((^|[^.\w])(jsonb_build_object|to_jsonb|pg_current_wal_insert_lsn|num_nulls)\()");
  const std::regex bare_operator(R"(\) (-|\|\||=) )");
  const std::regex unqualified_cast(R"(::(text|jsonb|oid)\b)");
  for (const auto layout : {kKeyRow, kKeyStatement, kRowRow, kRowStatement}) {
    for (const auto& t : {orders(), items()}) {
      for (TriggerOp op : kTriggerOps) {
        const auto body = trigger_body(names(), t, layout, op);
        EXPECT_FALSE(std::regex_search(body, unqualified_call)) << body;
        EXPECT_FALSE(std::regex_search(body, bare_operator)) << body;
        EXPECT_FALSE(std::regex_search(body, unqualified_cast)) << body;
      }
    }
  }
}

TEST(OutboxSql, TriggerDdlFollowsTheTriggerLevel) {
  const auto stmt = trigger_ddl(names(), orders(), kKeyStatement);
  ASSERT_EQ(stmt.size(), 12u);  // function, comment, trigger for 4 operations
  EXPECT_TRUE(contains(stmt[0], "CREATE OR REPLACE FUNCTION \"pg2ch\".\"shop_16384_ins\"()")) << stmt[0];
  EXPECT_TRUE(contains(stmt[1], "writes pg2ch.events")) << stmt[1];
  EXPECT_EQ(stmt[2],
            "CREATE OR REPLACE TRIGGER \"pg2ch_shop_ins\" AFTER INSERT ON \"Odd Schema\".\"orders\" REFERENCING NEW "
            "TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION \"pg2ch\".\"shop_16384_ins\"()");
  EXPECT_TRUE(contains(stmt[5], "AFTER UPDATE ON \"Odd Schema\".\"orders\" REFERENCING OLD TABLE AS old_rows NEW "
                                "TABLE AS new_rows FOR EACH STATEMENT"))
      << "the old rows for the moved keys: " << stmt[5];
  EXPECT_TRUE(contains(stmt[8], "AFTER DELETE ON \"Odd Schema\".\"orders\" REFERENCING OLD TABLE AS old_rows"))
      << stmt[8];
  EXPECT_TRUE(contains(stmt[11], "AFTER TRUNCATE ON \"Odd Schema\".\"orders\" FOR EACH STATEMENT")) << stmt[11];
  for (const auto& sql : stmt) EXPECT_FALSE(contains(sql, "FOR EACH ROW")) << sql;
  EXPECT_TRUE(contains(stmt[0], function_source(trigger_body(names(), orders(), kKeyStatement, TriggerOp::Insert))))
      << "run compares the installed prosrc with function_source()";
  const auto functions = function_ddl(names(), orders(), kKeyStatement);
  EXPECT_EQ(functions, (std::vector<std::string>{stmt[0], stmt[1], stmt[3], stmt[4], stmt[6], stmt[7], stmt[9],
                                                 stmt[10]}))
      << "what a change followed in place replaces";

  const auto row = trigger_ddl(names(), orders(), kKeyRow);
  EXPECT_EQ(row[2],
            "CREATE OR REPLACE TRIGGER \"pg2ch_shop_ins\" AFTER INSERT ON \"Odd Schema\".\"orders\" FOR EACH ROW "
            "EXECUTE FUNCTION \"pg2ch\".\"shop_16384_ins\"()");
  EXPECT_TRUE(contains(row[11], "AFTER TRUNCATE ON \"Odd Schema\".\"orders\" FOR EACH STATEMENT")) << row[11];
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i % 3 == 2) {
      EXPECT_EQ(contains(row[i], "FOR EACH ROW"), i != 11) << row[i];
      EXPECT_FALSE(contains(row[i], "REFERENCING")) << row[i];
    }
  }
}

TEST(OutboxSql, APartitionedTableGetsRowTriggersWhateverTheConfigSays) {
  // Row triggers are cloned to every partition; a statement trigger would miss statements that
  // name a partition, and a row moved to another partition (a DELETE and an INSERT there).
  auto t = orders();
  t.partitioned = true;
  const auto ddl = trigger_ddl(names(), t, kKeyStatement);
  EXPECT_EQ(ddl, trigger_ddl(names(), t, kKeyRow));
  EXPECT_EQ(ddl[2], "CREATE OR REPLACE TRIGGER \"pg2ch_shop_ins\" AFTER INSERT ON \"Odd Schema\".\"orders\" FOR EACH ROW "
                    "EXECUTE FUNCTION \"pg2ch\".\"shop_16384_ins\"()");
  EXPECT_EQ(trigger_body(names(), t, kKeyStatement, TriggerOp::Insert),
            trigger_body(names(), t, kKeyRow, TriggerOp::Insert))
      << "what verify_installed compares follows the same level";
}

TEST(OutboxSql, TruncatesGoToTheirOwnTable) {
  EXPECT_EQ(trigger_body(names(), items(), kKeyRow, TriggerOp::Truncate),
            "INSERT INTO \"pg2ch\".\"events_truncates\" (lsn, rel) VALUES (pg_catalog.pg_current_wal_insert_lsn(), "
            "16500::pg_catalog.oid);");
}

TEST(OutboxSql, FunctionsPinTheSettingsTheirEventsDependOn) {
  const auto t = orders();
  const auto key = function_settings(t, Payload::Key);
  EXPECT_EQ(key, " SECURITY DEFINER") << "the key holds no float, interval or money: no settings to pay for";
  const auto row = function_settings(t, Payload::Row);
  EXPECT_TRUE(contains(row, "SET extra_float_digits = 1")) << "the row holds a float8 column: " << row;
  EXPECT_FALSE(contains(row, "intervalstyle")) << row;
  EXPECT_TRUE(contains(trigger_ddl(names(), t, kRowStatement)[0], row));
}

TEST(OutboxSql, KeyPayloadFetchJoinsTheSourceOnTheTypedKey) {
  const auto sql = fetch_rows_sql(names(), orders(), Payload::Key);
  EXPECT_TRUE(contains(sql,
                       "SELECT e.ctid, (CASE WHEN s.\"tenant\" IS NULL THEN 'd' ELSE 'w' END)::\"char\", "
                       "COALESCE(s.\"tenant\", k.\"tenant\"), COALESCE(s.\"Id\", k.\"Id\"), s.\"note\", NULL, "
                       "s.\"doc\", s.\"score\" FROM"))
      << sql;
  EXPECT_TRUE(contains(sql,
                       "jsonb_populate_record(NULL::\"Odd Schema\".\"orders\", e.pk::jsonb) k LEFT JOIN \"Odd "
                       "Schema\".\"orders\" s ON s.\"tenant\" = k.\"tenant\" AND s.\"Id\" = k.\"Id\" AND "
                       "ROW(s.\"tenant\", s.\"Id\")::pg_catalog.record OPERATOR(pg_catalog.*=) ROW(k.\"tenant\", "
                       "k.\"Id\")::pg_catalog.record"))
      << "the key's index finds the row, its bytes must match too: " << sql;
  EXPECT_TRUE(contains(sql, "WHERE e.ctid = ANY($1::pg_catalog.tid[]) AND e.rel = 16384::pg_catalog.oid"))
      << "only this table's events are read as its row type: " << sql;
  const auto bare = fetch_rows_sql(names(), items(), Payload::Key);
  EXPECT_TRUE(contains(bare, "jsonb_populate_record(NULL::\"public\".\"items\", jsonb_build_object('id', e.pk)) k"))
      << "a bare key is read as the column's own type and collation: " << bare;
}

TEST(OutboxSql, RowPayloadFetchPopulatesFromTheEventsOwnRowsOnly) {
  const auto sql = fetch_rows_sql(names(), orders(), Payload::Row);
  EXPECT_TRUE(contains(sql, "CROSS JOIN LATERAL (SELECT COALESCE((e.\"row\" OPERATOR(pg_catalog.->>) '') "
                            "OPERATOR(pg_catalog.=) '" + row_mark(orders()) + "', false)) o(own) CROSS JOIN LATERAL "
                            "jsonb_populate_record(NULL::\"Odd Schema\".\"orders\", CASE WHEN o.own THEN e.\"row\" "
                            "ELSE e.pk::pg_catalog.jsonb END) r"))
      << "only a row written for the table's columns now is read, else the key: " << sql;
  const std::string reread = "(e.op IN ('I', 'U') AND NOT o.own)";
  EXPECT_TRUE(contains(sql, "CASE WHEN " + reread + " THEN COALESCE(s.\"tenant\", r.\"tenant\") ELSE r.\"tenant\" END, "
                            "CASE WHEN " + reread + " THEN COALESCE(s.\"Id\", r.\"Id\") ELSE r.\"Id\" END, CASE WHEN " +
                            reread + " THEN s.\"note\" ELSE r.\"note\" END, NULL, CASE WHEN " + reread +
                            " THEN s.\"doc\" WHEN o.own THEN (e.\"row\" OPERATOR(pg_catalog.->>) 'doc')::jsonb ELSE "
                            "r.\"doc\" END"))
      << sql;
  EXPECT_TRUE(contains(sql, "LEFT JOIN \"Odd Schema\".\"orders\" s ON " + reread + " AND s.\"tenant\" = r.\"tenant\""))
      << "an event without a row of the table's columns now is read from the table now: " << sql;
  EXPECT_TRUE(contains(sql, "WHEN e.op = 'M' THEN CASE WHEN EXISTS (SELECT 1 FROM \"Odd Schema\".\"orders\" c WHERE "
                            "c.\"tenant\" = r.\"tenant\" AND c.\"Id\" = r.\"Id\" AND ROW("))
      << "a moved-away key is deleted only when it is gone now: " << sql;
}

// The mark tells rows written for the columns as they are from rows written for other columns
// (outbox_sql.h row_mark): it changes with anything a body or the reading of its rows depends on.
TEST(OutboxSql, RowMarkChangesWithTheColumnsTheFunctionsWereMadeFor) {
  const auto t = orders();
  EXPECT_EQ(row_mark(t), row_mark(orders())) << "the same columns, the same mark (setup, start and follower agree)";
  EXPECT_EQ(row_mark(t).size(), 16U);
  const auto changed = [&](auto change) {
    auto u = orders();
    change(u);
    return row_mark(u) != row_mark(t);
  };
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) {
    auto c = column("added", types::oid::kFloat8);
    c.attnum = 7;
    c.target_index = 5;
    u.source_columns.push_back(c);
  })) << "a column added";
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) {
    auto c = column("hidden", types::oid::kText);
    c.attnum = 7;
    u.source_columns.push_back(c);
  })) << "an excluded column added";
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) {
    u.source_columns[2].type.oid = types::oid::kFloat8;
    u.source_columns[2].declared_type_oid = types::oid::kFloat8;
  })) << "a column retyped in place (the same attnum)";
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) { u.source_columns[2].declared_typmod = 14; })) << "a typmod";
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) { u.source_columns[2].name = "remark"; })) << "a rename";
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) { u.source_columns[2].target_index = -1; })) << "excluded now";
  EXPECT_TRUE(changed([](pipeline::TableSchema& u) { u.source_columns.pop_back(); })) << "a column dropped";
}

// With an include list a column added later is left out by the config: the body names each
// column it copies, so one it has no name for never enters the events table.
TEST(OutboxSql, AnIncludeListedTablesRowNamesEveryColumnItCopies) {
  auto t = orders();
  t.include_listed = true;
  EXPECT_NE(row_mark(t), row_mark(orders()));
  const auto row = trigger_body(names(), t, kRowStatement, TriggerOp::Insert);
  EXPECT_TRUE(contains(row, "pg_catalog.jsonb_build_object('', '" + row_mark(t) +
                                "', 'tenant', n.\"tenant\", 'Id', n.\"Id\", 'note', n.\"note\", 'doc', "
                                "n.\"doc\"::pg_catalog.text, 'score', n.\"score\"::pg_catalog.text) FROM new_rows n;"))
      << row;
  EXPECT_FALSE(contains(row, "secret")) << row;
  EXPECT_FALSE(contains(row, "to_jsonb(n.*) OPERATOR(pg_catalog.-)")) << row;
}

TEST(OutboxSql, RowObjectSplitsAtFiftyColumnsPerCall) {
  pipeline::TableSchema t = items();
  t.include_listed = true;
  for (int i = 0; i < 60; ++i) {
    auto c = column("c" + std::to_string(i), types::oid::kInt4);
    c.target_index = static_cast<int>(t.source_columns.size());
    t.source_columns.push_back(c);
  }
  const auto body = trigger_body(names(), t, kRowRow, TriggerOp::Insert);
  EXPECT_TRUE(contains(body, "'c46', NEW.\"c46\") OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('c47', "
                             "NEW.\"c47\""))
      << "the mark and 49 columns, then the rest: " << body;
}

TEST(OutboxSql, ClaimSkipsLockedEventsAndStoppedTablesInHeapOrderFromTheCursor) {
  EXPECT_EQ(claim_sql(names(), false),
            "SELECT ctid, lsn, rel, op FROM \"pg2ch\".\"events\" WHERE ctid >= $2::pg_catalog.tid AND rel <> ALL "
            "($3::pg_catalog.oid[]) LIMIT $1 FOR UPDATE SKIP LOCKED");
  EXPECT_TRUE(contains(claim_sql(names(), true), "WHERE ctid < $2::pg_catalog.tid"));
}

}  // namespace
}  // namespace pg2ch::capture::outbox

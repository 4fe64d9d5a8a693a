#include "capture/table_sync/table_states.h"

#include <gtest/gtest.h>

#include "capture/logical/table_gate.h"
#include "support/memory_state_store.h"

namespace pg2ch::capture::table_sync {
namespace {

using MemoryStore = test::MemoryStateStore;

pipeline::TableSchema table(std::string name, std::vector<std::pair<std::string, std::uint32_t>> cols) {
  pipeline::TableSchema t;
  t.relation_oid = 1000;
  t.source_schema = "public";
  t.source_name = std::move(name);
  t.target_name = t.source_name;
  for (const auto& [n, oid] : cols) {
    pipeline::SourceColumn c;
    c.name = n;
    c.type.oid = oid;
    c.type.name = oid == 23 ? "integer" : "text";
    c.declared_type_oid = oid;
    c.is_key = t.source_columns.empty();
    t.source_columns.push_back(c);
  }
  return t;
}

TEST(TableStates, ATableNeverRecordedIsInitAndStatesSurviveAReload) {
  MemoryStore store;
  auto t = table("with space.and\"quote", {{"id", 23}});
  const pipeline::TableSchema* tables[] = {&t};
  {
    TableStates states(store, tables);
    EXPECT_EQ(states.phase(t), TablePhase::Init);
    states.set(t, TablePhase::CatchingUp, 0x1000);
    states.stop(t, "bad value (key id=2)", "map it as String");
  }
  TableStates again(store, tables);
  EXPECT_EQ(again.phase(t), TablePhase::Stopped);
  EXPECT_EQ(again.at(t).reason, "bad value (key id=2)");
  EXPECT_EQ(again.at(t).fix, "map it as String");
  EXPECT_FALSE(again.changed_since_recorded(t));
  EXPECT_TRUE(store.values.contains(R"(table "public"."with space.and""quote" phase)"));
}

TEST(TableStates, AStoppedTableIsChangedOnceItsColumnsOrItsConfigChange) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}, {"v", 23}});
  const pipeline::TableSchema* tables[] = {&t};
  TableStates states(store, tables);
  states.stop(t, "r", "f");
  auto altered = table("t", {{"id", 23}, {"v", 700}});
  const pipeline::TableSchema* altered_tables[] = {&altered};
  EXPECT_TRUE(TableStates(store, altered_tables).changed_since_recorded(altered));
  auto renamed_target = table("t", {{"id", 23}, {"v", 23}});
  renamed_target.target_name = "t2";
  const pipeline::TableSchema* renamed_tables[] = {&renamed_target};
  EXPECT_TRUE(TableStates(store, renamed_tables).changed_since_recorded(renamed_target));
}

TEST(TableStates, SetRecordsManyTablesInOnePutAndTellsTheObserver) {
  MemoryStore store;
  auto a = table("a", {{"id", 23}});
  auto b = table("b", {{"id", 23}});
  const pipeline::TableSchema* tables[] = {&a, &b};
  TableStates states(store, tables);
  std::vector<std::string> seen;
  states.on_change([&](const pipeline::TableSchema& t, TablePhase p) {
    seen.push_back(t.source_name + "=" + std::string(to_string(p)));
  });
  states.set(tables, TablePhase::Streaming);
  EXPECT_EQ(store.puts, 1);
  EXPECT_EQ(seen, (std::vector<std::string>{"a=streaming", "b=streaming"}));
  EXPECT_EQ(states.in_phase(TablePhase::Streaming).size(), 2u);
}

pg::pgoutput::Relation relation(std::vector<std::pair<const char*, std::uint32_t>> cols) {
  pg::pgoutput::Relation r;
  r.oid = 1000;
  bool first = true;
  for (const auto& [n, oid] : cols) {
    r.columns.push_back({static_cast<std::uint8_t>(first ? 1 : 0), n, oid, -1});
    first = false;
  }
  return r;
}

TEST(RelationDifference, NamesEveryKindOfChange) {
  const auto t = table("t", {{"id", 23}, {"v", 23}, {"w", 25}});
  EXPECT_EQ(logical::relation_difference(t, relation({{"id", 23}, {"v", 23}, {"w", 25}})), "");
  EXPECT_EQ(logical::relation_difference(t, relation({{"id", 23}, {"v", 700}, {"w", 25}})),
            "column v changed from integer to real (integer to real is not a widening pg2ch can follow exactly)");
  EXPECT_EQ(logical::relation_difference(t, relation({{"id", 23}, {"v", 23}, {"w", 25}, {"x", 23}})),
            "column x added");
  EXPECT_EQ(logical::relation_difference(t, relation({{"id", 23}, {"w", 25}})), "column v dropped or renamed");
  EXPECT_EQ(logical::relation_difference(t, relation({{"id", 23}, {"w", 25}, {"v", 23}})),
            "column v moved (dropped and added again)");
}

TEST(TableGate, ColumnsAddedAtTheEndAreRecognisedAndNothingElse) {
  const auto t = table("t", {{"id", 23}, {"v", 23}});
  EXPECT_EQ(logical::columns_added_at_end(t, relation({{"id", 23}, {"v", 23}, {"x", 25}, {"y", 23}})),
            (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(logical::columns_added_at_end(t, relation({{"id", 23}, {"x", 25}, {"v", 23}})).empty());
  EXPECT_TRUE(logical::columns_added_at_end(t, relation({{"id", 23}, {"v", 700}, {"x", 25}})).empty());
  EXPECT_TRUE(logical::columns_added_at_end(t, relation({{"id", 23}, {"v", 23}})).empty());
  EXPECT_TRUE(logical::older_shape_of(t, relation({{"id", 23}})).has_value());
  EXPECT_FALSE(logical::older_shape_of(t, relation({{"v", 23}})).has_value());
  EXPECT_FALSE(logical::older_shape_of(t, relation({{"id", 23}, {"v", 23}})).has_value());
}

// The gate evolves a streaming table when the evolver can, stops it when it cannot, and once it
// has evolved lets rows of the older shape through only from before the change.
TEST(TableGate, EvolvesAddedColumnsAndAcceptsTheOlderShapeOnlyBeforeTheChange) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}, {"v", 23}});
  const pipeline::TableSchema* tables[] = {&t};
  TableStates states(store, tables);
  states.set(t, TablePhase::Streaming);
  std::optional<std::string> answer;  // what the evolver says
  int asked = 0;
  logical::TableGate gate(states, [&](const pipeline::TableSchema& table, const pg::pgoutput::Relation&, Lsn at) {
    ++asked;
    if (!answer) {
      table_sync::TableStates& s = states;
      s.evolved(table, at);
    }
    return answer;
  });
  auto added = relation({{"id", 23}, {"v", 23}, {"x", 25}});
  added.oid = t.relation_oid;
  EXPECT_EQ(gate.on_relation(added, 0x2000), nullptr);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(states.phase(t), TablePhase::Streaming);
  EXPECT_EQ(states.at(t).evolved_at, 0x2000u);
  // (The evolver replaced the schema; here it still has two columns, as a restart's would not.
  // A three-column schema is what the older shape below is a prefix of.)
  t.source_columns.push_back(t.source_columns.back());
  t.source_columns.back().name = "x";
  t.source_columns.back().declared_type_oid = 25;
  auto older = relation({{"id", 23}, {"v", 23}});
  older.oid = t.relation_oid;
  EXPECT_EQ(gate.older_shape(t.relation_oid), nullptr);
  EXPECT_EQ(gate.on_relation(older, 0x1000), nullptr) << "rows from before the change are applied";
  EXPECT_NE(gate.applies(t.relation_oid), nullptr);
  EXPECT_NE(gate.older_shape(t.relation_oid), nullptr) << "their short rows are padded";
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(gate.on_relation(older, 0x3000), nullptr) << "after the change, a missing column is a drop";
  EXPECT_EQ(asked, 2) << "which the evolver follows";

  // An evolver that cannot: the table stops with its reason.
  MemoryStore store2;
  auto u = table("u", {{"id", 23}, {"v", 23}});
  const pipeline::TableSchema* utables[] = {&u};
  TableStates ustates(store2, utables);
  ustates.set(u, TablePhase::Streaming);
  logical::TableGate refusing(ustates, [](const auto&, const auto&, Lsn) {
    return std::optional<std::string>("column x was added with a default");
  });
  added.oid = u.relation_oid;
  EXPECT_EQ(refusing.on_relation(added, 0x2000), &u);
  EXPECT_NE(ustates.at(u).reason.find("added with a default"), std::string::npos) << ustates.at(u).reason;
}

TEST(TableGate, TypesWidenedExactlyAreRecognisedAndNothingElse) {
  const auto t = table("t", {{"id", 23}, {"v", 21}, {"w", 25}});
  EXPECT_EQ(logical::columns_widened(t, relation({{"id", 23}, {"v", 20}, {"w", 25}})),
            (std::vector<std::string>{"v"}));
  EXPECT_TRUE(logical::columns_widened(t, relation({{"id", 23}, {"v", 1082}, {"w", 25}})).empty()) << "to date";
  EXPECT_TRUE(logical::columns_widened(t, relation({{"id", 23}, {"v", 20}, {"x", 25}})).empty()) << "renamed too";
  EXPECT_TRUE(logical::columns_widened(t, relation({{"id", 23}, {"v", 20}, {"w", 25}, {"x", 23}})).empty());
  EXPECT_TRUE(logical::columns_widened(t, relation({{"id", 23}, {"v", 21}, {"w", 25}})).empty()) << "unchanged";
  const auto wide = table("t", {{"id", 23}, {"v", 20}, {"w", 25}});
  EXPECT_TRUE(logical::older_shape_of(wide, relation({{"id", 23}, {"v", 21}, {"w", 25}})).has_value());
  EXPECT_TRUE(logical::older_shape_of(wide, relation({{"id", 23}, {"v", 23}})).has_value());
  EXPECT_FALSE(logical::older_shape_of(wide, relation({{"id", 23}, {"v", 20}, {"w", 25}})).has_value()) << "the current shape";
  EXPECT_FALSE(logical::older_shape_of(wide, relation({{"id", 23}, {"v", 25}, {"w", 25}})).has_value()) << "not a widening";
  EXPECT_NE(logical::relation_difference(t, relation({{"id", 23}, {"v", 1082}, {"w", 25}})).find("not a widening"),
            std::string::npos);
}

// A widened type is evolved in place; rows of the older type are let through (and widened by
// the stream) only from before the change; a narrowing stops the table without asking.
TEST(TableGate, EvolvesWidenedTypesAndAcceptsTheOlderTypesOnlyBeforeTheChange) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}, {"v", 21}});
  const pipeline::TableSchema* tables[] = {&t};
  TableStates states(store, tables);
  states.set(t, TablePhase::Streaming);
  int asked = 0;
  logical::TableGate gate(states, [&](const pipeline::TableSchema& table, const pg::pgoutput::Relation&, Lsn at) {
    ++asked;
    table_sync::TableStates& s = states;
    s.evolved(table, at);
    return std::optional<std::string>();
  });
  auto widened = relation({{"id", 23}, {"v", 20}});
  widened.oid = t.relation_oid;
  EXPECT_EQ(gate.on_relation(widened, 0x2000), nullptr);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(states.at(t).evolved_at, 0x2000u);
  t.source_columns[1].declared_type_oid = 20;  // what the evolver's new schema holds
  auto older = relation({{"id", 23}, {"v", 21}});
  older.oid = t.relation_oid;
  EXPECT_EQ(gate.on_relation(older, 0x1000), nullptr) << "rows from before the change are applied";
  ASSERT_NE(gate.older_shape(t.relation_oid), nullptr);
  EXPECT_EQ(gate.older_shape(t.relation_oid)->types.at(1), (logical::DeclaredType{21, -1})) << "decoded as smallint";
  EXPECT_EQ(gate.on_relation(widened, 0x2000), nullptr);
  EXPECT_EQ(gate.older_shape(t.relation_oid), nullptr) << "the current shape again";
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(gate.on_relation(older, 0x3000), &t) << "after the change, a narrowing: stop";
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(states.phase(t), TablePhase::Stopped);
  EXPECT_NE(states.at(t).reason.find("narrows"), std::string::npos) << states.at(t).reason;
}

// Several kinds in one Relation message (a column dropped, another added, a type widened: ALTERs
// of one transaction) go to the evolver, which follows them at once (follow_several) or says why not.
TEST(TableGate, HandsSeveralKindsAtOnceToTheEvolver) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}, {"v", 21}, {"w", 25}});
  const pipeline::TableSchema* tables[] = {&t};
  TableStates states(store, tables);
  states.set(t, TablePhase::Streaming);
  int asked = 0;
  std::optional<std::string> answer;
  logical::TableGate gate(states, [&](const pipeline::TableSchema&, const pg::pgoutput::Relation&, Lsn) {
    ++asked;
    return answer;
  });
  auto several = relation({{"id", 23}, {"v", 20}, {"x", 23}});
  several.oid = t.relation_oid;
  ASSERT_TRUE(logical::columns_added_at_end(t, several).empty() && logical::columns_widened(t, several).empty() &&
              logical::columns_dropped(t, several).empty() && logical::columns_renamed(t, several).empty())
      << "no kind alone";
  EXPECT_EQ(gate.on_relation(several, 0x2000), nullptr);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(states.phase(t), TablePhase::Streaming);
  answer = "several kinds of change at once, and logical.on_column_added is \"stop\"";
  EXPECT_EQ(gate.on_relation(several, 0x3000), &t);
  EXPECT_EQ(asked, 2);
  EXPECT_NE(states.at(t).reason.find("on_column_added"), std::string::npos) << states.at(t).reason;
}

// A Relation with the table's columns may follow a DROP NOT NULL, which it cannot show: the
// evolver is asked for a streaming table with a replicated NOT NULL column, and only then.
TEST(TableGate, AsksTheEvolverAboutUnchangedColumnsOnlyWhenOneIsNotNull) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}, {"v", 23}});
  auto u = table("u", {{"id", 23}, {"v", 23}});
  u.relation_oid = 1001;
  for (auto* x : {&t, &u}) {
    for (int i = 0; i < 2; ++i) x->source_columns[i].target_index = i;
  }
  t.source_columns[1].not_null = true;
  const pipeline::TableSchema* tables[] = {&t, &u};
  TableStates states(store, tables);
  states.set(tables, TablePhase::Streaming);
  std::vector<std::uint32_t> asked;
  std::optional<std::string> answer;
  logical::TableGate gate(states, [&](const pipeline::TableSchema& table, const pg::pgoutput::Relation&, Lsn) {
    asked.push_back(table.relation_oid);
    return answer;
  });
  auto same_t = relation({{"id", 23}, {"v", 23}});
  same_t.oid = t.relation_oid;
  auto same_u = relation({{"id", 23}, {"v", 23}});
  same_u.oid = u.relation_oid;
  EXPECT_EQ(gate.on_relation(same_t, 0x1000), nullptr);
  EXPECT_EQ(gate.on_relation(same_u, 0x1000), nullptr);
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{t.relation_oid})) << "u has no NOT NULL column to lose";
  EXPECT_NE(gate.applies(t.relation_oid), nullptr);
  answer = "column(s) v may hold NULL now (DROP NOT NULL), and logical.on_not_null_dropped is \"stop\"";
  EXPECT_EQ(gate.on_relation(same_t, 0x2000), &t);
  EXPECT_EQ(states.phase(t), TablePhase::Stopped);
  EXPECT_EQ(states.at(t).reason, *answer);
  EXPECT_EQ(gate.applies(t.relation_oid), nullptr);
}

TEST(TableGate, ColumnsDroppedAreRecognisedAndReadAgainAsAnOlderShape) {
  const auto t = table("t", {{"id", 23}, {"v", 23}, {"w", 25}, {"x", 23}});
  EXPECT_EQ(logical::columns_dropped(t, relation({{"id", 23}, {"x", 23}})), (std::vector<std::string>{"v", "w"}));
  EXPECT_EQ(logical::columns_dropped(t, relation({{"id", 23}, {"v", 23}, {"w", 25}})),
            (std::vector<std::string>{"x"}));
  EXPECT_TRUE(logical::columns_dropped(t, relation({{"v", 23}, {"w", 25}, {"x", 23}})).empty()) << "the key";
  EXPECT_TRUE(logical::columns_dropped(t, relation({{"id", 23}, {"x", 23}, {"v", 23}})).empty()) << "moved";
  EXPECT_TRUE(logical::columns_dropped(t, relation({{"id", 23}, {"v", 20}})).empty()) << "retyped too";
  EXPECT_TRUE(logical::columns_dropped(t, relation({{"id", 23}, {"y", 23}})).empty()) << "renamed";

  // After w was dropped and z added: rows from before carry w (left out) and lack z (NULL).
  const auto now = table("t", {{"id", 23}, {"v", 20}, {"x", 23}, {"z", 25}});
  const auto older = logical::older_shape_of(now, relation({{"id", 23}, {"v", 23}, {"w", 25}, {"x", 23}}), {"w"});
  ASSERT_TRUE(older);
  EXPECT_EQ(older->index, (std::vector<int>{0, 1, -1, 2}));
  EXPECT_EQ(older->types[1], (logical::DeclaredType{23, -1})) << "v read as integer, widened";
  EXPECT_FALSE(logical::older_shape_of(now, relation({{"id", 23}, {"v", 23}, {"w", 25}, {"x", 23}})))
      << "w is not known as dropped";
  EXPECT_FALSE(logical::older_shape_of(now, relation({{"id", 23}, {"x", 23}, {"v", 23}}), {"w"})) << "moved";
  EXPECT_FALSE(logical::older_shape_of(now, relation({{"id", 23}, {"v", 20}, {"x", 23}, {"z", 25}}), {"w"}))
      << "the current shape";
}

TEST(TableStates, DroppedColumnsAreRecordedWithTheEvolutionAndClearedByACopy) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}});
  const pipeline::TableSchema* tables[] = {&t};
  {
    TableStates states(store, tables);
    states.set(t, TablePhase::Streaming);
    states.evolved(t, 0x2000, {"a:b", "1:x", ""});
    states.evolved(t, 0x3000, {"c", "a:b"});
  }
  TableStates again(store, tables);
  EXPECT_EQ(again.at(t).dropped_columns, (std::vector<std::string>{"a:b", "1:x", "", "c"}));
  EXPECT_EQ(again.at(t).evolved_at, 0x3000u);
  again.set(t, TablePhase::Copying);
  EXPECT_TRUE(TableStates(store, tables).at(t).dropped_columns.empty());
}

TEST(TableGate, ColumnsRenamedAreRecognisedAndReadAgainByTheirOldNames) {
  const auto t = table("t", {{"id", 23}, {"v", 23}, {"w", 25}});
  using Renames = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(logical::columns_renamed(t, relation({{"id", 23}, {"v2", 23}, {"w", 25}})), (Renames{{"v", "v2"}}));
  EXPECT_TRUE(logical::columns_renamed(t, relation({{"id", 23}, {"v2", 20}, {"w", 25}})).empty()) << "retyped";
  EXPECT_TRUE(logical::columns_renamed(t, relation({{"id", 23}, {"v", 23}})).empty());
  EXPECT_TRUE(logical::columns_renamed(t, relation({{"id", 23}, {"v", 23}, {"w", 25}})).empty()) << "unchanged";

  // v renamed to v2 and then to v3, w dropped, x added: rows from before all that.
  const auto now = table("t", {{"id", 23}, {"v3", 23}, {"x", 25}});
  const auto older = logical::older_shape_of(now, relation({{"id", 23}, {"v", 23}, {"w", 25}}), {"w"},
                                             Renames{{"v", "v2"}, {"v2", "v3"}});
  ASSERT_TRUE(older);
  EXPECT_EQ(older->index, (std::vector<int>{0, 1, -1}));
  EXPECT_FALSE(logical::older_shape_of(now, relation({{"id", 23}, {"v", 23}}), {"w"})) << "v not known as renamed";
}

TEST(TableStates, RenamedColumnsAreRecordedInOrder) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}});
  const pipeline::TableSchema* tables[] = {&t};
  {
    TableStates states(store, tables);
    states.set(t, TablePhase::Streaming);
    states.evolved(t, 0x2000, {}, {{"a", "b"}});
    states.evolved(t, 0x3000, {"x"}, {{"b", "c:d"}});
  }
  TableStates again(store, tables);
  EXPECT_EQ(again.at(t).renamed_columns, (std::vector<std::pair<std::string, std::string>>{{"a", "b"}, {"b", "c:d"}}));
  EXPECT_EQ(again.at(t).dropped_columns, (std::vector<std::string>{"x"}));
}


// Fast defaults are binary (PostgreSQL's format): they survive the store, and a table that catches
// up keeps what its changes in place recorded while it caught up.
TEST(TableStates, FastDefaultsAreRecordedAsBinaryAndKeptWhenTheTableCatchesUp) {
  MemoryStore store;
  auto t = table("t", {{"id", 23}});
  const pipeline::TableSchema* tables[] = {&t};
  const std::string value("\0\x01\xff\x7f", 4);
  {
    TableStates states(store, tables);
    states.set(t, TablePhase::CatchingUp, 0x1000);
    states.evolved(t, 0x2000, {"gone"}, {{"a", "b"}}, {{"d", value}, {"e", ""}});
    states.caught_up(tables);
  }
  TableStates again(store, tables);
  EXPECT_EQ(again.phase(t), TablePhase::Streaming);
  EXPECT_EQ(again.at(t).evolved_at, 0x2000u);
  EXPECT_EQ(again.at(t).dropped_columns, (std::vector<std::string>{"gone"}));
  EXPECT_EQ(again.at(t).missing_values,
            (std::vector<std::pair<std::string, std::string>>{{"d", value}, {"e", ""}}));
  EXPECT_FALSE(again.changed_since_recorded(t));
}

TEST(TableGate, AnOlderShapeGetsTheFastDefaultsOfTheColumnsAddedSince) {
  const auto t = table("t", {{"id", 23}, {"v", 23}, {"d", 23}, {"plain", 23}, {"later", 23}});
  const auto older = logical::older_shape_of(t, relation({{"id", 23}, {"w", 23}}), {}, {{"w", "v"}},
                                             {{"d", "seven"}, {"x", "elsewhere"}, {"former", "renamed"}});
  ASSERT_TRUE(older);
  EXPECT_EQ(older->index, (std::vector<int>{0, 1}));
  EXPECT_EQ(older->filled, (std::vector<std::pair<int, std::string>>{{2, "seven"}}));
  const auto renamed = logical::older_shape_of(t, relation({{"id", 23}, {"v", 23}}), {}, {{"former", "later"}},
                                               {{"former", "renamed"}});
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->filled, (std::vector<std::pair<int, std::string>>{{4, "renamed"}}))
      << "a column added with a default and renamed since";
}

}  // namespace
}  // namespace pg2ch::capture::table_sync

#pragma once
// Folds what a topic holds into the latest state per key, the way a consumer would: per
// partition in offset order (a key always lives on one partition), c/u/r set the row, d and
// tombstones remove it, op t empties the partition it was sent to.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/kafka_broker.h"
#include "support/test_database.h"
#include "support/wait.h"

namespace pg2ch::test {

struct FoldedTopic {
  std::map<std::string, std::string> rows;  // message key → value JSON of the latest event
  std::map<std::string, int> ops;           // op → count ("tombstone" for null values)
};

inline std::string op_of(const rapidjson::Document& v) {
  if (v.HasMember("op")) return v["op"].GetString();
  if (v.HasMember("__op")) return v["__op"].GetString();
  return "?";
}

inline FoldedTopic fold(const std::vector<KafkaMessage>& messages) {
  FoldedTopic out;
  std::map<int, std::map<std::string, std::string>> by_partition;
  for (const auto& m : messages) {
    auto& part = by_partition[m.partition];
    if (!m.value) {
      ++out.ops["tombstone"];
      if (m.key) part.erase(*m.key);
      continue;
    }
    rapidjson::Document v;
    v.Parse(m.value->c_str(), m.value->size());
    const std::string op = op_of(v);
    ++out.ops[op];
    if (op == "t") {
      part.clear();
    } else if (op == "d") {
      part.erase(m.key.value_or(""));
    } else {
      part[m.key.value_or("")] = *m.value;
    }
  }
  for (auto& [_, part] : by_partition) out.rows.merge(part);
  return out;
}

// A JSON field as the text PostgreSQL prints for it (NULL as "\N", like TestDatabase::pg_rows).
inline std::string as_pg_text(const rapidjson::Value& v) {
  if (v.IsNull()) return kNull;
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "t" : "f";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  return fmt::format("{}", v.GetDouble());
}

// The "after" images of a folded debezium topic as rows of `columns`, sorted like `ORDER BY` the
// first column would for integers.
inline Rows after_rows(const FoldedTopic& f, const std::vector<std::string>& columns) {
  Rows rows;
  for (const auto& [_, value] : f.rows) {
    rapidjson::Document v;
    v.Parse(value.c_str(), value.size());
    std::vector<std::string> row;
    for (const auto& c : columns) row.push_back(as_pg_text(v["after"][c.c_str()]));
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return std::stoll(a[0]) < std::stoll(b[0]); });
  return rows;
}

inline std::string row_text(const std::vector<std::string>& row) {
  std::string out;
  for (const auto& v : row) out += (out.empty() ? "" : "|") + v;
  return out;
}

inline std::string first_difference(const Rows& a, const Rows& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) {
      return "; first difference at row " + std::to_string(i) + ": " + row_text(a[i]) + " vs " + row_text(b[i]);
    }
  }
  return "";
}

// Waits until the topic of `table` ("pg2ch.public.<table>", debezium format), folded in offset
// order as a compacting consumer would (the last event of each key, truncates applied), holds
// exactly the source's rows of `columns` (the first one an integer key).
inline ::testing::AssertionResult folded_topic_equals_source(TestDatabase& db, const KafkaBroker& broker,
                                                             const std::string& table,
                                                             const std::vector<std::string>& columns,
                                                             std::chrono::seconds timeout = std::chrono::seconds(120)) {
  Rows pg, kafka;
  std::string select;
  for (const auto& c : columns) select += (select.empty() ? "" : ", ") + c + "::text";
  if (wait_until(
          [&] {
            pg = db.pg_rows("SELECT " + select + " FROM " + table + " ORDER BY " + table + "." + columns.front());
            kafka = after_rows(fold(broker.read_all("pg2ch.public." + table)), columns);
            return pg == kafka;
          },
          timeout, std::chrono::seconds(1))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << table << ": PostgreSQL has " << pg.size() << " rows, the folded topic "
                                       << kafka.size() << first_difference(pg, kafka);
}

}  // namespace pg2ch::test

#pragma once
// Folds what a topic holds into the latest state per key, the way a consumer would: per
// partition in offset order (a key always lives on one partition), c/u/r set the row, d and
// tombstones remove it, op t empties the partition it was sent to.
#include <rapidjson/document.h>

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "support/kafka_broker.h"
#include "support/test_database.h"

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

}  // namespace pg2ch::test

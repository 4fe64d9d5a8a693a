#pragma once
// A row whose values outlive the capture's receive buffer (rows waiting for TOAST values,
// keys sent to a fetch query). Cold path: one allocation per value is fine here.
#include <span>
#include <string>
#include <vector>

#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::pipeline {

struct OwnedValue {
  ValueRef::Kind kind = ValueRef::Kind::Null;
  std::string data;
};

struct OwnedRow {
  std::vector<OwnedValue> values;

  static OwnedRow copy_of(std::span<const ValueRef> row) {
    OwnedRow r;
    r.values.reserve(row.size());
    for (const auto& v : row) r.values.push_back({v.kind, std::string(v.data)});
    return r;
  }
  std::vector<ValueRef> refs() const {
    std::vector<ValueRef> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back({v.kind, v.data});
    return out;
  }
};

// Looks up the current source rows for a set of keys in one round trip. Used to fill unchanged
// TOAST columns (and later for key-only outbox/Kafka events). Implemented over libpq in pg/.
class CurrentRowFetcher {
 public:
  virtual ~CurrentRowFetcher() = default;
  // `keys[i]` holds source-ordered values where key columns are set. Returns, per key, the full
  // current row (source order) or an empty OwnedRow when the row no longer exists.
  virtual std::vector<OwnedRow> fetch(const TableSchema& table, const std::vector<OwnedRow>& keys) = 0;
};

}  // namespace pg2ch::pipeline

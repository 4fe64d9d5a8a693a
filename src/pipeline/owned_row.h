#pragma once
// A row whose values outlive the capture's receive buffer (rows waiting for TOAST values,
// keys sent to a fetch query). Cold path: one allocation per value is fine here.
#include <cstdint>
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
// TOAST columns and to answer key-only Kafka events. Implemented over libpq in pg/.
//
// "Current" is the fetch's snapshot, and a snapshot can be OLDER than a change pg2ch already
// holds: PostgreSQL writes a commit record (which logical decoding may send at once) before the
// transaction leaves the proc array, and with synchronous replication it waits for the standby
// in between. A row read in that window is the state before the change, and written under the
// change's version it would stay final. So callers pass the transactions their changes came from
// (`must_see`), and the answer is read by a snapshot that sees all of them.
class CurrentRowFetcher {
 public:
  virtual ~CurrentRowFetcher() = default;
  // `keys[i]` holds source-ordered values where key columns are set. Returns, per key, the full
  // current row (source order) or an empty OwnedRow when the row no longer exists.
  // `must_see`: source transaction ids (pgoutput's 32-bit xids, or full 64-bit ones) whose
  // changes the answer must include; the fetch waits until they are visible (bounded: then it
  // throws a retriable Error). Empty: any snapshot will do (changes known to be visible).
  virtual std::vector<OwnedRow> fetch(const TableSchema& table, const std::vector<OwnedRow>& keys,
                                      std::span<const std::uint64_t> must_see) = 0;
};

}  // namespace pg2ch::pipeline

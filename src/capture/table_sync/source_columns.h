#pragma once
// A table's source columns as its state records them (TableState::source_columns): enough to
// tell, at a start, what changed while pg2ch was stopped (capture/table_sync/offline_changes.h):
// each live column's attribute number, name, declared type and typmod, NOT NULL and key flags,
// and the table's relfilenode (a rewrite since gives every row values of its own).
//
// Text: "<relfilenode>" then per column ";<attnum>,<type oid>,<typmod>,<not null 0|1>,<key 0|1>,
// <name length>:<name>" (a name may hold any character).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/table_schema.h"

namespace pg2ch::capture::table_sync {

struct RecordedColumn {
  int attnum = 0;
  std::string name;
  std::uint32_t type_oid = 0;
  std::int32_t typmod = -1;
  bool not_null = false;
  bool is_key = false;
  bool operator==(const RecordedColumn&) const = default;
};

struct RecordedColumns {
  std::uint32_t relfilenode = 0;
  std::vector<RecordedColumn> columns;
};

std::string encode_source_columns(const pipeline::TableSchema& table);
// nullopt for an empty or malformed text (then nothing is followed: the start does what it did
// before pg2ch recorded columns).
std::optional<RecordedColumns> decode_source_columns(std::string_view text);

}  // namespace pg2ch::capture::table_sync

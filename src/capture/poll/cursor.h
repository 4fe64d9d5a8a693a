#pragma once
// A position in one table's keyset order: the watermark value and the key values after it, all in
// PostgreSQL's text form (they go back to the server as typed text parameters, and into the
// state store readable by an operator). An absent cursor (std::nullopt) is "before every row".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg2ch::capture::poll {

struct Cursor {
  std::string watermark;
  std::vector<std::string> keys;   // order columns after the watermark (primary key without it)

  bool operator==(const Cursor&) const = default;
};

// The state store value for a table's checkpoint: the watermark column's name (so changing the
// column starts the table over instead of comparing unrelated values) and the cursor.
// Length-prefixed so any text survives: "v1 <n>:<column> <n>:<watermark> <n>:<key>...".
std::string encode_checkpoint(std::string_view column, const Cursor& cursor);
struct Checkpoint {
  std::string column;
  Cursor cursor;
};
// nullopt when `text` is not a checkpoint this version wrote.
std::optional<Checkpoint> decode_checkpoint(std::string_view text);

}  // namespace pg2ch::capture::poll

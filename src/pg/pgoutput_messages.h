#pragma once
// The pgoutput logical replication messages, protocol version 1 (PostgreSQL docs, "Logical
// Replication Message Formats"), as plain structs shared by pgoutput_decoder and
// pgoutput_encoder.
//
// Every string and value is a std::string_view into the decoded payload: valid until the
// decoder's next decode() call (or for as long as the encoder's input lives). Consumers that
// keep anything (the relation cache) copy it.
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/lsn.h"

namespace pg2ch::pg::pgoutput {

// The first byte of each message.
enum class MessageType : char {
  Begin = 'B',
  Commit = 'C',
  Origin = 'O',
  Relation = 'R',
  Type = 'Y',
  Insert = 'I',
  Update = 'U',
  Delete = 'D',
  Truncate = 'T',
  Message = 'M',
};

// One column of a TupleData.
enum class ValueKind : char {
  Null = 'n',
  UnchangedToast = 'u',   // TOASTed value not changed by this UPDATE: not sent, keep the old one
  Text = 't',             // output function text
  Binary = 'b',           // send function bytes (with the 'binary' option, for types that have one)
};

struct TupleValue {
  ValueKind kind = ValueKind::Null;
  std::string_view data;   // empty for Null and UnchangedToast
};

using Tuple = std::vector<TupleValue>;

// Which old row image an Update or Delete carries.
enum class OldTupleKind : char {
  None = 0,      // Update only: no old image (key unchanged, replica identity default/index)
  Key = 'K',     // only the replica identity columns are set, the others are Null
  Full = 'O',    // REPLICA IDENTITY FULL: the whole old row
};

struct Begin {
  Lsn final_lsn = kInvalidLsn;     // LSN of the commit record
  std::int64_t commit_time = 0;    // PG epoch microseconds
  std::uint32_t xid = 0;
};

struct Commit {
  std::uint8_t flags = 0;          // currently unused by PostgreSQL (always 0)
  Lsn commit_lsn = kInvalidLsn;
  Lsn end_lsn = kInvalidLsn;       // end of the commit record: what to confirm as flushed
  std::int64_t commit_time = 0;    // PG epoch microseconds
};

struct Origin {
  Lsn commit_lsn = kInvalidLsn;    // commit LSN on the origin server
  std::string_view name;
};

struct RelationColumn {
  std::uint8_t flags = 0;          // bit 1: part of the replica identity key
  std::string_view name;
  std::uint32_t type_oid = 0;
  std::int32_t type_modifier = -1;
  bool is_key() const noexcept { return (flags & 1) != 0; }
};

struct Relation {
  std::uint32_t oid = 0;
  std::string_view namespace_name;  // empty string means pg_catalog
  std::string_view name;
  char replica_identity = 'd';      // relreplident: 'd' default, 'n' nothing, 'f' full, 'i' index
  std::vector<RelationColumn> columns;
};

// Sent before the first Relation that uses a non-built-in type.
struct Type {
  std::uint32_t oid = 0;
  std::string_view namespace_name;  // empty string means pg_catalog
  std::string_view name;
};

struct Insert {
  std::uint32_t relation_oid = 0;
  Tuple new_tuple;
};

struct Update {
  std::uint32_t relation_oid = 0;
  OldTupleKind old_kind = OldTupleKind::None;
  Tuple old_tuple;                  // empty when old_kind is None
  Tuple new_tuple;
  bool has_old() const noexcept { return old_kind != OldTupleKind::None; }
};

struct Delete {
  std::uint32_t relation_oid = 0;
  OldTupleKind old_kind = OldTupleKind::Key;   // Key or Full, never None
  Tuple old_tuple;
};

struct Truncate {
  static constexpr std::uint8_t kCascade = 1;
  static constexpr std::uint8_t kRestartIdentity = 2;
  std::uint8_t options = 0;
  std::vector<std::uint32_t> relation_oids;
  bool cascade() const noexcept { return (options & kCascade) != 0; }
  bool restart_identity() const noexcept { return (options & kRestartIdentity) != 0; }
};

// pg_logical_emit_message() output (only sent with the 'messages' option).
struct LogicalMessage {
  static constexpr std::uint8_t kTransactional = 1;
  std::uint8_t flags = 0;
  Lsn lsn = kInvalidLsn;
  std::string_view prefix;
  std::string_view content;
  bool transactional() const noexcept { return (flags & kTransactional) != 0; }
};

}  // namespace pg2ch::pg::pgoutput

#include "pg/pgoutput_decoder.h"

#include <fmt/format.h>

#include "common/error.h"
#include "pg/wire_reader.h"

namespace pg2ch::pg {
namespace {

using namespace pgoutput;

std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("0x{:02x}", u);
}

// Reads an int16/int32 element count and checks that at least `min_bytes_each` bytes per
// element remain, so garbage counts cannot trigger a huge allocation before the overrun check.
std::size_t read_count(WireReader& r, std::int64_t count, std::size_t min_bytes_each, const char* what) {
  if (count < 0) r.fail(fmt::format("negative {} {}", what, count));
  const auto n = static_cast<std::size_t>(count);
  if (n > r.remaining() / min_bytes_each) {
    r.fail(fmt::format("{} {} exceeds the {} bytes left", what, n, r.remaining()));
  }
  return n;
}

void read_tuple(WireReader& r, Tuple& tuple) {
  const std::size_t ncols = read_count(r, r.i16(), 1, "column count");
  tuple.resize(ncols);
  for (TupleValue& v : tuple) {
    const char kind = r.ch();
    switch (kind) {
      case static_cast<char>(ValueKind::Null):
      case static_cast<char>(ValueKind::UnchangedToast):
        v.kind = static_cast<ValueKind>(kind);
        v.data = {};
        break;
      case static_cast<char>(ValueKind::Text):
      case static_cast<char>(ValueKind::Binary):
        v.kind = static_cast<ValueKind>(kind);
        v.data = r.bytes_i32(r.i32());
        break;
      default:
        r.fail(fmt::format("unknown tuple value kind {}", describe_byte(kind)));
    }
  }
}

void expect_byte(WireReader& r, char expected, const char* what) {
  const char got = r.ch();
  if (got != expected) {
    r.fail(fmt::format("expected {} marker '{}', got {}", what, expected, describe_byte(got)));
  }
}

}  // namespace

PgoutputDecoder::MessageType PgoutputDecoder::decode(std::string_view payload) {
  if (payload.empty()) throw ProtocolError("pgoutput: empty message at offset 0");
  // Each body reader consumes exactly its message; leftover bytes mean a protocol mismatch.
  const auto run = [&](const char* what, void (PgoutputDecoder::*body)(WireReader&), MessageType type) {
    WireReader r(payload, what);
    r.skip(1);
    (this->*body)(r);
    r.expect_end();
    return type;
  };
  const char tag = payload.front();
  switch (tag) {
    case 'B': return run("pgoutput Begin", &PgoutputDecoder::decode_begin, MessageType::Begin);
    case 'C': return run("pgoutput Commit", &PgoutputDecoder::decode_commit, MessageType::Commit);
    case 'O': return run("pgoutput Origin", &PgoutputDecoder::decode_origin, MessageType::Origin);
    case 'R': return run("pgoutput Relation", &PgoutputDecoder::decode_relation, MessageType::Relation);
    case 'Y': return run("pgoutput Type", &PgoutputDecoder::decode_type, MessageType::Type);
    case 'I': return run("pgoutput Insert", &PgoutputDecoder::decode_insert, MessageType::Insert);
    case 'U': return run("pgoutput Update", &PgoutputDecoder::decode_update, MessageType::Update);
    case 'D': return run("pgoutput Delete", &PgoutputDecoder::decode_delete, MessageType::Delete);
    case 'T': return run("pgoutput Truncate", &PgoutputDecoder::decode_truncate, MessageType::Truncate);
    case 'M': return run("pgoutput Message", &PgoutputDecoder::decode_message, MessageType::Message);
    default:
      // Includes the protocol 2+ tags (stream start/stop/commit/abort, two-phase), which we
      // never ask for: receiving one means the slot was started with other options.
      throw ProtocolError(fmt::format("pgoutput: unknown message tag {} at offset 0", describe_byte(tag)));
  }
}

void PgoutputDecoder::decode_begin(WireReader& r) {
  begin_.final_lsn = r.u64();
  begin_.commit_time = r.i64();
  begin_.xid = r.u32();
}

void PgoutputDecoder::decode_commit(WireReader& r) {
  commit_.flags = r.u8();
  commit_.commit_lsn = r.u64();
  commit_.end_lsn = r.u64();
  commit_.commit_time = r.i64();
}

void PgoutputDecoder::decode_origin(WireReader& r) {
  origin_.commit_lsn = r.u64();
  origin_.name = r.cstring();
}

void PgoutputDecoder::decode_relation(WireReader& r) {
  relation_.oid = r.u32();
  relation_.namespace_name = r.cstring();
  relation_.name = r.cstring();
  const char identity = r.ch();
  switch (identity) {
    case 'd': case 'n': case 'f': case 'i': break;
    default: r.fail(fmt::format("unknown replica identity {}", describe_byte(identity)));
  }
  relation_.replica_identity = identity;
  // flags(1) + name NUL(1) + type oid(4) + typmod(4)
  const std::size_t ncols = read_count(r, r.i16(), 10, "column count");
  relation_.columns.resize(ncols);
  for (RelationColumn& c : relation_.columns) {
    c.flags = r.u8();
    c.name = r.cstring();
    c.type_oid = r.u32();
    c.type_modifier = r.i32();
  }
}

void PgoutputDecoder::decode_type(WireReader& r) {
  type_.oid = r.u32();
  type_.namespace_name = r.cstring();
  type_.name = r.cstring();
}

void PgoutputDecoder::decode_insert(WireReader& r) {
  insert_.relation_oid = r.u32();
  expect_byte(r, 'N', "new tuple");
  read_tuple(r, insert_.new_tuple);
}

void PgoutputDecoder::decode_update(WireReader& r) {
  update_.relation_oid = r.u32();
  char marker = r.ch();
  if (marker == 'K' || marker == 'O') {
    update_.old_kind = static_cast<OldTupleKind>(marker);
    read_tuple(r, update_.old_tuple);
    marker = r.ch();
  } else {
    update_.old_kind = OldTupleKind::None;
    update_.old_tuple.clear();
  }
  if (marker != 'N') r.fail(fmt::format("expected 'K', 'O' or 'N' marker, got {}", describe_byte(marker)));
  read_tuple(r, update_.new_tuple);
}

void PgoutputDecoder::decode_delete(WireReader& r) {
  delete_.relation_oid = r.u32();
  const char marker = r.ch();
  if (marker != 'K' && marker != 'O') r.fail(fmt::format("expected 'K' or 'O' marker, got {}", describe_byte(marker)));
  delete_.old_kind = static_cast<OldTupleKind>(marker);
  read_tuple(r, delete_.old_tuple);
}

void PgoutputDecoder::decode_truncate(WireReader& r) {
  const std::int32_t count = r.i32();
  truncate_.options = r.u8();
  const std::size_t n = read_count(r, count, 4, "relation count");
  truncate_.relation_oids.resize(n);
  for (std::uint32_t& oid : truncate_.relation_oids) oid = r.u32();
}

void PgoutputDecoder::decode_message(WireReader& r) {
  message_.flags = r.u8();
  message_.lsn = r.u64();
  message_.prefix = r.cstring();
  message_.content = r.bytes_i32(r.i32());
}

}  // namespace pg2ch::pg

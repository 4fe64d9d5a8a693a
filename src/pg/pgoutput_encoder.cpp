#include "pg/pgoutput_encoder.h"

#include <limits>

#include "common/error.h"
#include "pg/wire_writer.h"

namespace pg2ch::pg::pgoutput {
namespace {

// The wire counts are int16/int32: refuse what the format cannot express instead of wrapping.
template <class Int>
Int checked_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(std::numeric_limits<Int>::max())) {
    throw Error(ErrorKind::Internal, std::string("pgoutput encoder: too many ") + what);
  }
  return static_cast<Int>(n);
}

void write_tuple(WireWriter& w, const Tuple& tuple) {
  w.i16(checked_count<std::int16_t>(tuple.size(), "tuple columns"));
  for (const TupleValue& v : tuple) {
    w.ch(static_cast<char>(v.kind));
    if (v.kind == ValueKind::Text || v.kind == ValueKind::Binary) {
      w.i32(checked_count<std::int32_t>(v.data.size(), "value bytes")).bytes(v.data);
    }
  }
}

}  // namespace

void encode(const Begin& m, std::string& out) {
  WireWriter(out).ch(static_cast<char>(MessageType::Begin)).u64(m.final_lsn).i64(m.commit_time).u32(m.xid);
}

void encode(const Commit& m, std::string& out) {
  WireWriter(out)
      .ch(static_cast<char>(MessageType::Commit))
      .u8(m.flags)
      .u64(m.commit_lsn)
      .u64(m.end_lsn)
      .i64(m.commit_time);
}

void encode(const Origin& m, std::string& out) {
  WireWriter(out).ch(static_cast<char>(MessageType::Origin)).u64(m.commit_lsn).cstring(m.name);
}

void encode(const Relation& m, std::string& out) {
  WireWriter w(out);
  w.ch(static_cast<char>(MessageType::Relation)).u32(m.oid).cstring(m.namespace_name).cstring(m.name);
  w.ch(m.replica_identity).i16(checked_count<std::int16_t>(m.columns.size(), "relation columns"));
  for (const RelationColumn& c : m.columns) w.u8(c.flags).cstring(c.name).u32(c.type_oid).i32(c.type_modifier);
}

void encode(const Type& m, std::string& out) {
  WireWriter(out).ch(static_cast<char>(MessageType::Type)).u32(m.oid).cstring(m.namespace_name).cstring(m.name);
}

void encode(const Insert& m, std::string& out) {
  WireWriter w(out);
  w.ch(static_cast<char>(MessageType::Insert)).u32(m.relation_oid).ch('N');
  write_tuple(w, m.new_tuple);
}

void encode(const Update& m, std::string& out) {
  WireWriter w(out);
  w.ch(static_cast<char>(MessageType::Update)).u32(m.relation_oid);
  if (m.has_old()) {
    w.ch(static_cast<char>(m.old_kind));
    write_tuple(w, m.old_tuple);
  }
  w.ch('N');
  write_tuple(w, m.new_tuple);
}

void encode(const Delete& m, std::string& out) {
  WireWriter w(out);
  w.ch(static_cast<char>(MessageType::Delete)).u32(m.relation_oid).ch(static_cast<char>(m.old_kind));
  write_tuple(w, m.old_tuple);
}

void encode(const Truncate& m, std::string& out) {
  WireWriter w(out);
  w.ch(static_cast<char>(MessageType::Truncate))
      .i32(checked_count<std::int32_t>(m.relation_oids.size(), "truncated relations"))
      .u8(m.options);
  for (std::uint32_t oid : m.relation_oids) w.u32(oid);
}

void encode(const LogicalMessage& m, std::string& out) {
  WireWriter(out)
      .ch(static_cast<char>(MessageType::Message))
      .u8(m.flags)
      .u64(m.lsn)
      .cstring(m.prefix)
      .i32(checked_count<std::int32_t>(m.content.size(), "message bytes"))
      .bytes(m.content);
}

}  // namespace pg2ch::pg::pgoutput

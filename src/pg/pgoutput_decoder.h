#pragma once
// Decoder for pgoutput protocol version 1: one call per XLogData payload.
//
// Design note: the decoder is a reusable object rather than a function returning a variant so
// that steady-state decoding allocates nothing: each message kind has a member struct whose
// vectors keep their capacity between messages, and every string/value is a view into the
// payload. Everything returned by the accessors is therefore valid only until the next
// decode() and only while the payload bytes are alive. Only the accessor matching the type
// returned by the last decode() is meaningful.
//
// Every tag byte (message, tuple kind, old-tuple marker, replica identity) is checked and every
// read is bounds-checked; a malformed payload throws ProtocolError with the offset, never UB.
// The encoders for the same layouts are in pgoutput_encoder.h.
#include <string>
#include <string_view>

#include "pg/pgoutput_messages.h"

namespace pg2ch::pg {

class WireReader;

class PgoutputDecoder {
 public:
  using MessageType = pgoutput::MessageType;

  MessageType decode(std::string_view payload);
  // The results are views into the payload: decoding a temporary string would leave them
  // dangling, so that is a compile error.
  MessageType decode(std::string&&) = delete;

  const pgoutput::Begin& begin() const noexcept { return begin_; }
  const pgoutput::Commit& commit() const noexcept { return commit_; }
  const pgoutput::Origin& origin() const noexcept { return origin_; }
  const pgoutput::Relation& relation() const noexcept { return relation_; }
  const pgoutput::Type& type() const noexcept { return type_; }
  const pgoutput::Insert& insert() const noexcept { return insert_; }
  const pgoutput::Update& update() const noexcept { return update_; }
  const pgoutput::Delete& remove() const noexcept { return delete_; }
  const pgoutput::Truncate& truncate() const noexcept { return truncate_; }
  const pgoutput::LogicalMessage& message() const noexcept { return message_; }

 private:
  void decode_begin(WireReader& r);
  void decode_commit(WireReader& r);
  void decode_origin(WireReader& r);
  void decode_relation(WireReader& r);
  void decode_type(WireReader& r);
  void decode_insert(WireReader& r);
  void decode_update(WireReader& r);
  void decode_delete(WireReader& r);
  void decode_truncate(WireReader& r);
  void decode_message(WireReader& r);

  pgoutput::Begin begin_;
  pgoutput::Commit commit_;
  pgoutput::Origin origin_;
  pgoutput::Relation relation_;
  pgoutput::Type type_;
  pgoutput::Insert insert_;
  pgoutput::Update update_;
  pgoutput::Delete delete_;
  pgoutput::Truncate truncate_;
  pgoutput::LogicalMessage message_;
};

}  // namespace pg2ch::pg

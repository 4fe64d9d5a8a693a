#pragma once
// Encoders for pgoutput protocol version 1: the exact inverse of PgoutputDecoder, one function
// per message kind (as PostgreSQL's proto.c pairs logicalrep_write_* with logicalrep_read_*).
// pg2ch never sends these to a server; they exist for round-trip tests, fuzz seeds and replaying
// captured streams. Each appends one complete message (tag included) to `out`.
#include <string>

#include "pg/pgoutput_messages.h"

namespace pg2ch::pg::pgoutput {

void encode(const Begin& m, std::string& out);
void encode(const Commit& m, std::string& out);
void encode(const Origin& m, std::string& out);
void encode(const Relation& m, std::string& out);
void encode(const Type& m, std::string& out);
void encode(const Insert& m, std::string& out);
void encode(const Update& m, std::string& out);   // old tuple written only when has_old()
void encode(const Delete& m, std::string& out);
void encode(const Truncate& m, std::string& out);
void encode(const LogicalMessage& m, std::string& out);

template <class M>
std::string encoded(const M& m) {
  std::string out;
  encode(m, out);
  return out;
}

}  // namespace pg2ch::pg::pgoutput

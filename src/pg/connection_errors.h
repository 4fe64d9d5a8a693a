#pragma once
// Internal to pg/: turns libpq failures into classified pg2ch::Error values (the public entry
// points error_from_result / error_from_connection are declared in connection.h). Kept apart
// from connection.cpp because the classification tables change for different reasons than the
// handle management does.
#include <libpq-fe.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/error.h"

namespace pg2ch::pg {
class Result;
}

namespace pg2ch::pg::detail {

struct Classification {
  ErrorKind kind;
  std::string hint;
  bool retriable;
};

// SQLSTATE of a failed statement -> kind/hint/retriable (authoritative when present).
Classification classify_sqlstate(std::string_view sqlstate, std::string_view address);
// Message text of a failed connection or libpq-generated error; false when nothing matched
// (`out` untouched: the caller's default stands).
bool classify_text(std::string_view message, std::string_view address, Classification& out);

// libpq messages are multi-line ("...failed: Connection refused\n\tIs the server running...");
// operators get one line: whitespace runs collapse to one space, ends trimmed. Every non-empty
// secret is replaced by "***" (libpq does not echo passwords, but a scrub is cheap insurance).
std::string clean_message(std::string_view raw, std::initializer_list<std::string_view> secrets = {});

// "host:port" of the server the connection talks (or tried to talk) to, for hints.
std::string server_address(PGconn* conn);

// error_from_result with a known server address (used by Connection, which has one).
Error error_from_result(const Result& r, std::string_view context, std::string_view address);

// error_from_connection that also scrubs `secrets` (the conninfo string and its password).
Error error_from_connection(PGconn* conn, std::string_view context, std::initializer_list<std::string_view> secrets);

}  // namespace pg2ch::pg::detail

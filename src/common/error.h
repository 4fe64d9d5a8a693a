#pragma once
// Error policy for the whole code base: exceptions.
//
// Every layer throws pg2ch::Error (or a subclass) for a failure that ends the current operation;
// the normal path of the hot loops (decoding, encoding) never throws, so exceptions cost nothing
// there. Each Error carries its own classification (like librdkafka's rd_kafka_error_t) so the
// caller never guesses: `kind` says what failed, `retriable()` says whether trying again may help,
// and `hint` tells the operator what to do. Messages name the object (table, column, setting)
// and never contain secrets or row values.
#include <stdexcept>
#include <string>
#include <string_view>

namespace pg2ch {

enum class ErrorKind {
  Config,       // bad or missing setting: fix the config and restart
  Connection,   // server unreachable / connection lost: retriable
  Auth,         // wrong password, no such user
  Permission,   // missing privilege
  Schema,       // missing table, no primary key, unsupported type, schema changed
  Data,         // a value that cannot be represented in the target
  Protocol,     // malformed bytes from a server: a bug or corruption
  Server,       // a server rejected a statement (may be retriable, see retriable())
  Internal,     // programmer error
};

std::string_view to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {}, bool retriable = false);

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& hint() const noexcept { return hint_; }
  bool retriable() const noexcept { return retriable_; }

  // "<message> (hint: <hint>)" — the one line printed to the operator.
  std::string one_line() const;

 private:
  ErrorKind kind_;
  std::string hint_;
  bool retriable_;
};

// Wire-format decoders throw this: bounds violation or unknown tag, with the byte offset.
class ProtocolError : public Error {
 public:
  explicit ProtocolError(std::string message) : Error(ErrorKind::Protocol, std::move(message)) {}
};

// Rethrow with an added "while ..." context, keeping kind, hint and retriability.
[[noreturn]] void rethrow_with_context(const Error& e, std::string_view context);

}  // namespace pg2ch

#include "common/error.h"

namespace pg2ch {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Config: return "config";
    case ErrorKind::Connection: return "connection";
    case ErrorKind::Auth: return "auth";
    case ErrorKind::Permission: return "permission";
    case ErrorKind::Schema: return "schema";
    case ErrorKind::Data: return "data";
    case ErrorKind::Protocol: return "protocol";
    case ErrorKind::Server: return "server";
    case ErrorKind::Internal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorKind kind, std::string message, std::string hint, bool retriable)
    : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)), retriable_(retriable) {}

std::string Error::one_line() const {
  std::string line = what();
  if (!hint_.empty()) line += " (hint: " + hint_ + ")";
  return line;
}

void rethrow_with_context(const Error& e, std::string_view context) {
  throw Error(e.kind(), std::string(e.what()) + " (while " + std::string(context) + ")", e.hint(), e.retriable());
}

}  // namespace pg2ch

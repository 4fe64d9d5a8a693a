#include "service/exit_codes.h"

namespace pg2ch::service {

bool is_transient(const Error& e) { return e.retriable() || e.kind() == ErrorKind::Connection; }

ExitCode exit_code_for(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::Config: return ExitCode::Config;
    case ErrorKind::Auth:
    case ErrorKind::Permission: return ExitCode::AuthOrPermission;
    case ErrorKind::Schema: return ExitCode::SourceSchema;
    case ErrorKind::Data: return ExitCode::Data;
    case ErrorKind::Connection:
    case ErrorKind::Protocol:
    case ErrorKind::Server:
    case ErrorKind::Internal: return ExitCode::Internal;
  }
  return ExitCode::Internal;
}

ExitCode exit_code_for(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return exit_code_for(e);
  } catch (...) {
    return ExitCode::Internal;
  }
}

}  // namespace pg2ch::service

#pragma once
// The error policy's two answers for an error that ends a pipeline's run: try again in this
// process (transient), or stop with an exit code that tells the init system whether a restart
// can help. systemd's unit names the operator classes in RestartPreventExitStatus= so a wrong
// password is not restarted as eagerly as a network blip.
//
//   0  stopped cleanly (SIGTERM/SIGINT, --until-caught-up reached)
//   1  internal or unexpected error: a restart may help
//   2  configuration: fix the config or the command line
//   3  `status` only: something needs attention
//   4  authentication or permission: fix the role, password or grants
//   5  source schema: a table, key, type or slot the pipeline cannot work with, or changes lost
//      before they were read (slot invalidated, Kafka messages deleted by retention): a resync
//   6  data: a value the target cannot hold (the error names table, column and value)
#include <exception>

#include "common/error.h"

namespace pg2ch::service {

enum class ExitCode : int {
  Ok = 0,
  Internal = 1,
  Config = 2,
  NeedsAttention = 3,
  AuthOrPermission = 4,
  SourceSchema = 5,
  Data = 6,
};

// Transient: the server is away or overloaded, a connection broke, Kafka could not deliver for a
// while. Retrying the run from its last acknowledged position is always safe (nothing is
// acknowledged before it is durable), so the pipeline stays up and retries.
bool is_transient(const Error& e);

// The exit code of an error that is not transient (or of one the caller gives up on).
ExitCode exit_code_for(const Error& e);

// For any exception: pg2ch::Error by its kind, anything else Internal.
ExitCode exit_code_for(const std::exception_ptr& error);

}  // namespace pg2ch::service

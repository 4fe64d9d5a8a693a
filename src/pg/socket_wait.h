#pragma once
// The wait of libpq's asynchronous loops (the replication stream, slot creation): poll the
// connection's socket for up to `timeout`, then let libpq read what arrived (PQconsumeInput).
// A signal (EINTR) ends the wait early like a timeout, so the caller looks at its stop flag.
// Throws Error(Connection, retriable) naming `context` when the socket or connection fails.
#include <libpq-fe.h>

#include <chrono>
#include <string_view>

namespace pg2ch::pg {

void wait_for_input(PGconn* conn, std::chrono::milliseconds timeout, std::string_view context);

}  // namespace pg2ch::pg

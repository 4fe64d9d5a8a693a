#include "pg/socket_wait.h"

#include <poll.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "pg/connection.h"

namespace pg2ch::pg {

void wait_for_input(PGconn* conn, std::chrono::milliseconds timeout, std::string_view context) {
  pollfd pfd{PQsocket(conn), POLLIN, 0};
  const int rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (rc < 0 && errno != EINTR) {
    throw Error(ErrorKind::Connection, fmt::format("{}: waiting on the socket: {}", context, std::strerror(errno)), {},
                true);
  }
  if (rc > 0 && PQconsumeInput(conn) == 0) throw error_from_connection(conn, context);
}

}  // namespace pg2ch::pg

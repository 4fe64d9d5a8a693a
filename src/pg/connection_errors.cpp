// Classification of PostgreSQL failures (why: the operator must learn what to fix, and the
// pipeline must know whether to retry). Two inputs exist:
//  - a failed query result carries a SQLSTATE: the table below is authoritative;
//  - a failed connection attempt or a lost connection only has PQerrorMessage text (libpq reads
//    the server's FATAL during the handshake but exposes no SQLSTATE), so we match the wording
//    of the server and libpq messages, which has been stable for many major versions.
// Messages never contain the conninfo or a password, and include only the server's primary
// message (DETAIL lines can carry row values).
#include "pg/connection_errors.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "pg/connection.h"

namespace pg2ch::pg {
namespace {

constexpr std::string_view kAuthHint =
    "check PG_USER and PG_PASSWORD: the role must exist and the password must match";
constexpr std::string_view kHbaHint =
    "the server's pg_hba.conf rejects this user/host/database: add a matching entry or check PG_USER";
constexpr std::string_view kDatabaseHint = "check PG_DB: the database must exist on the server";
constexpr std::string_view kPermissionHint = "grant the missing privilege to the PG_USER role";
constexpr std::string_view kReplicationRoleHint =
    "the PG_USER role needs the REPLICATION attribute (ALTER ROLE ... REPLICATION) or superuser";
constexpr std::string_view kSchemaHint =
    "check that the object exists in the source database and that the configured name matches";
constexpr std::string_view kTransientHint = "a transient server condition: retrying may succeed";
constexpr std::string_view kHostNameHint =
    "the server's certificate does not name this host: set postgres.host to a name the certificate has, "
    "or use sslmode = verify-ca (checks the CA only)";
constexpr std::string_view kRootCertHint =
    "set postgres.sslrootcert to the CA file that signed the server's certificate (sslmode verify-ca/verify-full)";
constexpr std::string_view kClientCertHint =
    "check postgres.sslcert and postgres.sslkey: both readable by pg2ch, the key mode 600 and matching the "
    "certificate";
constexpr std::string_view kSslHint = "check the sslmode setting and the server's SSL configuration";

std::string connection_hint(std::string_view address) {
  if (address.empty()) return "check that PostgreSQL is running and reachable";
  return fmt::format("check that PostgreSQL is running at {}", address);
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

namespace detail {

Classification classify_sqlstate(std::string_view state, std::string_view address) {
  const auto is = [&](std::string_view code) { return state == code; };
  const auto in_class = [&](std::string_view cls) { return state.substr(0, 2) == cls; };
  if (in_class("08") || is("57P01") || is("57P02") || is("57P03")) {
    return {ErrorKind::Connection, connection_hint(address), true};
  }
  if (in_class("28")) return {ErrorKind::Auth, std::string(kAuthHint), false};
  if (is("3D000")) return {ErrorKind::Config, std::string(kDatabaseHint), false};
  if (is("42501")) return {ErrorKind::Permission, std::string(kPermissionHint), false};
  if (is("42P01") || is("3F000") || is("42704")) return {ErrorKind::Schema, std::string(kSchemaHint), false};
  // Serialization failure, deadlock, out of resources, lock timeout, object (slot) in use,
  // statement timeout: the same statement can succeed later.
  if (in_class("40") || in_class("53") || is("55P03") || is("55006") || is("57014")) {
    return {ErrorKind::Server, std::string(kTransientHint), true};
  }
  return {ErrorKind::Server, {}, false};
}

bool classify_text(std::string_view message, std::string_view address, Classification& out) {
  const std::string m = lowercase(message);
  if (contains(m, "no pg_hba.conf entry") || contains(m, "pg_hba.conf rejects")) {
    out = {ErrorKind::Auth, std::string(kHbaHint), false};
  } else if (contains(m, "authentication failed") || contains(m, "no password supplied") ||
             (contains(m, "role \"") && contains(m, "\" does not exist"))) {
    out = {ErrorKind::Auth, std::string(kAuthHint), false};
  } else if (contains(m, "database \"") && contains(m, "\" does not exist")) {
    out = {ErrorKind::Config, std::string(kDatabaseHint), false};
  } else if (contains(m, "replication role") || contains(m, "replication privilege")) {
    out = {ErrorKind::Permission, std::string(kReplicationRoleHint), false};
  } else if (contains(m, "permission denied")) {
    out = {ErrorKind::Permission, std::string(kPermissionHint), false};
  } else if (contains(m, "does not match host name")) {
    out = {ErrorKind::Config, std::string(kHostNameHint), false};
  } else if (contains(m, "root certificate file") || contains(m, "certificate verify failed")) {
    out = {ErrorKind::Config, std::string(kRootCertHint), false};
  } else if (contains(m, "certificate file") || contains(m, "private key file") ||
             contains(m, "certificate present, but not private key")) {
    out = {ErrorKind::Config, std::string(kClientCertHint), false};
  } else if (contains(m, "ssl") && (contains(m, "required") || contains(m, "certificate") ||
                                    contains(m, "does not support ssl"))) {
    out = {ErrorKind::Config, std::string(kSslHint), false};
  } else if (contains(m, "too many connections") || contains(m, "connection slots are reserved") ||
             contains(m, "starting up") || contains(m, "shutting down") || contains(m, "in recovery mode") ||
             contains(m, "not yet accepting connections")) {
    out = {ErrorKind::Connection, connection_hint(address) + " and accepting connections", true};
  } else if (contains(m, "connection refused") || contains(m, "timeout expired") || contains(m, "timed out") ||
             contains(m, "could not translate host name") || contains(m, "no route to host") ||
             contains(m, "network is unreachable") || contains(m, "server closed the connection") ||
             contains(m, "could not receive data") || contains(m, "could not send data") ||
             contains(m, "connection to server") || contains(m, "no connection to the server") ||
             contains(m, "terminating connection")) {
    out = {ErrorKind::Connection, connection_hint(address), true};
  } else {
    return false;
  }
  return true;
}


std::string clean_message(std::string_view raw, std::initializer_list<std::string_view> secrets) {
  std::string out;
  out.reserve(raw.size());
  bool pending_space = false;
  for (const char c : raw) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  for (const std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out;
}

std::string server_address(PGconn* conn) {
  if (conn == nullptr) return {};
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  if (host == nullptr || *host == '\0') return {};
  return fmt::format("{}:{}", host, port != nullptr && *port != '\0' ? port : "5432");
}

Error error_from_result(const Result& r, std::string_view context, std::string_view address) {
  const std::string state = r.sqlstate();
  const std::string message = clean_message(r.error_message());
  Classification c{ErrorKind::Server, {}, false};
  if (!state.empty()) {
    c = classify_sqlstate(state, address);
    return Error(c.kind, fmt::format("{}: {} (SQLSTATE {})", context, message, state), std::move(c.hint), c.retriable);
  }
  // No SQLSTATE: generated by libpq itself (lost connection, protocol state errors).
  classify_text(message, address, c);
  return Error(c.kind, fmt::format("{}: {}", context, message), std::move(c.hint), c.retriable);
}

Error error_from_connection(PGconn* conn, std::string_view context, std::initializer_list<std::string_view> secrets) {
  const std::string address = server_address(conn);
  if (conn == nullptr) {
    return Error(ErrorKind::Connection, fmt::format("{}: no connection (out of memory?)", context),
                 connection_hint(address), true);
  }
  const char* pass = PQpass(conn);
  std::string message = clean_message(PQerrorMessage(conn), secrets);
  message = clean_message(message, {pass != nullptr ? std::string_view(pass) : std::string_view{}});
  if (message.empty()) message = "connection failed";
  Classification c{ErrorKind::Connection, connection_hint(address), true};
  classify_text(message, address, c);
  return Error(c.kind, fmt::format("{}: {}", context, message), std::move(c.hint), c.retriable);
}

}  // namespace detail

Error error_from_result(const Result& r, std::string_view context) { return detail::error_from_result(r, context, {}); }

Error error_from_connection(PGconn* conn, std::string_view context) {
  return detail::error_from_connection(conn, context, {});
}

}  // namespace pg2ch::pg

#pragma once
// RAII ownership of libpq handles and the two ways to run SQL: query() throws a classified
// pg2ch::Error; try_query() returns the result (or the failed result) for callers that branch on
// SQLSTATE. Handles are move-only: a copied PGconn/PGresult could be freed twice.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace pg2ch::pg {

struct PGresultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
struct PGconnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

// A query result. Cells are text (or binary when requested), rows/cols zero-based.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : res_(r) {}

  PGresult* get() const { return res_.get(); }
  explicit operator bool() const { return res_ != nullptr; }
  ExecStatusType status() const { return res_ ? PQresultStatus(res_.get()) : PGRES_FATAL_ERROR; }
  bool ok() const;                       // COMMAND_OK, TUPLES_OK, COPY_OUT/IN, COPY_BOTH
  std::string sqlstate() const;          // "" when none
  std::string error_message() const;     // server's primary message, trimmed

  int rows() const { return res_ ? PQntuples(res_.get()) : 0; }
  int cols() const { return res_ ? PQnfields(res_.get()) : 0; }
  bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string_view value(int row, int col) const {
    return {PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
  }
  std::string text(int row, int col) const { return std::string(value(row, col)); }
  std::optional<std::string> optional_text(int row, int col) const;
  std::int64_t int64(int row, int col) const;   // throws ProtocolError when not an integer
  bool boolean(int row, int col) const;         // 't' / 'f'
  int column_index(const char* name) const;     // -1 when absent

 private:
  std::unique_ptr<PGresult, PGresultDeleter> res_;
};

class Connection {
 public:
  // Connects or throws Error: Connection (retriable) for unreachable servers, Auth for bad
  // credentials / unknown role, Config for an unknown database. `what` names the server for
  // messages ("source PostgreSQL user@host:port/db"); conninfo is never included in messages.
  static Connection connect(const std::string& conninfo, std::string_view what);

  Connection() = default;
  explicit Connection(PGconn* c, std::string what = {}) : conn_(c), what_(std::move(what)) {}
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  PGconn* get() const { return conn_.get(); }
  explicit operator bool() const { return conn_ != nullptr; }
  const std::string& what() const { return what_; }
  int server_version() const { return PQserverVersion(conn_.get()); }   // e.g. 150018

  // Runs sql (simple query protocol when params empty, else extended with text params).
  // Throws Error classified from SQLSTATE: 42501 -> Permission, 42P01/3F000/42704 -> Schema,
  // 28xxx -> Auth, 08xxx / connection lost -> Connection (retriable), otherwise Server.
  Result query(std::string_view sql, const std::vector<std::optional<std::string>>& params = {});
  // Same, but returns the failed result instead of throwing on a server error (still throws
  // when the connection itself is gone).
  Result try_query(std::string_view sql, const std::vector<std::optional<std::string>>& params = {});
  void exec(std::string_view sql) { query(sql); }

  // Escaping through libpq (encoding-aware).
  std::string quote_identifier(std::string_view ident) const;   // "My Table"
  std::string quote_literal(std::string_view value) const;      // 'it''s'

 private:
  std::unique_ptr<PGconn, PGconnDeleter> conn_;
  std::string what_;
};

// Maps a failed result to an Error with context; used by query() and by streaming code.
Error error_from_result(const Result& r, std::string_view context);
// Builds the Error for a dead or failed connection (PQerrorMessage), with context.
Error error_from_connection(PGconn* conn, std::string_view context);

}  // namespace pg2ch::pg

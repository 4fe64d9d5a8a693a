#include "pg/connection.h"

#include <charconv>
#include <fmt/format.h>

#include "pg/connection_errors.h"

namespace pg2ch::pg {

// ---- Result ------------------------------------------------------------------------------------

bool Result::ok() const {
  switch (status()) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_COPY_OUT:
    case PGRES_COPY_IN:
    case PGRES_COPY_BOTH:
      return true;
    default:
      return false;
  }
}

std::string Result::sqlstate() const {
  const char* s = res_ ? PQresultErrorField(res_.get(), PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? s : "";
}

std::string Result::error_message() const {
  if (!res_) return "no result from server";
  // The primary message only: DETAIL and CONTEXT lines may quote row values.
  const char* primary = PQresultErrorField(res_.get(), PG_DIAG_MESSAGE_PRIMARY);
  return detail::clean_message(primary != nullptr ? primary : PQresultErrorMessage(res_.get()));
}

std::optional<std::string> Result::optional_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

std::int64_t Result::int64(int row, int col) const {
  const std::string_view v = value(row, col);
  std::int64_t out = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (is_null(row, col) || ec != std::errc() || ptr != v.data() + v.size()) {
    throw ProtocolError(fmt::format("column \"{}\" row {}: expected an integer, got {} bytes of other text",
                                    PQfname(res_.get(), col), row, v.size()));
  }
  return out;
}

bool Result::boolean(int row, int col) const {
  const std::string_view v = value(row, col);
  if (!is_null(row, col)) {
    if (v == "t") return true;
    if (v == "f") return false;
  }
  throw ProtocolError(fmt::format("column \"{}\" row {}: expected a boolean", PQfname(res_.get(), col), row));
}

int Result::column_index(const char* name) const { return res_ ? PQfnumber(res_.get(), name) : -1; }

// ---- Connection --------------------------------------------------------------------------------

Connection Connection::connect(const std::string& conninfo, std::string_view what) {
  // Parse first: libpq's parse errors quote fragments of the string, which may be the password,
  // so they are replaced by a generic message.
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    if (parse_error != nullptr) PQfreemem(parse_error);
    throw Error(ErrorKind::Config, fmt::format("{}: invalid connection settings", what),
                "check the PG_* settings (host, port, database, user, sslmode)");
  }
  std::string password;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
  }
  PQconninfoFree(options);

  Connection c(PQconnectdb(conninfo.c_str()), std::string(what));
  if (!c.conn_ || PQstatus(c.get()) != CONNECTION_OK) {
    throw detail::error_from_connection(c.get(), what, {conninfo, password});
  }
  return c;
}

Result Connection::query(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
  Result r = try_query(sql, params);
  if (!r.ok()) throw detail::error_from_result(r, what_, detail::server_address(conn_.get()));
  return r;
}

Result Connection::try_query(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
  if (!conn_) throw Error(ErrorKind::Internal, fmt::format("{}: query on a closed connection", what_));
  const std::string statement(sql);   // libpq wants NUL-terminated text
  PGresult* raw = nullptr;
  if (params.empty()) {
    raw = PQexec(conn_.get(), statement.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    raw = PQexecParams(conn_.get(), statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                       nullptr, nullptr, 0);
  }
  Result r(raw);
  // A failed result from a dead connection is not a server verdict: the caller must reconnect.
  if (raw == nullptr || PQstatus(conn_.get()) == CONNECTION_BAD) throw error_from_connection(conn_.get(), what_);
  return r;
}

namespace {
struct FreeMem {
  void operator()(char* p) const noexcept { PQfreemem(p); }
};
}  // namespace

std::string Connection::quote_identifier(std::string_view ident) const {
  std::unique_ptr<char, FreeMem> q(PQescapeIdentifier(conn_.get(), ident.data(), ident.size()));
  if (!q) {
    throw Error(ErrorKind::Data, fmt::format("{}: cannot quote an identifier: {}", what_,
                                             detail::clean_message(PQerrorMessage(conn_.get()))));
  }
  return q.get();
}

std::string Connection::quote_literal(std::string_view value) const {
  std::unique_ptr<char, FreeMem> q(PQescapeLiteral(conn_.get(), value.data(), value.size()));
  if (!q) {
    throw Error(ErrorKind::Data, fmt::format("{}: cannot quote a literal: {}", what_,
                                             detail::clean_message(PQerrorMessage(conn_.get()))));
  }
  return q.get();
}

}  // namespace pg2ch::pg

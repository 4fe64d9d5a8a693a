#include "clickhouse/http_errors.h"

#include <algorithm>
#include <charconv>

namespace pg2ch::clickhouse {
namespace {

constexpr std::string_view kConnectionHint =
    "check that ClickHouse is running and CH_HOST/CH_PORT point to its HTTP port";

// ClickHouse error codes (src/Common/ErrorCodes.cpp) that decide a kind other than Server.
bool is_auth_code(int code) {
  switch (code) {
    case 192:  // UNKNOWN_USER
    case 193:  // WRONG_PASSWORD (what 18.16 answers to a bad password)
    case 194:  // REQUIRED_PASSWORD
    case 195:  // IP_ADDRESS_NOT_ALLOWED
    case 516:  // AUTHENTICATION_FAILED (newer servers, any of the above)
      return true;
    default: return false;
  }
}

bool is_permission_code(int code) {
  switch (code) {
    case 164:  // READONLY
    case 291:  // DATABASE_ACCESS_DENIED
    case 497:  // ACCESS_DENIED
      return true;
    default: return false;
  }
}

bool is_schema_code(int code) {
  return code == 60     // UNKNOWN_TABLE
         || code == 16;  // NO_SUCH_COLUMN_IN_TABLE
}

// A target table dropped under a running pipeline: the next run's ensure() creates it again (and
// the logical mode copies the table again), so the service retries instead of stopping.
bool is_recreatable_code(int code) { return code == 60; }

// Server-side conditions that clear up by themselves: overload, a replica catching up, a
// keeper hiccup. Retrying the same insert later is the right move.
bool is_transient_code(int code) {
  switch (code) {
    case 159:  // TIMEOUT_EXCEEDED
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 203:  // NO_FREE_CONNECTION
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 225:  // NO_ZOOKEEPER
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 242:  // TABLE_IS_READ_ONLY (replica lost its keeper session)
    case 252:  // TOO_MANY_PARTS
    case 285:  // TOO_FEW_LIVE_REPLICAS
    case 319:  // UNKNOWN_STATUS_OF_INSERT
    case 364:  // RECEIVED_ERROR_TOO_MANY_REQUESTS
    case 425:  // SYSTEM_ERROR
    case 999:  // KEEPER_EXCEPTION
      return true;
    default: return false;
  }
}

std::string_view first_line(std::string_view s) {
  auto eol = s.find_first_of("\r\n");
  return eol == std::string_view::npos ? s : s.substr(0, eol);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Cuts to at most `limit` bytes without splitting a UTF-8 sequence.
std::string bounded(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return std::string(s);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string describe_code(int code, long http_status) {
  std::string s = " (";
  if (code != 0) s += "code " + std::to_string(code) + ", ";
  s += "HTTP " + std::to_string(http_status) + ")";
  return s;
}

}  // namespace

ServerException parse_server_exception(std::string_view body) {
  ServerException out;
  std::string_view text = body;

  constexpr std::string_view kCode = "Code: ";
  if (auto at = body.find(kCode); at != std::string_view::npos) {
    const char* digits = body.data() + at + kCode.size();
    std::from_chars(digits, body.data() + body.size(), out.code);
  }
  constexpr std::string_view kException = "DB::Exception: ";
  if (auto at = body.find(kException); at != std::string_view::npos) text = body.substr(at + kException.size());

  std::string_view line = first_line(text);
  // 18.16 repeats the exception class after the text.
  if (auto tail = line.find(", e.what() = "); tail != std::string_view::npos) line = line.substr(0, tail);
  out.message = bounded(trim(line), kMaxServerMessage);
  return out;
}

std::optional<ServerException> exception_in_ok_body(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  const auto eol = body.find_last_of("\r\n");
  const std::string_view last = eol == std::string_view::npos ? body : body.substr(eol + 1);
  constexpr std::string_view kCode = "Code: ";
  if (!last.starts_with(kCode)) return std::nullopt;
  std::size_t digits = 0;
  while (kCode.size() + digits < last.size() && last[kCode.size() + digits] >= '0' &&
         last[kCode.size() + digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || last.find("DB::Exception") == std::string_view::npos) return std::nullopt;
  return parse_server_exception(last);
}

Error server_error(long http_status, int header_code, std::string_view body, std::string_view where) {
  ServerException ex = parse_server_exception(body);
  const int code = header_code != 0 ? header_code : ex.code;
  std::string message = "ClickHouse " + std::string(where) + ": ";
  message += ex.message.empty() ? "empty error response" : ex.message;
  message += describe_code(code, http_status);

  if (is_permission_code(code))
    return Error(ErrorKind::Permission, std::move(message),
                 "grant the ClickHouse user the privileges pg2ch needs on the target database "
                 "(and make sure its profile is not readonly)");
  if (is_auth_code(code) || http_status == 401 || http_status == 403)
    return Error(ErrorKind::Auth, std::move(message), "check CH_USER and CH_PASSWORD (clickhouse.user, clickhouse.password)");
  if (code == 81)  // UNKNOWN_DATABASE
    return Error(ErrorKind::Config, std::move(message),
                 "create the database in ClickHouse or fix CH_DATABASE (clickhouse.database)");
  if (is_schema_code(code)) return Error(ErrorKind::Schema, std::move(message), {}, is_recreatable_code(code));
  if (code == 33)  // CANNOT_READ_ALL_DATA: the RowBinary rows are laid out for other columns
    return Error(ErrorKind::Schema, std::move(message),
                 "the ClickHouse table's columns differ from the rows pg2ch sends (changed in ClickHouse by hand?): "
                 "`pg2ch setup` compares the target with the source and names each difference");
  // No ClickHouse exception in a 5xx body: a proxy or load balancer answered for a server it
  // could not reach.
  if (code == 0 && http_status >= 500) return Error(ErrorKind::Connection, std::move(message), std::string(kConnectionHint), true);
  return Error(ErrorKind::Server, std::move(message), {}, is_transient_code(code));
}

Error curl_error(CURLcode rc, std::string_view detail, std::string_view where) {
  std::string message = "cannot talk to ClickHouse at " + std::string(where) + ": " + curl_easy_strerror(rc);
  if (!detail.empty()) message += " (" + bounded(first_line(detail), kMaxServerMessage) + ")";
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_FAIL_REWIND:  // a kept-alive connection died under a streamed body
    case CURLE_SSL_CONNECT_ERROR:
      return Error(ErrorKind::Connection, std::move(message), std::string(kConnectionHint), true);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(ErrorKind::Config, std::move(message),
                   "check clickhouse.secure and that the server's TLS certificate is trusted: clickhouse.ca_file "
                   "names the CA that signed it, and clickhouse.host a name the certificate has");
    case CURLE_SSL_CERTPROBLEM:
      return Error(ErrorKind::Config, std::move(message),
                   "check clickhouse.cert_file and clickhouse.key_file: PEM files pg2ch can read, key matching the "
                   "certificate");
    default: return Error(ErrorKind::Internal, std::move(message));
  }
}

void redact(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
}

}  // namespace pg2ch::clickhouse

#pragma once
// ClickHouse over HTTP with libcurl. One HttpClient per thread: it owns a CURL easy handle and
// keeps its connection alive between requests. Settings travel as URL parameters (18.16 has no
// SETTINGS clause after FORMAT); credentials as HTTP basic auth (never in URLs or messages).
//
// Errors: throws pg2ch::Error. Connection refused / timeout / 5xx network trouble -> Connection
// (retriable); HTTP 401/403 or ClickHouse code 516/192/193/194/195 -> Auth; code 81 (unknown
// database) -> Config; code 60/16 (unknown table/column) -> Schema; code 497/291/164 (access
// denied, readonly) -> Permission; other server exceptions -> Server, with ClickHouse's message
// (first line, bounded length), retriable for overload codes (too many parts, memory, ...).
// The mapping lives in http_errors.h.
#include <curl/curl.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "clickhouse/insert_summary.h"
#include "clickhouse/server_capabilities.h"
#include "common/error.h"

namespace pg2ch::clickhouse {

enum class Compression { None, Gzip, Zstd };

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 8123;
  bool secure = false;
  std::string ca_file;           // https: trust this CA instead of the system's (CURLOPT_CAINFO)
  std::string cert_file;         // https: client certificate, PEM (CURLOPT_SSLCERT)
  std::string key_file;          // https: its private key, PEM (CURLOPT_SSLKEY)
  std::string user = "default";
  std::string password;          // secret
  std::string database = "default";
  Compression compression = Compression::None;
  int connect_timeout_s = 10;
  int timeout_s = 300;
  std::string describe() const;  // "user@host:port/db"
};

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};

class HttpClient {
 public:
  explicit HttpClient(Endpoint endpoint);
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  ~HttpClient();

  // Runs a statement and returns the response body (use FORMAT TabSeparated etc. in sql).
  // The statement is sent as the POST body, so it may be long.
  std::string query(std::string_view sql, const std::map<std::string, std::string>& settings = {});
  void execute(std::string_view sql, const std::map<std::string, std::string>& settings = {}) { query(sql, settings); }

  // INSERT with a prepared body: `insert_prefix` is e.g. "INSERT INTO db.t (a,b) FORMAT RowBinary",
  // sent as the `query` URL parameter; `body` is the data (compressed on the wire per endpoint).
  // Returns when ClickHouse has acknowledged the insert (HTTP 200 without an exception in the
  // header or body): the data is durable. The result holds the rows the server says it wrote,
  // where it says so reliably (capabilities() asked before; see insert_summary.h).
  InsertResult insert(std::string_view insert_prefix, std::string_view body,
              const std::map<std::string, std::string>& settings = {});

  // Streaming INSERT with chunked transfer: `next_chunk` is called repeatedly and returns the
  // next piece of the body; an empty view ends the body. Used by the snapshot so a whole range
  // becomes one INSERT without buffering it. Exceptions thrown by next_chunk abort the request
  // and are rethrown from here. A returned view must stay valid until the next call.
  // No total timeout applies (a range may stream for longer than timeout_s); instead the
  // transfer fails when nothing moves for timeout_s.
  InsertResult insert_stream(std::string_view insert_prefix, const std::function<std::string_view()>& next_chunk,
                     const std::map<std::string, std::string>& settings = {});

  // SELECT version() once, cached. A moved-from client must not be used.
  const ServerCapabilities& capabilities();

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Impl;
  Endpoint endpoint_;
  std::unique_ptr<Impl> impl_;
};

// `name` quoted as a ClickHouse identifier: backticks, with ` and \ escaped.
std::string quote_identifier(std::string_view name);
// 'value' quoted as a ClickHouse string literal, with ' and \ escaped.
std::string quote_string(std::string_view value);
// Compression choice for "auto|none|gzip|zstd" given host and server capabilities.
Compression choose_compression(std::string_view setting, std::string_view host, const ServerCapabilities* caps);

}  // namespace pg2ch::clickhouse

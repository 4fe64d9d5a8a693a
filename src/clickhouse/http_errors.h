#pragma once
// Turning a failed HTTP exchange with ClickHouse into a classified pg2ch::Error. Free functions
// of plain inputs, so every branch is unit-tested without a server.
#include <curl/curl.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace pg2ch::clickhouse {

// Longest server message kept: enough for any real first line, short enough for one log line.
inline constexpr std::size_t kMaxServerMessage = 500;

struct ServerException {
  int code = 0;         // ClickHouse error code; 0 when the body has no "Code: N"
  std::string message;  // first line of the exception text, decorations removed, bounded
};

// Parses both body formats:
//   18.16-20.x: "Code: 60, e.displayText() = DB::Exception: Table x doesn't exist., e.what() = DB::Exception"
//   21.x+:      "Code: 60. DB::Exception: Table x doesn't exist. (UNKNOWN_TABLE) (version 23.3.1.1)"
// Anything else (a proxy's HTML page, an empty body) yields code 0 and its first line.
ServerException parse_server_exception(std::string_view body);

// An exception inside an HTTP 200 answer. ClickHouse sends 200 as soon as it has started a response
// and appends "Code: N. DB::Exception: ..." to the body when the query fails later; a proxy in
// front of it may answer 200 with the server's exception as the body. Either way the exception
// is the body's last line: that line must start with "Code: <digits>" and name DB::Exception.
// nullopt for a body without one (TabSeparated escapes newlines, so a value spans one line only
// and a single-column row would have to hold exactly such a text to be mistaken for one).
std::optional<ServerException> exception_in_ok_body(std::string_view body);

// The error for a response other than HTTP 200. `header_code` is X-ClickHouse-Exception-Code
// (0 when absent; 18.16 never sends it) and wins over the code in the body. `where` names the
// endpoint (Endpoint::describe()).
Error server_error(long http_status, int header_code, std::string_view body, std::string_view where);

// The error for a request that got no HTTP answer. `detail` is curl's error buffer.
Error curl_error(CURLcode rc, std::string_view detail, std::string_view where);

// Replaces every occurrence of `secret` in `text` (no-op for an empty secret): a last line of
// defence so a password echoed by a server or a proxy never reaches a message.
void redact(std::string& text, std::string_view secret);

}  // namespace pg2ch::clickhouse

#include "clickhouse/http_errors.h"

#include <gtest/gtest.h>

namespace pg2ch::clickhouse {
namespace {

constexpr std::string_view kWhere = "default@10.0.0.5:8123/default";

// Bodies exactly as ClickHouse 18.16 sent them (captured from a real server).
constexpr std::string_view kOldUnknownTable =
    "Code: 60, e.displayText() = DB::Exception: Table default.nosuch doesn't exist., e.what() = DB::Exception\n";
constexpr std::string_view kOldMultiLine =
    "Code: 33, e.displayText() = DB::Exception: Cannot read all data. Bytes read: 3. Bytes expected: 4.: (at row 1)\n"
    ", e.what() = DB::Exception\n";
// The format of 21.x and later.
constexpr std::string_view kNewUnknownTable =
    "Code: 60. DB::Exception: Table default.nosuch does not exist. (UNKNOWN_TABLE) (version 23.8.2.7 (official build))\n";

TEST(ClickHouseParseServerException, OldFormat) {
  auto ex = parse_server_exception(kOldUnknownTable);
  EXPECT_EQ(ex.code, 60);
  EXPECT_EQ(ex.message, "Table default.nosuch doesn't exist.");
}

TEST(ClickHouseParseServerException, OldFormatKeepsOnlyTheFirstLine) {
  auto ex = parse_server_exception(kOldMultiLine);
  EXPECT_EQ(ex.code, 33);
  EXPECT_EQ(ex.message, "Cannot read all data. Bytes read: 3. Bytes expected: 4.: (at row 1)");
}

TEST(ClickHouseParseServerException, NewFormat) {
  auto ex = parse_server_exception(kNewUnknownTable);
  EXPECT_EQ(ex.code, 60);
  EXPECT_EQ(ex.message, "Table default.nosuch does not exist. (UNKNOWN_TABLE) (version 23.8.2.7 (official build))");
}

TEST(ClickHouseParseServerException, NonClickHouseBody) {
  auto ex = parse_server_exception("<html><body>502 Bad Gateway</body></html>\r\nmore");
  EXPECT_EQ(ex.code, 0);
  EXPECT_EQ(ex.message, "<html><body>502 Bad Gateway</body></html>");
  EXPECT_EQ(parse_server_exception("").message, "");
}

TEST(ClickHouseParseServerException, BoundsLongMessagesOnACharacterBoundary) {
  std::string body = "Code: 62. DB::Exception: " + std::string(kMaxServerMessage - 1, 'x') + "\xD0\xB9 tail";
  auto ex = parse_server_exception(body);
  EXPECT_EQ(ex.code, 62);
  EXPECT_EQ(ex.message, std::string(kMaxServerMessage - 1, 'x') + "...");
}

TEST(ClickHouseServerError, ClassifiesByCode) {
  struct Case {
    int code;
    long status;
    ErrorKind kind;
    bool retriable;
  };
  const Case cases[] = {
      {60, 404, ErrorKind::Schema, true},       {16, 404, ErrorKind::Schema, false},
      {81, 404, ErrorKind::Config, false},      {192, 401, ErrorKind::Auth, false},
      {193, 401, ErrorKind::Auth, false},       {194, 401, ErrorKind::Auth, false},
      {516, 401, ErrorKind::Auth, false},       {497, 403, ErrorKind::Permission, false},
      {164, 500, ErrorKind::Permission, false}, {291, 500, ErrorKind::Permission, false},
      {62, 400, ErrorKind::Server, false},      {252, 500, ErrorKind::Server, true},
      {241, 500, ErrorKind::Server, true},      {202, 500, ErrorKind::Server, true},
      {319, 500, ErrorKind::Server, true},      {33, 500, ErrorKind::Schema, false},
  };
  for (const Case& c : cases) {
    std::string body = "Code: " + std::to_string(c.code) + ", e.displayText() = DB::Exception: boom, e.what() = DB::Exception\n";
    Error e = server_error(c.status, 0, body, kWhere);
    EXPECT_EQ(e.kind(), c.kind) << c.code;
    EXPECT_EQ(e.retriable(), c.retriable) << c.code;
  }
}

TEST(ClickHouseServerError, MessageNamesEndpointCodeAndStatus) {
  Error e = server_error(404, 0, kOldUnknownTable, kWhere);
  EXPECT_STREQ(e.what(),
               "ClickHouse default@10.0.0.5:8123/default: Table default.nosuch doesn't exist. (code 60, HTTP 404)");
}

TEST(ClickHouseServerError, HeaderCodeWinsOverBody) {
  Error e = server_error(500, 241, "Code: 1. DB::Exception: something", kWhere);
  EXPECT_EQ(e.kind(), ErrorKind::Server);
  EXPECT_TRUE(e.retriable());
  EXPECT_NE(std::string(e.what()).find("code 241"), std::string::npos);
}

TEST(ClickHouseServerError, HttpAuthStatusWithoutCodeIsAuth) {
  EXPECT_EQ(server_error(401, 0, "Unauthorized", kWhere).kind(), ErrorKind::Auth);
  EXPECT_EQ(server_error(403, 0, "", kWhere).kind(), ErrorKind::Auth);
}

TEST(ClickHouseServerError, ProxyFailureIsARetriableConnectionError) {
  Error e = server_error(502, 0, "<html>Bad Gateway</html>", kWhere);
  EXPECT_EQ(e.kind(), ErrorKind::Connection);
  EXPECT_TRUE(e.retriable());
  Error empty = server_error(503, 0, "", kWhere);
  EXPECT_NE(std::string(empty.what()).find("empty error response"), std::string::npos);
}

TEST(ClickHouseCurlError, NetworkFailuresAreRetriableConnectionErrors) {
  for (CURLcode rc : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
                      CURLE_GOT_NOTHING, CURLE_COULDNT_RESOLVE_HOST}) {
    Error e = curl_error(rc, "Failed to connect to 10.0.0.5 port 8123", kWhere);
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << rc;
    EXPECT_TRUE(e.retriable()) << rc;
    EXPECT_EQ(e.hint(), "check that ClickHouse is running and CH_HOST/CH_PORT point to its HTTP port");
    EXPECT_NE(std::string(e.what()).find(kWhere), std::string::npos);
  }
}

TEST(ClickHouseCurlError, OtherFailuresAreNotRetriable) {
  EXPECT_EQ(curl_error(CURLE_PEER_FAILED_VERIFICATION, "", kWhere).kind(), ErrorKind::Config);
  Error e = curl_error(CURLE_OUT_OF_MEMORY, "", kWhere);
  EXPECT_EQ(e.kind(), ErrorKind::Internal);
  EXPECT_FALSE(e.retriable());
}

TEST(ClickHouseRedact, ReplacesEveryOccurrence) {
  std::string text = "pw=hunter2 and again hunter2!";
  redact(text, "hunter2");
  EXPECT_EQ(text, "pw=*** and again ***!");
  std::string untouched = "nothing";
  redact(untouched, "");
  EXPECT_EQ(untouched, "nothing");
}

// 18.16's answer to RowBinary rows shorter than the table's columns names neither: the hint does.
TEST(ClickHouseServerError, RowsLaidOutForOtherColumnsPointToSetup) {
  Error e = server_error(500, 0, "Code: 33, e.displayText() = DB::Exception: Cannot read all data. Bytes read: 4. "
                                 "Bytes expected: 8., e.what() = DB::Exception",
                         kWhere);
  EXPECT_EQ(e.kind(), ErrorKind::Schema);
  EXPECT_FALSE(e.retriable());
  EXPECT_NE(e.hint().find("pg2ch setup"), std::string::npos) << e.hint();
}

TEST(ClickHouseExceptionInOkBody, FoundOnlyAsTheLastLine) {
  EXPECT_EQ(exception_in_ok_body("Code: 241. DB::Exception: Memory limit exceeded (MEMORY_LIMIT_EXCEEDED)\n")->code, 241);
  EXPECT_EQ(exception_in_ok_body("1\n2\nCode: 210, e.displayText() = DB::Exception: x, e.what() = DB::Exception")->code,
            210);
  EXPECT_FALSE(exception_in_ok_body(""));
  EXPECT_FALSE(exception_in_ok_body("Ok.\n"));
  EXPECT_FALSE(exception_in_ok_body("Code: 241. DB::Exception: in the first row\n2\n"));
  EXPECT_FALSE(exception_in_ok_body("Code: none. DB::Exception\n"));
  EXPECT_FALSE(exception_in_ok_body("Code: 12 without the class\n"));
}

}  // namespace
}  // namespace pg2ch::clickhouse

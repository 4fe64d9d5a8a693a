// HttpClient against a scripted local HTTP server: what goes on the wire and how answers are
// turned into results or errors. Behaviour against a real ClickHouse is covered by the
// integration tests.
#include "clickhouse/http_client.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "fake_http_server.h"
#include "test_codecs.h"

namespace pg2ch::clickhouse {
namespace {

using test::FakeHttpServer;
using test::FakeResponse;
using test::RecordedRequest;

constexpr const char* kPassword = "pa:ss w0rd!";

Endpoint endpoint_for(int port, Compression compression = Compression::None) {
  Endpoint e;
  e.host = "127.0.0.1";
  e.port = port;
  e.user = "writer";
  e.password = kPassword;
  e.database = "my db";
  e.compression = compression;
  e.connect_timeout_s = 2;
  e.timeout_s = 5;
  return e;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

FakeResponse ok(std::string body = {}) { return {200, std::move(body), {}}; }

std::function<std::string_view()> chunks_of(std::vector<std::string>& pieces) {
  return [&pieces, i = std::size_t{0}]() mutable -> std::string_view {
    return i < pieces.size() ? std::string_view(pieces[i++]) : std::string_view();
  };
}

TEST(ClickHouseHttpClient, QueryPostsSqlWithDatabaseSettingsAndBasicAuth) {
  FakeHttpServer server([](const RecordedRequest&) { return ok("1\n"); });
  HttpClient client(endpoint_for(server.port()));
  EXPECT_EQ(client.query("SELECT 1", {{"max_threads", "2"}}), "1\n");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/?database=my%20db&max_threads=2");
  EXPECT_EQ(r.body, "SELECT 1");
  EXPECT_EQ(r.headers.at("authorization"), "Basic " + base64(std::string("writer:") + kPassword));
  EXPECT_EQ(r.headers.count("expect"), 0u);
}

TEST(ClickHouseHttpClient, ReusesOneConnection) {
  FakeHttpServer server([](const RecordedRequest&) { return ok(); });
  HttpClient client(endpoint_for(server.port()));
  client.execute("SELECT 1");
  client.insert("INSERT INTO t FORMAT RowBinary", "abc");
  client.execute("SELECT 2");
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(ClickHouseHttpClient, InsertSendsStatementInUrlAndRawBody) {
  FakeHttpServer server([](const RecordedRequest&) { return ok(); });
  HttpClient client(endpoint_for(server.port()));
  client.insert("INSERT INTO t FORMAT RowBinary", std::string_view("\x01\x00\x02", 3), {{"async_insert", "0"}});
  auto r = server.requests().at(0);
  EXPECT_EQ(r.target, "/?database=my%20db&query=INSERT%20INTO%20t%20FORMAT%20RowBinary&async_insert=0");
  EXPECT_EQ(r.body, std::string("\x01\x00\x02", 3));
  EXPECT_EQ(r.headers.count("content-encoding"), 0u);
}

TEST(ClickHouseHttpClient, InsertCompressesPerEndpoint) {
  for (Compression c : {Compression::Gzip, Compression::Zstd}) {
    FakeHttpServer server([](const RecordedRequest&) { return ok(); });
    HttpClient client(endpoint_for(server.port(), c));
    std::string body(100000, 'r');
    client.insert("INSERT INTO t FORMAT RowBinary", body);
    client.insert("INSERT INTO t FORMAT RowBinary", "second");
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    const bool gzip = c == Compression::Gzip;
    EXPECT_EQ(requests[0].headers.at("content-encoding"), gzip ? "gzip" : "zstd");
    EXPECT_LT(requests[0].body.size(), 1000u);
    EXPECT_EQ(gzip ? test::gunzip(requests[0].body) : test::unzstd(requests[0].body), body);
    EXPECT_EQ(gzip ? test::gunzip(requests[1].body) : test::unzstd(requests[1].body), "second");
  }
}

TEST(ClickHouseHttpClient, InsertStreamUsesChunkedTransfer) {
  for (Compression c : {Compression::None, Compression::Gzip}) {
    FakeHttpServer server([](const RecordedRequest&) { return ok(); });
    HttpClient client(endpoint_for(server.port(), c));
    std::vector<std::string> pieces = {"first,", std::string(300000, 'x'), ",last"};
    client.insert_stream("INSERT INTO t FORMAT RowBinary", chunks_of(pieces));
    auto r = server.requests().at(0);
    EXPECT_EQ(r.headers.at("transfer-encoding"), "chunked");
    std::string expected = pieces[0] + pieces[1] + pieces[2];
    EXPECT_EQ(c == Compression::Gzip ? test::gunzip(r.body) : r.body, expected);
  }
}

TEST(ClickHouseHttpClient, InsertStreamRethrowsTheProducersException) {
  FakeHttpServer server([](const RecordedRequest&) { return ok(); });
  HttpClient client(endpoint_for(server.port()));
  int calls = 0;
  auto next = [&]() -> std::string_view {
    if (++calls == 3) throw std::logic_error("producer failed");
    return "data";
  };
  try {
    client.insert_stream("INSERT INTO t FORMAT RowBinary", next);
    FAIL() << "expected the producer's exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "producer failed");
  }
  EXPECT_EQ(calls, 3);
  // The aborted request never completed; the client still works afterwards.
  client.execute("SELECT 1");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClickHouseHttpClient, ServerErrorsAreClassifiedWithoutThePassword) {
  FakeHttpServer server([](const RecordedRequest&) {
    return FakeResponse{404,
                        std::string("Code: 60, e.displayText() = DB::Exception: Table my.t doesn't exist (") + kPassword +
                            "), e.what() = DB::Exception\n",
                        {}};
  });
  HttpClient client(endpoint_for(server.port()));
  try {
    client.insert("INSERT INTO t FORMAT RowBinary", "x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Schema);
    std::string what = e.what();
    EXPECT_NE(what.find("writer@127.0.0.1:"), std::string::npos) << what;
    EXPECT_NE(what.find("Table my.t doesn't exist"), std::string::npos) << what;
    EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
  }
}

TEST(ClickHouseHttpClient, ExceptionCodeHeaderIsUsed) {
  FakeHttpServer server([](const RecordedRequest&) {
    return FakeResponse{500, "Memory limit exceeded", {"X-ClickHouse-Exception-Code: 241"}};
  });
  HttpClient client(endpoint_for(server.port()));
  try {
    client.execute("SELECT 1");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Server);
    EXPECT_TRUE(e.retriable());
    EXPECT_NE(std::string(e.what()).find("code 241"), std::string::npos);
  }
}

TEST(ClickHouseHttpClient, RefusedConnectionIsRetriable) {
  HttpClient client(endpoint_for(test::unused_port()));
  try {
    client.execute("SELECT 1");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Connection);
    EXPECT_TRUE(e.retriable());
    EXPECT_EQ(e.hint(), "check that ClickHouse is running and CH_HOST/CH_PORT point to its HTTP port");
    EXPECT_EQ(std::string(e.what()).find(kPassword), std::string::npos);
  }
}

TEST(ClickHouseHttpClient, CapabilitiesAreQueriedOnce) {
  FakeHttpServer server([](const RecordedRequest&) { return ok("18.16.1\n"); });
  HttpClient client(endpoint_for(server.port()));
  EXPECT_EQ(client.capabilities().version.major, 18);
  EXPECT_FALSE(client.capabilities().http_zstd);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "SELECT version()");
}

TEST(ClickHouseHttpClient, GarbageVersionIsAProtocolError) {
  FakeHttpServer server([](const RecordedRequest&) { return ok("<html>hello</html>"); });
  HttpClient client(endpoint_for(server.port()));
  try {
    client.capabilities();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Protocol);
  }
}

TEST(ClickHouseHttpClient, MovedClientKeepsWorking) {
  FakeHttpServer server([](const RecordedRequest&) { return ok("x"); });
  HttpClient first(endpoint_for(server.port()));
  first.execute("SELECT 1");
  HttpClient second(std::move(first));
  EXPECT_EQ(second.query("SELECT 2"), "x");
  EXPECT_EQ(second.endpoint().user, "writer");
}

}  // namespace
}  // namespace pg2ch::clickhouse

namespace pg2ch::clickhouse {
namespace {

// ClickHouse that fails after it has started its answer, or a proxy relaying a failure, says 200.
TEST(ClickHouseHttpClient, AnOkAnswerWithAnExceptionInTheBodyIsAnError) {
  FakeHttpServer server([](const RecordedRequest&) {
    return ok("Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED) (version 24.8.1)\n");
  });
  HttpClient client(endpoint_for(server.port()));
  try {
    client.insert("INSERT INTO t FORMAT RowBinary", "x");
    FAIL() << "a 200 carrying an exception counted as success";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Server);
    EXPECT_TRUE(e.retriable());
    EXPECT_NE(std::string(e.what()).find("Memory limit (total) exceeded"), std::string::npos) << e.what();
  }
}

TEST(ClickHouseHttpClient, AnExceptionAppendedToStreamedRowsIsAnError) {
  FakeHttpServer server([](const RecordedRequest&) {
    return ok("1\tone\n2\ttwo\nCode: 210, e.displayText() = DB::Exception: Connection reset, e.what() = DB::Exception\n");
  });
  HttpClient client(endpoint_for(server.port()));
  EXPECT_THROW(client.query("SELECT id, v FROM t FORMAT TabSeparated"), Error);
}

TEST(ClickHouseHttpClient, AnOkAnswerWithAnExceptionCodeHeaderIsAnError) {
  FakeHttpServer server([](const RecordedRequest&) { return FakeResponse{200, "", {"X-ClickHouse-Exception-Code: 252"}}; });
  HttpClient client(endpoint_for(server.port()));
  try {
    client.execute("CREATE TABLE t (id Int32) ENGINE = Memory");
    FAIL() << "a 200 with X-ClickHouse-Exception-Code counted as success";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("code 252"), std::string::npos) << e.what();
  }
}

TEST(ClickHouseHttpClient, RowsThatLookLikeNoExceptionPass) {
  FakeHttpServer server([](const RecordedRequest&) { return ok("Code: 241 is a number\nDB::Exception in a value\n"); });
  HttpClient client(endpoint_for(server.port()));
  EXPECT_EQ(client.query("SELECT s FROM t"), "Code: 241 is a number\nDB::Exception in a value\n");
}

// Written rows are read from the summary only where the version fills it in without progress
// headers (22.5+); an 18.16 answer's summary (zeros) says nothing.
TEST(ClickHouseHttpClient, InsertReportsWrittenRowsWhereTheServerCountsThem) {
  for (const auto& [version, expected] : {std::pair<std::string, std::optional<std::uint64_t>>{"24.8.1.1", 3},
                                          {"22.4.1.1", std::nullopt}}) {
    FakeHttpServer server([version = version](const RecordedRequest& r) {
      if (r.body == "SELECT version()") return ok(version + "\n");
      return FakeResponse{200, "", {R"(X-ClickHouse-Summary: {"read_rows":"3","written_rows":"3"})"}};
    });
    HttpClient client(endpoint_for(server.port()));
    EXPECT_EQ(client.capabilities().version.text, version);
    EXPECT_EQ(client.insert("INSERT INTO t FORMAT RowBinary", "x").written_rows, expected) << version;
  }
}

}  // namespace
}  // namespace pg2ch::clickhouse

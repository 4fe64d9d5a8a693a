#include "pg/connection.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "pg/connection_errors.h"

namespace pg2ch::pg {
namespace {

constexpr std::string_view kSecret = "s3cr3t-Pa55";

void expect_no_secrets(const Error& e, std::string_view conninfo) {
  const std::string line = e.one_line();
  EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
  EXPECT_EQ(line.find(conninfo), std::string::npos) << line;
  EXPECT_EQ(line.find("password="), std::string::npos) << line;
}

TEST(PgConnection, RefusedConnectionIsRetriableAndNamesTheServer) {
  // Port 1 on loopback: nothing listens there, so the kernel refuses at once.
  const std::string conninfo = "host=127.0.0.1 port=1 user=bob dbname=db connect_timeout=5 password=" + std::string(kSecret);
  try {
    Connection::connect(conninfo, "source PostgreSQL bob@127.0.0.1:1/db");
    FAIL() << "connected to port 1?";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_TRUE(e.retriable());
    EXPECT_EQ(e.hint(), "check that PostgreSQL is running at 127.0.0.1:1");
    EXPECT_EQ(std::string(e.what()).rfind("source PostgreSQL bob@127.0.0.1:1/db: ", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    expect_no_secrets(e, conninfo);
  }
}

TEST(PgConnection, MalformedConninfoIsConfigErrorWithoutEchoingIt) {
  // libpq's own parse errors would quote these fragments, secret included.
  for (const std::string& conninfo :
       {"host=127.0.0.1 " + std::string(kSecret), "host=127.0.0.1 password='" + std::string(kSecret),
        "postgresql://bob:" + std::string(kSecret) + "@127.0.0.1:5432/db?x%zz=" + std::string(kSecret),
        "nosuchoption=" + std::string(kSecret)}) {
    try {
      Connection::connect(conninfo, "source PostgreSQL");
      FAIL() << "connected?";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Config) << e.what();
      EXPECT_FALSE(e.retriable());
      expect_no_secrets(e, conninfo);
    }
  }
}

TEST(PgConnection, EmptyResultAccessorsAreSafe) {
  const Result r;
  EXPECT_FALSE(r);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.rows(), 0);
  EXPECT_EQ(r.cols(), 0);
  EXPECT_EQ(r.sqlstate(), "");
  EXPECT_EQ(r.column_index("x"), -1);
  const Error e = error_from_result(r, "ctx");
  EXPECT_EQ(e.kind(), ErrorKind::Server);
  EXPECT_EQ(std::string(e.what()).rfind("ctx: ", 0), 0u);
}

TEST(PgConnectionErrors, SqlstateTable) {
  struct Case {
    const char* state;
    ErrorKind kind;
    bool retriable;
  };
  for (const Case c : {Case{"28P01", ErrorKind::Auth, false}, Case{"28000", ErrorKind::Auth, false},
                       Case{"3D000", ErrorKind::Config, false}, Case{"42501", ErrorKind::Permission, false},
                       Case{"42P01", ErrorKind::Schema, false}, Case{"3F000", ErrorKind::Schema, false},
                       Case{"42704", ErrorKind::Schema, false}, Case{"08006", ErrorKind::Connection, true},
                       Case{"08001", ErrorKind::Connection, true}, Case{"57P01", ErrorKind::Connection, true},
                       Case{"57P03", ErrorKind::Connection, true}, Case{"40001", ErrorKind::Server, true},
                       Case{"40P01", ErrorKind::Server, true}, Case{"53300", ErrorKind::Server, true},
                       Case{"55006", ErrorKind::Server, true}, Case{"57014", ErrorKind::Server, true},
                       Case{"23505", ErrorKind::Server, false}, Case{"42601", ErrorKind::Server, false},
                       Case{"XX000", ErrorKind::Server, false}}) {
    const detail::Classification got = detail::classify_sqlstate(c.state, "db:5432");
    EXPECT_EQ(got.kind, c.kind) << c.state;
    EXPECT_EQ(got.retriable, c.retriable) << c.state;
  }
  EXPECT_EQ(detail::classify_sqlstate("28P01", "").hint.find("PG_USER"), 6u);
  EXPECT_NE(detail::classify_sqlstate("28P01", "").hint.find("PG_PASSWORD"), std::string::npos);
  EXPECT_NE(detail::classify_sqlstate("3D000", "").hint.find("PG_DB"), std::string::npos);
  EXPECT_EQ(detail::classify_sqlstate("08006", "db:5432").hint, "check that PostgreSQL is running at db:5432");
}

TEST(PgConnectionErrors, ConnectionMessageText) {
  struct Case {
    const char* message;
    ErrorKind kind;
    bool retriable;
  };
  // Wording of PostgreSQL 15 / libpq 15 failures during connection setup.
  for (const Case c : {
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: password authentication failed for user \"bob\"",
                ErrorKind::Auth, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: role \"bob\" does not exist",
                ErrorKind::Auth, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password supplied",
                ErrorKind::Auth, false},
           Case{"connection to server at \"10.0.0.1\", port 5432 failed: FATAL: no pg_hba.conf entry for host \"10.0.0.2\", "
                "user \"bob\", database \"db\", no encryption",
                ErrorKind::Auth, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: database \"nope\" does not exist",
                ErrorKind::Config, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: permission denied for database \"db\"",
                ErrorKind::Permission, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: must be superuser or replication role to "
                "start walsender",
                ErrorKind::Permission, false},
           Case{"connection to server at \"127.0.0.1\", port 1 failed: Connection refused Is the server running on that "
                "host and accepting TCP/IP connections?",
                ErrorKind::Connection, true},
           Case{"connection to server at \"10.1.1.1\", port 5432 failed: timeout expired", ErrorKind::Connection, true},
           Case{"could not translate host name \"nohost\" to address: Name or service not known", ErrorKind::Connection,
                true},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: the database system is starting up",
                ErrorKind::Connection, true},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: FATAL: sorry, too many clients already",
                ErrorKind::Connection, true},
           Case{"server closed the connection unexpectedly This probably means the server terminated abnormally",
                ErrorKind::Connection, true},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: server does not support SSL, but SSL was required",
                ErrorKind::Config, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: server certificate for \"localhost\" does not "
                "match host name \"127.0.0.1\"",
                ErrorKind::Config, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: SSL error: certificate verify failed",
                ErrorKind::Config, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: root certificate file \"/x/root.crt\" does not "
                "exist Either provide the file or change sslmode to disable server certificate verification.",
                ErrorKind::Config, false},
           Case{"connection to server at \"127.0.0.1\", port 5432 failed: could not open certificate file "
                "\"/x/client.crt\": No such file or directory",
                ErrorKind::Config, false},
       }) {
    detail::Classification got{ErrorKind::Internal, {}, false};
    ASSERT_TRUE(detail::classify_text(c.message, "127.0.0.1:5432", got)) << c.message;
    EXPECT_EQ(got.kind, c.kind) << c.message;
    EXPECT_EQ(got.retriable, c.retriable) << c.message;
    EXPECT_FALSE(got.hint.empty()) << c.message;
  }
  detail::Classification untouched{ErrorKind::Server, "keep", false};
  EXPECT_FALSE(detail::classify_text("syntax error at or near \"SELEC\"", "", untouched));
  EXPECT_EQ(untouched.hint, "keep");
}

TEST(PgConnectionErrors, CleanMessageIsOneLineAndScrubbed) {
  EXPECT_EQ(detail::clean_message("  connection failed:\n\tIs the server running?\n"),
            "connection failed: Is the server running?");
  EXPECT_EQ(detail::clean_message("FATAL:  password xyz for xyzxyz", {"xyz"}), "FATAL: password *** for ******");
  EXPECT_EQ(detail::clean_message("a**b", {"**", ""}), "a***b");
  EXPECT_EQ(detail::clean_message(""), "");
}

// Optional live checks: set PG2CH_TEST_PG_CONNINFO to a scratch database's conninfo.
class PgConnectionLive : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* conninfo = std::getenv("PG2CH_TEST_PG_CONNINFO");
    if (conninfo == nullptr || *conninfo == '\0') GTEST_SKIP() << "PG2CH_TEST_PG_CONNINFO not set";
    conn_ = Connection::connect(conninfo, "test PostgreSQL");
  }
  Connection conn_;
};

TEST_F(PgConnectionLive, QueriesAndAccessors) {
  EXPECT_GE(conn_.server_version(), 100000);
  Result r = conn_.query("SELECT 42::int8 AS n, true AS b, NULL::text AS z, 'x' AS s");
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.int64(0, r.column_index("n")), 42);
  EXPECT_TRUE(r.boolean(0, 1));
  EXPECT_EQ(r.optional_text(0, 2), std::nullopt);
  EXPECT_EQ(r.text(0, 3), "x");
  EXPECT_THROW(r.int64(0, 3), ProtocolError);
  EXPECT_THROW(r.boolean(0, 2), ProtocolError);
  Result p = conn_.query("SELECT $1::text IS NULL, $2::int + 1", {std::nullopt, std::string("41")});
  EXPECT_TRUE(p.boolean(0, 0));
  EXPECT_EQ(p.int64(0, 1), 42);
}

TEST_F(PgConnectionLive, ServerErrorsAreClassified) {
  Result failed = conn_.try_query("SELECT * FROM pg2ch_no_such_table");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.sqlstate(), "42P01");
  EXPECT_NE(failed.error_message().find("does not exist"), std::string::npos);
  try {
    conn_.query("SELECT * FROM pg2ch_no_such_table");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Schema);
    EXPECT_EQ(std::string(e.what()).rfind("test PostgreSQL: ", 0), 0u) << e.what();
  }
  // The connection stays usable after a server error.
  EXPECT_EQ(conn_.query("SELECT 1").int64(0, 0), 1);
}

TEST_F(PgConnectionLive, Quoting) {
  EXPECT_EQ(conn_.quote_identifier("My \"Table\""), "\"My \"\"Table\"\"\"");
  EXPECT_EQ(conn_.quote_literal("it's"), "'it''s'");
}

TEST_F(PgConnectionLive, TerminatedBackendIsAConnectionError) {
  Connection killer = Connection::connect(std::getenv("PG2CH_TEST_PG_CONNINFO"), "killer");
  const std::string pid = conn_.query("SELECT pg_backend_pid()").text(0, 0);
  killer.query("SELECT pg_terminate_backend($1::int)", {pid});
  try {
    conn_.try_query("SELECT 1");
    FAIL() << "query on a terminated backend succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Connection) << e.what();
    EXPECT_TRUE(e.retriable());
  }
}

}  // namespace
}  // namespace pg2ch::pg

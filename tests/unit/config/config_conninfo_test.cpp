// conninfo() must survive any character in any value; describe() is the loggable form.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>

#include "config/config.h"

namespace pg2ch::config {
namespace {

// What libpq itself reads back from a conninfo string: the real test of the escaping.
std::map<std::string, std::string> libpq_parse(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    std::string message = error ? error : "unknown error";
    PQfreemem(error);
    ADD_FAILURE() << "libpq rejected conninfo: " << message;
    return {};
  }
  std::map<std::string, std::string> values;
  for (auto* o = options; o->keyword; ++o)
    if (o->val) values[o->keyword] = o->val;
  PQconninfoFree(options);
  return values;
}

TEST(ConfigConninfo, PlainValues) {
  PostgresConfig pg;
  pg.password = "secret";
  EXPECT_EQ(pg.conninfo(),
            "host=127.0.0.1 port=5432 dbname=postgres user=postgres password=secret sslmode=prefer "
            "connect_timeout=10 application_name=pg2ch");
}

TEST(ConfigConninfo, ReplicationIsAddedOnlyWhenAsked) {
  PostgresConfig pg;
  EXPECT_EQ(libpq_parse(pg.conninfo(true))["replication"], "database");
  EXPECT_EQ(libpq_parse(pg.conninfo(false)).count("replication"), 0u);
}

TEST(ConfigConninfo, EmptyPasswordIsLeftOut) {
  PostgresConfig pg;
  EXPECT_EQ(pg.conninfo().find("password"), std::string::npos);
}

TEST(ConfigConninfo, SpecialCharactersRoundTripThroughLibpq) {
  PostgresConfig pg;
  pg.host = "/var/run/postgresql";
  pg.database = "my db";
  pg.user = "o'brien";
  pg.password = R"(p a's\s"w=rd \' x)";
  auto parsed = libpq_parse(pg.conninfo(true));
  EXPECT_EQ(parsed["host"], pg.host);
  EXPECT_EQ(parsed["dbname"], pg.database);
  EXPECT_EQ(parsed["user"], pg.user);
  EXPECT_EQ(parsed["password"], pg.password);
  EXPECT_EQ(parsed["application_name"], "pg2ch");
  EXPECT_EQ(parsed["sslmode"], "prefer");
}

TEST(ConfigConninfo, EmptyValueIsQuoted) {
  PostgresConfig pg;
  pg.database = "";
  auto parsed = libpq_parse(pg.conninfo());
  EXPECT_EQ(parsed["dbname"], "");
  EXPECT_EQ(parsed["user"], "postgres");
}

TEST(ConfigConninfo, DescribeIsUserHostPortDatabase) {
  PostgresConfig pg;
  pg.user = "reader";
  pg.database = "shop";
  EXPECT_EQ(pg.describe(), "reader@127.0.0.1:5432/shop");
  pg.host = "::1";
  EXPECT_EQ(pg.describe(), "reader@[::1]:5432/shop");
  ClickHouseConfig ch;
  ch.database = "analytics";
  EXPECT_EQ(ch.describe(), "default@127.0.0.1:8123/analytics");
}

}  // namespace
}  // namespace pg2ch::config

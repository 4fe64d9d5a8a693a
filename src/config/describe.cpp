// Connection descriptions: the libpq conninfo (secret, for connecting) and the user@host:port/db
// strings (safe for logs and error messages).
#include <string>
#include <string_view>

#include "config/config.h"

namespace pg2ch::config {
namespace {

// libpq conninfo values: bare when made of plain characters, otherwise single-quoted with quotes
// and backslashes escaped by a backslash. An empty value must be quoted, or libpq would read the
// next keyword as the value.
std::string conninfo_value(std::string_view v) {
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == '/' || c == ':';
  };
  bool bare = !v.empty();
  for (char c : v) bare = bare && plain(c);
  if (bare) return std::string(v);
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

void add(std::string& conninfo, std::string_view keyword, std::string_view value) {
  if (!conninfo.empty()) conninfo += ' ';
  conninfo += keyword;
  conninfo += '=';
  conninfo += conninfo_value(value);
}

// IPv6 literals need brackets before ":port" to stay readable.
std::string host_port(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string PostgresConfig::conninfo(bool replication) const {
  std::string s;
  add(s, "host", host);
  add(s, "port", std::to_string(port));
  add(s, "dbname", database);
  add(s, "user", user);
  if (!password.empty()) add(s, "password", password);
  add(s, "sslmode", sslmode);
  if (!sslrootcert.empty()) add(s, "sslrootcert", sslrootcert);
  if (!sslcert.empty()) add(s, "sslcert", sslcert);
  if (!sslkey.empty()) add(s, "sslkey", sslkey);
  add(s, "connect_timeout", std::to_string(connect_timeout_s));
  add(s, "application_name", "pg2ch");
  if (replication) add(s, "replication", "database");
  return s;
}

std::string PostgresConfig::describe() const { return user + "@" + host_port(host, port) + "/" + database; }

std::string ClickHouseConfig::describe() const {
  return user + "@" + host_port(host, port) + "/" + database;
}

}  // namespace pg2ch::config

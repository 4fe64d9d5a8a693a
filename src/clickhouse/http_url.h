#pragma once
// Request URLs. ClickHouse reads the database, the settings and (for inserts) the statement
// from URL parameters; everything else travels in the body. Credentials never go here.
#include <map>
#include <string>
#include <string_view>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

// "http(s)://host:port/?database=<db>", IPv6 hosts in brackets. Parameters are appended to it.
std::string base_url(const Endpoint& endpoint);

// Appends `s` percent-encoded: everything but RFC 3986 unreserved characters.
void append_url_encoded(std::string& out, std::string_view s);

// Appends "&key=value", both encoded.
void append_url_param(std::string& url, std::string_view key, std::string_view value);

}  // namespace pg2ch::clickhouse

#include "config/validators.h"

#include <algorithm>

namespace pg2ch::config::detail {

std::int64_t in_range(std::int64_t value, std::int64_t min, std::int64_t max, std::string_view remedy) {
  if (value >= min && value <= max) return value;
  throw Invalid{"must be between " + std::to_string(min) + " and " + std::to_string(max), std::string(remedy)};
}

std::string one_of(std::string value, std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  throw Invalid{"must be one of: " + list, "use one of the listed values (lowercase)"};
}

std::string non_empty(std::string value, std::string_view remedy) {
  if (!value.empty()) return value;
  throw Invalid{"must not be empty", std::string(remedy)};
}

std::string host_name(std::string value, std::string_view port_setting, bool socket_directory_allowed) {
  value = non_empty(std::move(value), "set the host name or address");
  // A URL or host:port used to reach the HTTP client or libpq as it was: curl then looked up the
  // host "http" (a connection error, retried as if the server were down) or refused the URL ("bad/
  // illegal format", naming no setting).
  if (value.find("://") != std::string::npos)
    throw Invalid{"is a URL, not a host name",
                  "write the host alone, e.g. ch.example.com; the port goes in " + std::string(port_setting) +
                      (port_setting.starts_with("clickhouse") ? " and https in clickhouse.secure = true" : "")};
  if (socket_directory_allowed && value.front() == '/') return value;  // libpq: a Unix socket directory
  if (value.find('/') != std::string::npos)
    throw Invalid{"holds a '/' (a path?), which a host name cannot", "write the host alone, e.g. db.example.com"};
  const bool ipv6 = value.front() == '[' || std::count(value.begin(), value.end(), ':') > 1;
  if (!ipv6 && value.find(':') != std::string::npos)
    throw Invalid{"includes a port (host:port)", "write the host alone and the port in " + std::string(port_setting)};
  return value;
}

std::string pg_identifier(std::string value) {
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; };
  if (!value.empty() && value.size() <= 63 && std::all_of(value.begin(), value.end(), ok)) return value;
  throw Invalid{"must be 1 to 63 characters from a-z, 0-9 and _",
                "pick a lowercase name such as pg2ch_orders (PostgreSQL slot/publication name rules)"};
}

std::string pipeline_name(std::string value) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  };
  if (!value.empty() && value.size() <= 63 && std::all_of(value.begin(), value.end(), ok)) return value;
  throw Invalid{"must be 1 to 63 characters from A-Z, a-z, 0-9, '_', '-' and '.'",
                "name the pipeline after what it copies, e.g. orders-to-ch"};
}

std::string cluster_name(std::string value) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto ok = [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; };
  if (value.empty() || (letter(value.front()) && std::all_of(value.begin(), value.end(), ok))) return value;
  throw Invalid{"is not a cluster name (letters, digits, '_', '-' and '.', starting with a letter or '_')",
                "write the cluster's name as the servers' <remote_servers> section spells it, or \"\" for none"};
}

}  // namespace pg2ch::config::detail

namespace pg2ch::config::detail {

std::string listen_address(std::string value) {
  if (value.empty()) return value;
  const auto colon = value.rfind(':');
  std::int64_t port = 0;
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < value.size();
  for (std::size_t i = colon + 1; ok && i < value.size(); ++i) {
    ok = value[i] >= '0' && value[i] <= '9';
    port = port * 10 + (value[i] - '0');
    ok = ok && port <= 65535;
  }
  if (ok) return value;  // port 0: any free port (the log says which)
  throw Invalid{"must be host:port", "listen on e.g. 127.0.0.1:9187 (or 0.0.0.0:9187 for every interface)"};
}

}  // namespace pg2ch::config::detail

#pragma once
// Checks shared by the settings table. Each returns the accepted value or throws Invalid with
// a problem and a remedy; none of them repeats the value, so they are safe for secrets too.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "config/settings.h"

namespace pg2ch::config::detail {

std::int64_t in_range(std::int64_t value, std::int64_t min, std::int64_t max, std::string_view remedy);
std::string one_of(std::string value, std::initializer_list<std::string_view> allowed);
std::string non_empty(std::string value, std::string_view remedy);
// A host name or address for a client: not a URL, not host:port, no path (IPv6 addresses and, with
// `socket_directory_allowed`, libpq's absolute socket directory are fine). Empty is an error.
std::string host_name(std::string value, std::string_view port_setting, bool socket_directory_allowed);
// PostgreSQL names pg2ch creates itself (slot, publication): [a-z0-9_]{1,63}, so they never need
// quoting and never hit the 63-byte NAMEDATALEN truncation.
std::string pg_identifier(std::string value);
// Pipeline name: it appears in logs, state keys and unit names, so no spaces or slashes.
std::string pipeline_name(std::string value);
// A ClickHouse cluster name: the name of an element under <remote_servers>, so an XML name
// (letters, digits, '_', '-', '.'; not starting with a digit, '-' or '.'). Empty stays empty (none).
std::string cluster_name(std::string value);
// host:port for a listener (IPv4 address or name; port 1..65535); empty stays empty (off).
std::string listen_address(std::string value);

}  // namespace pg2ch::config::detail

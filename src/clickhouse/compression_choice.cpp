#include <algorithm>
#include <cctype>
#include <string>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

// On loopback the wire is free and compressing only burns CPU on both ends.
bool is_loopback(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return iequals(host, "localhost") || host.starts_with("127.") || host == "::1";
}

}  // namespace

Compression choose_compression(std::string_view setting, std::string_view host, const ServerCapabilities* caps) {
  if (iequals(setting, "none")) return Compression::None;
  if (iequals(setting, "gzip")) return Compression::Gzip;
  if (iequals(setting, "auto")) return is_loopback(host) ? Compression::None : Compression::Gzip;
  if (iequals(setting, "zstd")) {
    // Older servers answer "Unknown Content-Encoding of HTTP request: zstd" to every insert;
    // say so at startup instead.
    if (caps && !caps->http_zstd)
      throw Error(ErrorKind::Config,
                  "clickhouse.compression = zstd, but ClickHouse " + caps->version.text +
                      " does not accept zstd request bodies (needs 21.1 or later)",
                  "set clickhouse.compression to gzip or auto");
    return Compression::Zstd;
  }
  throw Error(ErrorKind::Config, "clickhouse.compression = '" + std::string(setting) + "' is not one of auto, none, gzip, zstd",
              "set clickhouse.compression to auto, none, gzip or zstd");
}

}  // namespace pg2ch::clickhouse

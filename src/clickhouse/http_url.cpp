#include "clickhouse/http_url.h"

namespace pg2ch::clickhouse {
namespace {

std::string host_port(const Endpoint& e) {
  const bool ipv6 = e.host.find(':') != std::string::npos && !e.host.starts_with('[');
  std::string s = ipv6 ? "[" + e.host + "]" : e.host;
  return s + ":" + std::to_string(e.port);
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

}  // namespace

std::string Endpoint::describe() const { return user + "@" + host_port(*this) + "/" + database; }

std::string base_url(const Endpoint& endpoint) {
  std::string url = endpoint.secure ? "https://" : "http://";
  url += host_port(endpoint);
  url += "/?database=";
  append_url_encoded(url, endpoint.database);
  return url;
}

void append_url_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

void append_url_param(std::string& url, std::string_view key, std::string_view value) {
  url.push_back('&');
  append_url_encoded(url, key);
  url.push_back('=');
  append_url_encoded(url, value);
}

}  // namespace pg2ch::clickhouse

#include "clickhouse/server_capabilities.h"

#include <charconv>

namespace pg2ch::clickhouse {

ServerVersion parse_server_version(std::string_view text) {
  ServerVersion v;
  v.text = std::string(text);
  int* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int* part : parts) {
    auto r = std::from_chars(p, end, *part);
    if (r.ec != std::errc()) break;
    p = r.ptr;
    if (p == end || *p != '.') break;
    ++p;
  }
  return v;
}

ServerCapabilities ServerCapabilities::from_version(const ServerVersion& v) {
  ServerCapabilities c;
  c.version = v;
  c.datetime64 = v.at_least(20, 1);
  c.date32 = v.at_least(21, 9);
  c.bool_type = v.at_least(21, 12);
  c.decimal256 = v.at_least(22, 1);
  c.replacing_is_deleted = v.at_least(23, 2);
  c.create_or_replace_view = v.at_least(20, 1);
  c.rename_column = v.at_least(20, 4);
  c.http_zstd = v.at_least(21, 1);
  c.insert_deduplication_token = v.at_least(22, 2);
  c.summary_counts_rows = v.at_least(22, 5);
  c.async_insert = v.at_least(21, 11);
  return c;
}

ServerCapabilities ServerCapabilities::newest() {
  ServerVersion v;
  v.major = 99999;  // text stays empty: no server was asked
  return from_version(v);
}

}  // namespace pg2ch::clickhouse

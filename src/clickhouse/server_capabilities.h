#pragma once
// What the connected ClickHouse server can do, derived from version(). Debian's 18.16 lacks many
// types newer servers have; every DDL or encoding decision that differs by version asks here.
#include <string>
#include <string_view>

namespace pg2ch::clickhouse {

struct ServerVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string text;  // as returned by SELECT version()

  bool at_least(int maj, int min = 0) const { return major > maj || (major == maj && minor >= min); }
};

ServerVersion parse_server_version(std::string_view text);

struct ServerCapabilities {
  ServerVersion version;
  bool datetime64 = false;        // DateTime64(6)            >= 20.1
  bool date32 = false;            // Date32                   >= 21.9
  bool bool_type = false;         // Bool                     >= 21.12
  bool decimal256 = false;        // Decimal256 / precision > 38 without experimental flags >= 22.1
  bool replacing_is_deleted = false;  // ReplacingMergeTree(ver, is_deleted) >= 23.2
  bool create_or_replace_view = false;  // CREATE OR REPLACE VIEW >= 20.1 (older: DROP + CREATE)
  bool rename_column = false;     // ALTER TABLE ... RENAME COLUMN >= 20.4
  bool http_zstd = false;         // Content-Encoding: zstd on requests >= 21.1
  bool insert_deduplication_token = false;  // insert_deduplication_token setting >= 22.2
  bool summary_counts_rows = false;  // X-ClickHouse-Summary holds final counts without progress headers >= 22.5
  bool async_insert = false;      // async_insert + wait_for_async_insert >= 21.11

  static ServerCapabilities from_version(const ServerVersion& v);
  // Everything on: for describing tables when no ClickHouse server is involved (a Kafka sink).
  static ServerCapabilities newest();
};

}  // namespace pg2ch::clickhouse

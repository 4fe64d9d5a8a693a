#include "clickhouse/deduplication.h"

#include <fmt/format.h>

#include <functional>

namespace pg2ch::clickhouse {

std::string deduplication_token(std::uint64_t lowest_version, std::uint64_t highest_version, std::size_t rows,
                                std::string_view body) {
  // std::hash of the bytes (libstdc++: 64-bit murmur) runs at memory speed on 32 MB batches. It
  // only has to be stable between runs of one pg2ch build: after an upgrade a re-sent batch
  // merely goes undetected, and ReplacingMergeTree still collapses its rows at merge time.
  const std::size_t content = std::hash<std::string_view>{}(body);
  return fmt::format("pg2ch-{}-{}-{}-{:016x}", lowest_version, highest_version, rows, content);
}

}  // namespace pg2ch::clickhouse

#pragma once
// Exactly-once INSERTs where the server can: a batch sent again after a crash or a lost answer
// carries the same insert_deduplication_token as the first time, and ClickHouse drops it instead
// of writing its rows twice.
//
// The token names the batch's source positions (the lowest and highest _version in it, which in
// logical mode are WAL positions) and its row count, and ends in a hash of the encoded rows, so
// two batches that differ in any byte never share a token, whatever a mode's versions are: a
// token matching by position alone could drop a batch whose rows differ (initial-copy rows all
// have version 0). Dropping a batch is therefore only ever dropping rows already written.
//
// What ClickHouse needs: insert_deduplication_token (22.2+), and on a non-replicated table a
// deduplication window (SETTINGS non_replicated_deduplication_window, which pg2ch sets on the
// tables it creates there); with the window set, the server also drops an identical block sent
// without a token, by its hash. Replicated tables have a window by default. TRUNCATE clears it,
// so rows copied again after a TRUNCATE are written. docs/clickhouse.md has the measurements.
#include <cstdint>
#include <string>
#include <string_view>

namespace pg2ch::clickhouse {

// How many recent INSERTs a non-replicated target remembers (ClickHouse's default for replicated
// tables is of the same order). A batch re-sent after a crash is among the last few of its table.
inline constexpr int kDeduplicationWindow = 1000;

std::string deduplication_token(std::uint64_t lowest_version, std::uint64_t highest_version, std::size_t rows,
                                std::string_view body);

}  // namespace pg2ch::clickhouse

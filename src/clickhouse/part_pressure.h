#pragma once
// How close each target is to ClickHouse's "Too many parts": every INSERT makes a part, merges
// join them, and a partition with parts_to_delay_insert active parts makes the server slow each
// INSERT down, with parts_to_throw_insert refuse it (code 252). Counted from system.parts (this
// server's parts: one shard on a cluster) and the server's MergeTree defaults.
//
// The change sink asks every few seconds and spaces a pressed table's INSERTs out before the
// server has to (pipeline/insert_budget.h); `status` shows the same counts.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "clickhouse/http_client.h"

namespace pg2ch::clickhouse {

struct PartLimits {
  std::int64_t delay_at = 150;  // parts_to_delay_insert (18.16's default; read from the server)
  std::int64_t throw_at = 300;  // parts_to_throw_insert
};

PartLimits read_part_limits(HttpClient& client);

// Per table of `database`: the active parts of its fullest partition.
std::map<std::string, std::int64_t> active_parts(HttpClient& client, const std::string& database);

// The least time between two INSERTs into a table with `parts` active parts in one partition:
// none below half of delay_at (nullopt), then 5 s, and 20 s from delay_at on (the server itself
// delays inserts there). Merges bring the count down; the next look lifts the floor again.
std::optional<std::chrono::milliseconds> pressed_interval(std::int64_t parts, const PartLimits& limits);

// "db.t has 160 active parts in one partition (ClickHouse delays INSERTs at 150, refuses them at 300)"
std::string describe_parts(const std::string& table, std::int64_t parts, const PartLimits& limits);

}  // namespace pg2ch::clickhouse

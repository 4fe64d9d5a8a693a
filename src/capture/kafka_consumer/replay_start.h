#pragma once
// `pg2ch replay --from beginning|end|offset:N|time:ISO8601`: where the consumer group starts
// reading each partition instead of its committed offset.
#include <cstdint>
#include <functional>
#include <string>

namespace pg2ch::capture::kafka_consumer {

struct ReplayStart {
  enum class Kind { Beginning, End, Offset, Time };
  Kind kind = Kind::Beginning;
  std::int64_t value = 0;  // the offset (Offset) or milliseconds since 1970-01-01 UTC (Time)
  std::string text;        // as given, for logs
};

// Parses the --from argument. `parse_time_ms` turns the ISO 8601 text of time:… into epoch
// milliseconds (the caller asks PostgreSQL, which accepts every ISO 8601 spelling). Throws
// Error(Config) for anything else.
ReplayStart parse_replay_start(const std::string& from,
                               const std::function<std::int64_t(const std::string&)>& parse_time_ms);

}  // namespace pg2ch::capture::kafka_consumer

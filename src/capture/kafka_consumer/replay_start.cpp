#include "capture/kafka_consumer/replay_start.h"

#include <charconv>

#include "common/error.h"

namespace pg2ch::capture::kafka_consumer {

ReplayStart parse_replay_start(const std::string& from,
                               const std::function<std::int64_t(const std::string&)>& parse_time_ms) {
  const auto bad = [&] {
    return Error(ErrorKind::Config, "--from " + from + " is not a replay start",
                 "use beginning, end, offset:N or time:2024-05-01T10:00:00Z");
  };
  ReplayStart r;
  r.text = from;
  if (from == "beginning") return r;
  if (from == "end") {
    r.kind = ReplayStart::Kind::End;
    return r;
  }
  if (from.starts_with("offset:")) {
    r.kind = ReplayStart::Kind::Offset;
    const char* first = from.data() + 7;
    const char* last = from.data() + from.size();
    const auto [p, ec] = std::from_chars(first, last, r.value);
    if (ec != std::errc() || p != last || first == last || r.value < 0) throw bad();
    return r;
  }
  if (from.starts_with("time:") && from.size() > 5) {
    r.kind = ReplayStart::Kind::Time;
    r.value = parse_time_ms(from.substr(5));
    return r;
  }
  throw bad();
}

}  // namespace pg2ch::capture::kafka_consumer

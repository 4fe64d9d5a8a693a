#include "capture/shared/copy_truncate.h"

#include <fmt/format.h>

#include "common/error.h"

namespace pg2ch::capture {

std::size_t truncate_through_sink(pipeline::ChangeSink& sink, const std::vector<const pipeline::TableSchema*>& tables,
                                  pipeline::Position position) {
  std::vector<const pipeline::TableSchema*> held;
  for (const auto* t : tables) {
    if (sink.consumers_may_hold(*t)) held.push_back(t);
  }
  if (held.empty()) return 0;
  sink.begin_transaction();
  for (const auto* t : held) sink.truncate(*t);
  sink.commit_transaction(position);
  return held.size();
}

void require_durable(pipeline::ChangeSink& sink, pipeline::Position position, std::string_view what) {
  sink.flush();
  const auto durable = sink.durable_position();
  if (!durable || *durable < position) {
    throw Error(ErrorKind::Connection, fmt::format("{} was not delivered to the sink", what),
                "check that Kafka is reachable; pg2ch takes the copy again on restart", true);
  }
}

}  // namespace pg2ch::capture

#include "capture/shared/copy_truncate.h"

#include <fmt/format.h>

#include "common/error.h"

namespace pg2ch::capture {

void truncate_through_sink(pipeline::ChangeSink& sink, const std::vector<const pipeline::TableSchema*>& tables,
                           pipeline::Position position) {
  sink.begin_transaction();
  for (const auto* t : tables) sink.truncate(*t);
  sink.commit_transaction(position);
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

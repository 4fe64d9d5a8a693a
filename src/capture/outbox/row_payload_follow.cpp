#include "capture/outbox/row_payload_follow.h"

#include <fmt/format.h>

#include <algorithm>

namespace pg2ch::capture::outbox {

std::optional<std::string> row_payload_refusal(const pipeline::TableSchema& was, const pipeline::TableSchema& now) {
  for (const auto& c : now.source_columns) {
    const auto old = std::find_if(was.source_columns.begin(), was.source_columns.end(),
                                  [&](const pipeline::SourceColumn& o) { return o.attnum == c.attnum; });
    if (old != was.source_columns.end() && old->target_index < 0 && c.target_index >= 0) {
      return fmt::format("column {} was renamed to {}, which the config does not exclude: add {} to the table's "
                         "exclude list, or it is copied into the events table from now on",
                         old->name, c.name, c.name);
    }
  }
  return std::nullopt;
}

}  // namespace pg2ch::capture::outbox

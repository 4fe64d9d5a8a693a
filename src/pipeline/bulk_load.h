#pragma once
// A sink's bulk-load capability (ChangeSink::bulk_load()): the initial copy streams each table
// range as one request of RowBinary rows (pipeline/row_encoder.h, version kSnapshotVersion)
// instead of going change by change through the sink. Sinks without one (Kafka: the copy must
// become events; "both": Kafka again) return none, and the copy goes through the sink.
//
// One writer per copying thread; writers are independent (their own connections).
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "pipeline/table_schema.h"

namespace pg2ch::pipeline {

class BulkWriter {
 public:
  virtual ~BulkWriter() = default;
  // Sends the rows `next_chunk` produces (an empty view ends them) as one request into the target
  // of `table`. Throws pg2ch::Error; what was sent of a failed request may be partly in the target.
  // `rows_sent` counts the rows once next_chunk has ended them: a target that reports what it
  // wrote is checked against it (a shortfall is an Error, never a copy called done).
  virtual void write(const TableSchema& table, const std::function<std::string_view()>& next_chunk,
                     const std::function<std::uint64_t()>& rows_sent) = 0;
};

class BulkLoad {
 public:
  virtual ~BulkLoad() = default;
  virtual std::unique_ptr<BulkWriter> writer() = 0;  // thread-safe
};

}  // namespace pg2ch::pipeline

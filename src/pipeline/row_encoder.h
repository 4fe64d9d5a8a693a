#pragma once
// Encodes one change of one table as a RowBinary row of the target table:
//   replicated columns (source order) + _version UInt64 + _deleted UInt8.
// Values are looked up by *source* column index, so the same encoder serves COPY rows (which
// list only replicated columns, see SnapshotValues) and pgoutput tuples (which list every column).
#include <cstdint>
#include <functional>
#include <span>

#include "clickhouse/rowbinary_writer.h"
#include "common/byte_buffer.h"
#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::pipeline {

class RowEncoder {
 public:
  explicit RowEncoder(const TableSchema& schema) : schema_(schema) {}

  // A full row. `values[i]` is the value of source column i. Must not contain UnchangedToast
  // (callers resolve those first). Throws Error(Data) naming table and column on a bad value;
  // the buffer is rolled back to its previous size in that case.
  void encode_row(std::span<const ValueRef> values, std::uint64_t version, ByteBuffer& out) const {
    encode_live(values, /*by_source_index=*/true, version, out);
  }

  // Same for rows listing only replicated columns in target order (the snapshot's COPY output).
  void encode_target_row(std::span<const ValueRef> target_values, std::uint64_t version, ByteBuffer& out) const {
    encode_live(target_values, /*by_source_index=*/false, version, out);
  }

  // A delete marker: key columns from `values` (source order), every other column its zero
  // value or NULL, _deleted = 1.
  void encode_delete(std::span<const ValueRef> values, std::uint64_t version, ByteBuffer& out) const;

  const TableSchema& schema() const { return schema_; }

 private:
  void encode_live(std::span<const ValueRef> values, bool by_source_index, std::uint64_t version, ByteBuffer& out) const;
  void encode_value(const TargetColumn& col, const ValueRef& v, clickhouse::RowBinaryWriter& w) const;
  void encode_default(const TargetColumn& col, clickhouse::RowBinaryWriter& w) const;
  [[noreturn]] void fail(const TargetColumn& col, const std::exception& e) const;

  const TableSchema& schema_;
};

}  // namespace pg2ch::pipeline

#pragma once
// The same value as the same text on both sides: for each replicated column a PostgreSQL and a
// ClickHouse expression that render one value identically (NULL stays NULL), so a hash of a
// row's text can be computed by each server and compared. Pure: SQL text only.
#include <optional>
#include <string>

#include "pipeline/table_schema.h"

namespace pg2ch::verify {

struct ColumnText {
  std::string pg;  // over the quoted PostgreSQL column
  std::string ch;  // over the quoted ClickHouse column
};

// nullopt when the pair of types has no shared text form yet; `why` then names the types.
std::optional<ColumnText> column_text(const pipeline::SourceColumn& source, const pipeline::TargetColumn& target,
                                      std::string& why);

// The ClickHouse type without Nullable(...) / LowCardinality(...) around it.
std::string inner_clickhouse_type(const std::string& type);

}  // namespace pg2ch::verify

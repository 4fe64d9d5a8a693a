#pragma once
// A row's key as an operator reads it in an error ("id=42", "tenant=7, id=abc"): the one row
// value an error about a stopped table names, so the row can be found and corrected. Integer,
// text and uuid keys print as such; other types as their byte length.
#include <span>
#include <string>

#include "pipeline/table_schema.h"
#include "pipeline/value.h"

namespace pg2ch::pipeline {

// `row` is indexed by source column (as the sinks get it).
std::string key_text(const TableSchema& table, std::span<const ValueRef> row);

}  // namespace pg2ch::pipeline

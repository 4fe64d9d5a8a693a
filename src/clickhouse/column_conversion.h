#pragma once
// Whether ALTER TABLE ... MODIFY COLUMN from one ClickHouse type to another keeps every value the
// column holds exactly (ClickHouse converts the existing parts with CAST): the target side of a
// column type widened in place (capture/logical/schema_evolution.h). Only conversions where every
// value of the old type is a value of the new one: wider integers of the same signedness,
// Float32 → Float64, Decimal(P, S) → Decimal(P' ≥ P, S), and T → Nullable(T') for those. Not
// Decimal → String (its text drops trailing zeros on newer servers, PostgreSQL's keeps them).
#include <string_view>

namespace pg2ch::clickhouse {

bool converts_exactly(std::string_view from, std::string_view to);

}  // namespace pg2ch::clickhouse

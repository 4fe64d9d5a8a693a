#pragma once
// numeric(p,s) → ClickHouse Decimal(P,S) with integer arithmetic on the base-10000 digits: no
// text round-trip, no allocation. Decimal32/64/128/256 storage is chosen from P like the server
// does (P ≤ 9, ≤ 18, ≤ 38, ≤ 76).
#include <memory>
#include <string>

#include "types/value_codec.h"

namespace pg2ch::types {

// ClickHouse Decimal(P, S) with 1 ≤ P ≤ 76, 0 ≤ S ≤ P. NaN/±Infinity throw Error(Data), and so
// does any value that would lose digits (more integer digits than P - S, or non-zero digits
// beyond S): PostgreSQL enforces the typmod, so that only happens after a type change.
std::unique_ptr<ValueCodec> make_decimal_codec(int precision, int scale);

// "Decimal(P, S)": the spelling ClickHouse itself uses in SHOW CREATE TABLE.
std::string decimal_type_name(int precision, int scale);

}  // namespace pg2ch::types

#pragma once
// numeric → String holding exactly what PostgreSQL's numeric_out prints: the fallback for an
// unconstrained numeric or a precision the server's Decimal cannot hold. Lossless, including
// trailing zeros of the display scale, NaN and ±Infinity.
#include <memory>
#include <string>
#include <string_view>

#include "types/value_codec.h"

namespace pg2ch::types {

std::unique_ptr<ValueCodec> make_numeric_text_codec();

// The numeric_send bytes `v` as numeric_out prints them, cut to `max_chars` (with "..." and the
// full length) for messages: a numeric may have 131072 integer digits.
std::string numeric_text(std::string_view v, std::size_t max_chars = 80);

}  // namespace pg2ch::types

#pragma once
// numeric → String holding exactly what PostgreSQL's numeric_out prints: the fallback for an
// unconstrained numeric or a precision the server's Decimal cannot hold. Lossless, including
// trailing zeros of the display scale, NaN and ±Infinity.
#include <memory>

#include "types/value_codec.h"

namespace pg2ch::types {

std::unique_ptr<ValueCodec> make_numeric_text_codec();

}  // namespace pg2ch::types

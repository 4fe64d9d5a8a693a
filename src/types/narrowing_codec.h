#pragma once
// A column whose type was widened at the source while its target keeps the narrower type
// (logical.on_type_widened = "ignore"): values arrive in the wider type's binary form and are
// written as the narrower type, each checked to fit exactly. One that does not (a bigint beyond
// the Int32 range, a double that is no float, a numeric with more digits than the Decimal holds)
// is an Error(Data) naming the value, which stops the table as any value the target cannot hold.
#include <cstdint>
#include <memory>

#include "types/value_codec.h"

namespace pg2ch::types {

// `inner`: the codec of type `to_oid` (the target's); `from_oid`: the type the values arrive in.
// int8 → int4/int2, int4 → int2, float8 → float4 are converted; other pairs (numeric, varchar and
// text, whose binary forms the narrower codec reads as they are) go to `inner` unchanged.
std::unique_ptr<ValueCodec> make_narrowing_codec(std::unique_ptr<ValueCodec> inner, std::uint32_t from_oid,
                                                 std::uint32_t to_oid);

}  // namespace pg2ch::types

#pragma once
// PostgreSQL arrays (array_send format) → ClickHouse Array(Nullable(T)), nested one Array level
// per declared dimension. Elements are converted by the element type's own codec.
//
// array_send: int32 ndim, int32 has-nulls flag, uint32 element type oid, ndim × (int32 length,
// int32 lower bound), then each element in row-major order as int32 length (-1 = NULL) + bytes.
#include <memory>

#include "types/value_codec.h"

namespace pg2ch::types {

// `dims` ≥ 1 is the number of ClickHouse Array levels. A non-empty value with a different number
// of dimensions throws Error(Data); an empty array (any ndim, or a zero-length dimension) is
// written as []. Lower bounds are dropped: ClickHouse arrays always start at 1.
// The element oid in the header is not checked: arrays of a domain carry the domain's oid, not
// the base type's, while every element length is still validated by the element codec.
std::unique_ptr<ValueCodec> make_array_codec(std::unique_ptr<ValueCodec> element, int dims);

}  // namespace pg2ch::types

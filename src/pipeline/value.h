#pragma once
// One column value on its way from a capture to the sink: a view into the capture's buffer
// (COPY row, pgoutput tuple, fetched row), in PostgreSQL binary format.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

namespace pg2ch::pipeline {

struct ValueRef {
  enum class Kind : std::uint8_t { Null, Binary, UnchangedToast };
  Kind kind = Kind::Null;
  std::string_view data;

  static ValueRef null() { return {}; }
  static ValueRef binary(std::string_view d) { return {Kind::Binary, d}; }
  static ValueRef unchanged() { return {Kind::UnchangedToast, {}}; }
};

// An UPDATE left large values out (pgoutput does not resend unchanged TOAST): the row needs them
// filled from elsewhere before it can be written whole.
inline bool has_unchanged_toast(std::span<const ValueRef> row) {
  return std::any_of(row.begin(), row.end(), [](const ValueRef& v) { return v.kind == ValueRef::Kind::UnchangedToast; });
}

}  // namespace pg2ch::pipeline

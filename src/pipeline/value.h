#pragma once
// One column value on its way from a capture to the sink: a view into the capture's buffer
// (COPY row, pgoutput tuple, fetched row), in PostgreSQL binary format.
#include <cstdint>
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

}  // namespace pg2ch::pipeline

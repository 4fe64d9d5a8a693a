#pragma once
// Shared by the libFuzzer targets: the rule every target follows. Bad input must end in a
// pg2ch::Error (the product's documented failure); anything else escaping is a finding, and so is
// a crash, a sanitizer report or a hang, which libFuzzer reports by itself.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "common/error.h"

namespace pg2ch::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; a pg2ch::Error is the expected outcome for bad input, any other exception aborts
// so libFuzzer records the input.
template <class Body>
void expect_only_pg2ch_errors(Body&& body) {
  try {
    body();
  } catch (const pg2ch::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finding: exception other than pg2ch::Error: %s\n", e.what());
    std::abort();
  }
}

}  // namespace pg2ch::fuzz

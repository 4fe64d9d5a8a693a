#include "types/pg_binary.h"

#include <string>

namespace pg2ch::types::pgbin {

void throw_bad_length(std::string_view type, std::size_t expected, std::size_t got) {
  throw ProtocolError("malformed " + std::string(type) + " value: expected " + std::to_string(expected) +
                      " bytes, got " + std::to_string(got));
}

void throw_malformed(std::string_view type, std::string_view problem, std::size_t offset) {
  throw ProtocolError("malformed " + std::string(type) + " value: " + std::string(problem) + " at byte " +
                      std::to_string(offset));
}

}  // namespace pg2ch::types::pgbin

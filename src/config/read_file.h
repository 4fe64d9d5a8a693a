#pragma once
#include <string>

namespace pg2ch::config::detail {

// Whole file as text; throws Error(Config) naming `what` ("config file", ".env file") and path.
std::string read_file(const std::string& path, const std::string& what);

}  // namespace pg2ch::config::detail

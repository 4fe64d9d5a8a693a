#pragma once
// Secrets kept in files: the *.password_file settings (read once every layer is applied) and the
// check that a file holding secrets (.env, a password file) is not readable by other users.
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace pg2ch::config::detail {

// A warning naming `what` and `path` when group or others may read the file; nullopt otherwise
// (or when the file cannot be inspected: reading it reports that).
std::optional<std::string> readable_by_others(const std::string& path, std::string_view what);

// postgres.password_file, clickhouse.password_file, kafka.sasl_password_file -> the password
// settings (the file's first line). Throws Error(Config) when a file cannot be read, is empty,
// or its password is also set directly. Adds a warning to config.warnings for a readable file.
void read_password_files(Config& config);

}  // namespace pg2ch::config::detail

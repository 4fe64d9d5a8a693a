#include "config/secret_files.h"

#include <filesystem>
#include <fmt/format.h>

#include "common/error.h"
#include "config/read_file.h"

namespace pg2ch::config::detail {
namespace {

// The password is the first line, without its line end: `echo secret > file` writes a newline
// that is not part of the password.
std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void read_one(Config& config, std::string_view password_key, std::string& password, const std::string& path) {
  if (path.empty()) return;
  const std::string file_key = std::string(password_key) + "_file";
  if (!password.empty()) {
    throw Error(ErrorKind::Config, fmt::format("{} and {} are both set", password_key, file_key),
                fmt::format("keep one: remove {} (and its environment variable) or {}", password_key, file_key));
  }
  std::string secret = first_line(read_file(path, file_key));
  if (secret.empty()) {
    throw Error(ErrorKind::Config, fmt::format("{} {} is empty", file_key, path),
                "write the password on the file's first line");
  }
  if (auto warning = readable_by_others(path, file_key)) config.warnings.push_back(*warning);
  // As a password given directly: a changed file is a changed setting on SIGHUP.
  config.given[std::string(password_key)] = "digest " + std::to_string(std::hash<std::string>{}(secret));
  password = std::move(secret);
}

}  // namespace

std::optional<std::string> readable_by_others(const std::string& path, std::string_view what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::perms p = fs::status(path, ec).permissions();
  if (ec) return std::nullopt;
  if ((p & (fs::perms::group_read | fs::perms::others_read)) == fs::perms::none) return std::nullopt;
  const auto mode = static_cast<unsigned>(p & fs::perms::mask);
  return fmt::format("{} {} holds secrets but other users may read it (mode {:04o}): chmod 600 {}", what, path, mode,
                     path);
}

void read_password_files(Config& config) {
  read_one(config, "postgres.password", config.postgres.password, config.postgres.password_file);
  read_one(config, "clickhouse.password", config.clickhouse.password, config.clickhouse.password_file);
  read_one(config, "kafka.sasl_password", config.kafka.sasl_password, config.kafka.sasl_password_file);
}

}  // namespace pg2ch::config::detail

#include "config/read_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace pg2ch::config::detail {

std::string read_file(const std::string& path, const std::string& what) {
  // An ifstream opens a directory and reads it as empty: a config that silently has no settings.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(ErrorKind::Config, what + " " + path + " is a directory, not a file",
                "name the file itself, e.g. " + (std::filesystem::path(path) / "pg2ch.toml").string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorKind::Config, what + " " + path + " cannot be read: " + std::strerror(errno),
                "check the path and that pg2ch's user may read it");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(ErrorKind::Config, what + " " + path + " cannot be read", "check the file");
  return text.str();
}

}  // namespace pg2ch::config::detail

#include "config/read_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace pg2ch::config::detail {

std::string read_file(const std::string& path, const std::string& what) {
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

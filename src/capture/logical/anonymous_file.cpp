#include "capture/logical/anonymous_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace pg2ch::capture::logical {

std::string spool_directory(const config::Config& cfg) {
  if (!cfg.logical.spool_dir.empty()) return cfg.logical.spool_dir;
  const auto parent = std::filesystem::path(cfg.state.path).parent_path();
  return parent.empty() ? "." : parent.string();
}

FilePtr open_anonymous_file(const std::string& directory, std::size_t buffer) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string path = directory;
    path.append("/pg2ch-spool-XXXXXX");
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.c_str());
  }
  if (fd < 0) return nullptr;
  FilePtr file(::fdopen(fd, "w+b"));
  if (!file) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return nullptr;
  }
  std::setvbuf(file.get(), nullptr, _IOFBF, buffer);
  return file;
}

}  // namespace pg2ch::capture::logical

#include "state/file_state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/error.h"

namespace pg2ch::state {

namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw Error(ErrorKind::Config, fmt::format("cannot {} state file {}: {}", what, path, std::strerror(errno)),
              "check that the directory of state.path exists and is writable by the pg2ch user");
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("write", path);
    }
    off += static_cast<std::size_t>(n);
  }
}

// An exclusive flock on "<state file>.lock" for one read-modify-write: several processes of one
// pipeline (outbox drainers, `pg2ch resync` beside a running pipeline) write the same file, and
// without it two writers share the temporary file's name and each may drop the other's keys.
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) : path_(path + ".lock") {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) io_error("create the lock file of", path);
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd_);
      errno = saved;
      io_error("lock", path);
    }
  }
  ~WriteLock() { ::close(fd_); }  // closing releases the lock
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

// A TOML basic string ("..." with escapes), written directly: building a toml::table of every
// key to print it took most of a write of a large state.
void append_toml_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

FileStateStore::FileStateStore(std::string path) : path_(std::move(path)) { load(); }

void FileStateStore::refresh() {
  const std::lock_guard guard(mutex_);
  load();
}

FileStateStore::Seen FileStateStore::seen_now() const {
  struct stat st{};
  if (::stat(path_.c_str(), &st) != 0) return {};
  return {true, st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

void FileStateStore::load_if_changed() {
  if (seen_.exists && seen_now() == seen_) return;
  load();
}

void FileStateStore::load() {
  values_.clear();
  seen_ = seen_now();
  if (!seen_.exists) return;
  try {
    toml::table t = toml::parse_file(path_);
    for (auto&& [k, v] : t) {
      if (auto s = v.value<std::string>()) values_[std::string(k.str())] = *s;
    }
  } catch (const toml::parse_error& e) {
    throw Error(ErrorKind::Config, fmt::format("state file {} is corrupt: {}", path_, e.description()),
                "move it away to start over (the initial snapshot will be taken again)");
  }
}

std::optional<std::string> FileStateStore::get(const std::string& key) const {
  const std::lock_guard guard(mutex_);
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

void FileStateStore::put(const std::map<std::string, std::string>& updates) {
  const std::lock_guard guard(mutex_);
  const WriteLock lock(path_);
  load_if_changed();
  for (const auto& [k, v] : updates) values_[k] = v;
  save();
}

void FileStateStore::erase(const std::string& key) {
  const std::lock_guard guard(mutex_);
  const WriteLock lock(path_);
  load_if_changed();
  if (values_.erase(key)) save();
}

void FileStateStore::save() {
  std::string text = "# pg2ch state: written atomically by pg2ch, do not edit while it runs\n";
  for (const auto& [k, v] : values_) {
    append_toml_string(text, k);
    text += " = ";
    append_toml_string(text, v);
    text += '\n';
  }

  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) io_error("create", tmp);
  try {
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0) io_error("fsync", tmp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) io_error("replace", path_);
  seen_ = seen_now();  // what it holds is values_: the next write needs not read it again
  const auto dir = std::filesystem::absolute(path_).parent_path();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace pg2ch::state

#pragma once
// A file in `directory` that has no name (O_TMPFILE; where the file system lacks it, a named
// file unlinked at once): it disappears with the process, whatever the way it ends. For what
// waits on disk rather than in memory and never needs to survive a crash (the spool of streamed
// transactions, a copy's chunk).
#include <cstdio>
#include <memory>
#include <string>

#include "config/config.h"

namespace pg2ch::capture::logical {

// Where they go: logical.spool_dir, or beside the state file (a directory the service may write
// to: StateDirectory= in the systemd unit).
std::string spool_directory(const config::Config& cfg);

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Creates `directory` if missing; opens the file for reading and writing with a buffer of
// `buffer` bytes. Null with errno set when it cannot.
FilePtr open_anonymous_file(const std::string& directory, std::size_t buffer);

}  // namespace pg2ch::capture::logical

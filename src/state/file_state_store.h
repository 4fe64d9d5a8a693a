#pragma once
// StateStore in a local TOML file. Each put() writes a temporary file, fsyncs it, renames it
// over the old one and fsyncs the directory, so a crash leaves either the old or the new state.
// Each put() and erase() reads the file again first, so what another process wrote meanwhile
// (`pg2ch resync` while the pipeline runs, another outbox drainer) is kept, not overwritten with
// an older copy; an flock on "<path>.lock" makes that read and the write one step. Unless the
// file is the one this store last read or wrote (same inode, size and mtime: every write renames
// a new file in place): with 500 tables the file is ~300 KB, and parsing it again for each range
// an initial copy records made that copy ~40 ms a table slower.
#include <sys/types.h>

#include <mutex>
#include <string>

#include "state/state_store.h"

namespace pg2ch::state {

class FileStateStore final : public StateStore {
 public:
  explicit FileStateStore(std::string path);
  std::optional<std::string> get(const std::string& key) const override;
  void put(const std::map<std::string, std::string>& updates) override;
  void erase(const std::string& key) override;
  void refresh() override;
  std::string describe() const override { return "state file " + path_; }

 private:
  // The file as stat() shows it: which one it is and when it was written.
  struct Seen {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    time_t sec = 0;
    long nsec = 0;
    bool operator==(const Seen&) const = default;
  };
  Seen seen_now() const;
  void load();
  void load_if_changed();
  void save();
  std::string path_;
  std::map<std::string, std::string> values_;
  Seen seen_;  // the file values_ was read from or written to
  mutable std::mutex mutex_;  // StateStore is thread-safe
};

}  // namespace pg2ch::state

#pragma once
// StateStore in a local TOML file. Each put() writes a temporary file, fsyncs it, renames it
// over the old one and fsyncs the directory, so a crash leaves either the old or the new state.
// Each put() and erase() reads the file again first, so what another process wrote meanwhile
// (`pg2ch resync` while the pipeline runs, another outbox drainer) is kept, not overwritten with
// an older copy; an flock on "<path>.lock" makes that read and the write one step.
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
  void load();
  void save() const;
  std::string path_;
  std::map<std::string, std::string> values_;
  mutable std::mutex mutex_;  // StateStore is thread-safe
};

}  // namespace pg2ch::state

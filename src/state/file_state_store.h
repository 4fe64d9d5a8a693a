#pragma once
// StateStore in a local TOML file. Each put() writes a temporary file, fsyncs it, renames it
// over the old one and fsyncs the directory, so a crash leaves either the old or the new state.
#include <string>

#include "state/state_store.h"

namespace pg2ch::state {

class FileStateStore final : public StateStore {
 public:
  explicit FileStateStore(std::string path);
  std::optional<std::string> get(const std::string& key) const override;
  void put(const std::map<std::string, std::string>& updates) override;
  void erase(const std::string& key) override;
  std::string describe() const override { return "state file " + path_; }

 private:
  void save() const;
  std::string path_;
  std::map<std::string, std::string> values_;
};

}  // namespace pg2ch::state

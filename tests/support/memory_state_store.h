#pragma once
// A StateStore in memory for unit tests: what was put, and how many puts it took.
#include <map>
#include <optional>
#include <string>

#include "state/state_store.h"

namespace pg2ch::test {

class MemoryStateStore final : public state::StateStore {
 public:
  std::optional<std::string> get(const std::string& key) const override {
    auto it = values.find(key);
    return it == values.end() ? std::nullopt : std::optional(it->second);
  }
  void put(const std::map<std::string, std::string>& updates) override {
    ++puts;
    for (const auto& [k, v] : updates) values[k] = v;
  }
  void erase(const std::string& key) override { values.erase(key); }
  std::string describe() const override { return "memory"; }
  void refresh() override {}

  std::map<std::string, std::string> values;
  int puts = 0;
};

}  // namespace pg2ch::test

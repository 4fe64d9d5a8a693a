#pragma once
// Where a pipeline keeps the little it must remember between runs that its source cannot:
// whether the initial snapshot finished (logical), the watermark (poll), ... Flat string keys.
// The logical capture's stream position itself lives in the replication slot, not here.
#include <map>
#include <optional>
#include <string>

namespace pg2ch::state {

// Thread-safe: a copy beside the stream records its ranges from its own threads while the loop
// writes its own keys (capture/logical/online_resync.h).
class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual std::optional<std::string> get(const std::string& key) const = 0;
  // Applies all updates at once, durably (survives a crash right after return).
  virtual void put(const std::map<std::string, std::string>& updates) = 0;
  virtual void erase(const std::string& key) = 0;
  virtual std::string describe() const = 0;
  // Reads again what other processes wrote since (`pg2ch resync` beside a running pipeline):
  // get() answers from what was read last.
  virtual void refresh() = 0;
};

}  // namespace pg2ch::state

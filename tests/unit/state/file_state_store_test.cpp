// The state file under several writers at once (outbox drainers of one pipeline, `pg2ch resync`
// beside a running pipeline): every key any of them put survives, and no write fails.
#include "state/file_state_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace pg2ch::state {
namespace {

TEST(FileStateStore, ConcurrentWritersKeepEachOthersKeys) {
  const auto dir = std::filesystem::temp_directory_path() / ("pg2ch-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "pipeline.state").string();
  constexpr int kWriters = 4;
  constexpr int kKeys = 60;
  std::vector<std::thread> writers;
  std::vector<std::string> errors(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      try {
        FileStateStore store(path);  // its own handle, as another process has
        for (int k = 0; k < kKeys; ++k) store.put({{"w" + std::to_string(w) + "." + std::to_string(k), "v"}});
      } catch (const std::exception& e) {
        errors[w] = e.what();
      }
    });
  }
  for (auto& t : writers) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  FileStateStore after(path);
  int missing = 0;
  for (int w = 0; w < kWriters; ++w) {
    for (int k = 0; k < kKeys; ++k) missing += after.get("w" + std::to_string(w) + "." + std::to_string(k)) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pg2ch::state

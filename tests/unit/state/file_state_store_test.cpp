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

// The file is written without toml++ (file_state_store.cpp): every byte a key or value may hold
// comes back as it was.
TEST(FileStateStore, KeysAndValuesWithEveryEscapeRoundTrip) {
  const auto dir = std::filesystem::temp_directory_path() / ("pg2ch-state-esc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "pipeline.state").string();
  const std::string odd = std::string("q\"uote b\\ack \b\t\n\f\r ctl\x01\x1f\x7f é 'single' ") + "\xe2\x82\xac";
  {
    FileStateStore store(path);
    store.put({{"table \"s\".\"t\" phase", odd}, {odd, "v"}, {"empty", ""}});
  }
  FileStateStore again(path);
  EXPECT_EQ(again.get("table \"s\".\"t\" phase"), odd);
  EXPECT_EQ(again.get(odd), "v");
  EXPECT_EQ(again.get("empty"), "");
  std::filesystem::remove_all(dir);
}

// A store skips reading the file again when it is the one it wrote last; one written by another
// store since, even of the same size, is read again before a write.
TEST(FileStateStore, AWriteKeepsAnotherStoresSameSizeChange) {
  const auto dir = std::filesystem::temp_directory_path() / ("pg2ch-state-same-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "pipeline.state").string();
  FileStateStore a(path);
  FileStateStore b(path);
  a.put({{"k", "1"}});
  b.put({{"k", "2"}});  // the same size as a's file
  a.put({{"other", "x"}});
  FileStateStore after(path);
  EXPECT_EQ(after.get("k"), "2");
  EXPECT_EQ(after.get("other"), "x");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pg2ch::state

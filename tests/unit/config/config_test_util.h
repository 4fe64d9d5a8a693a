#pragma once
// Helpers for the config tests: files in a private temp directory and error capture.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "common/error.h"
#include "config/config.h"

namespace pg2ch::config::testing {

// A temp directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pg2ch-config-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` inside the directory and returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    auto file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Options that read nothing implicitly, with one table so load() succeeds.
inline LoadOptions isolated_options() {
  LoadOptions options;
  options.read_default_env_file = false;
  options.cli_overrides["tables"] = "public.orders";
  return options;
}

// Runs `fn`, expects a Config error and returns it for message checks.
inline Error config_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config) << e.one_line();
    return e;
  }
  ADD_FAILURE() << "expected a Config error";
  return Error(ErrorKind::Internal, "no error thrown");
}

}  // namespace pg2ch::config::testing

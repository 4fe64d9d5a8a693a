// Config loader (config::load) with the input as the TOML file: parsing, every section and key,
// [[tables]], and the checks across settings. The file is an in-memory file (memfd), so the
// loader reads it through its own path like any --config file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = [] {
    int f = ::memfd_create("pg2ch-fuzz-config", 0);
    if (f < 0) std::abort();
    return f;
  }();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  pg2ch::config::LoadOptions options;
  options.config_path = "/proc/self/fd/" + std::to_string(fd);
  options.read_default_env_file = false;
  pg2ch::fuzz::expect_only_pg2ch_errors([&] { (void)pg2ch::config::load(options); });
  return 0;
}

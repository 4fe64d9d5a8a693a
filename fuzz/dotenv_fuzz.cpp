// .env parser (config::parse_dotenv): any text is either parsed or refused with Error(Config).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(pg2ch::fuzz::as_view(data, size));
  pg2ch::fuzz::expect_only_pg2ch_errors([&] { (void)pg2ch::config::parse_dotenv(text, "fuzz.env"); });
  return 0;
}

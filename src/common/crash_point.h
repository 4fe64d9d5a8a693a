#pragma once
// Named places where a test can make the process die at once, as a SIGKILL there would: when the
// environment variable PG2CH_CRASH_AT names the place, crash_point() logs one line and calls
// _exit(137) (no destructors, no flushes, nothing acknowledged). Compiled in always, so the tests
// run the binary that ships; the variable is read once and is meant for tests only.
#include <string_view>

namespace pg2ch {

void crash_point(std::string_view name);

}  // namespace pg2ch

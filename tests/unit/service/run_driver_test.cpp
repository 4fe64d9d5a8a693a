// The error policy's loop with a scripted run function (the real captures are exercised by the
// integration tests: tests/integration/service/).
#include "service/run_driver.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/error.h"

namespace pg2ch::service {
namespace {

config::Config fast_retries() {
  config::Config cfg;
  cfg.service.retry_initial = std::chrono::milliseconds(1);
  cfg.service.retry_max = std::chrono::milliseconds(5);
  return cfg;
}

TEST(RunDriver, TransientErrorsRestartTheRunUntilItSucceeds) {
  const auto cfg = fast_retries();
  std::atomic<bool> stop{false};
  int calls = 0, readies = 0;
  capture::RunOptions options;
  options.on_ready = [&] { ++readies; };
  DriverStats stats;
  drive(
      cfg,
      [&](const config::Config&, const std::atomic<bool>&, const capture::RunOptions& o) {
        ++calls;
        o.ready();
        if (calls < 4) throw Error(ErrorKind::Connection, "connection refused", "", true);
      },
      stop, options, &stats);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(stats.retries, 3u);
  EXPECT_EQ(stats.runs, 4u);
  EXPECT_EQ(readies, 1) << "ready is reported once per process";
}

TEST(RunDriver, OperatorErrorsPropagateAtOnce) {
  const auto cfg = fast_retries();
  std::atomic<bool> stop{false};
  int calls = 0;
  try {
    drive(
        cfg,
        [&](const config::Config&, const std::atomic<bool>&, const capture::RunOptions&) {
          ++calls;
          throw Error(ErrorKind::Auth, "password authentication failed for user \"pg2ch\"");
        },
        stop, {});
    FAIL() << "expected the error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Auth);
  }
  EXPECT_EQ(calls, 1);
}

TEST(RunDriver, AStopDuringTheBackoffEndsCleanly) {
  auto cfg = fast_retries();
  cfg.service.retry_initial = std::chrono::milliseconds(60000);
  cfg.service.retry_max = std::chrono::milliseconds(60000);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  const auto started = std::chrono::steady_clock::now();
  int calls = 0;
  drive(
      cfg,
      [&](const config::Config&, const std::atomic<bool>&, const capture::RunOptions&) {
        ++calls;
        throw Error(ErrorKind::Connection, "ClickHouse is away", "", true);
      },
      stop, {});
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10)) << "not the whole backoff (>= 30 s)";
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace pg2ch::service

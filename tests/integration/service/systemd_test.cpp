// pg2ch under systemd: the notify protocol spoken to a real NOTIFY_SOCKET datagram listener (as
// systemd's manager listens), and the shipped unit file checked by systemd-analyze.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "support/black_hole.h"
#include "support/command.h"
#include "kafka/port_forwarder.h"
#include "support/fixture.h"
#include "support/free_port.h"
#include "support/pg2ch_cli.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

// An AF_UNIX datagram socket bound to a path: what systemd passes as NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path_.string();
    if (p.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + p);
    std::copy(p.begin(), p.end(), addr.sun_path);
    std::filesystem::remove(path_);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind " + p);
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

  // Every datagram received so far, one message per element.
  const std::vector<std::string>& messages() {
    char buf[4096];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }
  int count(const std::string& needle) {
    int n = 0;
    for (const auto& m : messages()) n += m.find(needle) != std::string::npos;
    return n;
  }
  bool received(const std::string& needle) {
    for (const auto& m : messages())
      if (m.find(needle) != std::string::npos) return true;
    return false;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST(Systemd, ReadyOnlyAfterTheSnapshotThenStoppingOnSigterm) {
  auto db = make_test_database();
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g");
  const auto cfg = make_test_config(db, {"public.t"});
  const auto file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  // sun_path holds 108 bytes: the run directory may be deep, /tmp is not.
  NotifySocket notify(std::filesystem::temp_directory_path() / ("pg2ch-notify-" + std::to_string(::getpid())));

  auto run = ChildProcess::spawn_pg2ch({.args = {"--config", file.string(), "run"},
                                        .env = {{"NOTIFY_SOCKET", notify.path().string()}},
                                        .dir = db.dir(),
                                        .log_prefix = "run"});
  ASSERT_TRUE(wait_until([&] { return notify.received("READY=1"); }, 120s, 10ms)) << run.describe();
  // The snapshot's rows were all in ClickHouse when READY=1 was sent.
  EXPECT_EQ(db.ch_rows("SELECT count() FROM t FINAL WHERE _deleted = 0"), (Rows{{"50000"}})) << run.describe();
  EXPECT_TRUE(notify.received("STATUS=starting")) << "a STATUS= line before READY";
  EXPECT_TRUE(notify.received("STATUS=streaming"));

  db.pg_exec("UPDATE t SET v = 'after' WHERE id <= 10");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();
  EXPECT_EQ(run.stop(SIGTERM), 0) << run.describe();
  EXPECT_TRUE(notify.received("STOPPING=1")) << run.describe();
  int readies = 0;
  for (const auto& m : notify.messages()) readies += m.find("READY=1") != std::string::npos;
  EXPECT_EQ(readies, 1);
}

// The watchdog is fed by the working loop only: pings flow while it streams and stop while it
// hangs in a ClickHouse insert that never returns (systemd would then restart the process).
// A pipeline of table t whose ClickHouse is reached through a relay on `port`, so a test can cut
// it and put a BlackHole there instead.
struct RelayedPipeline {
  explicit RelayedPipeline(const std::function<void(config::Config&)>& adjust = {})
      : db(make_test_database()), port(free_loopback_port()) {
    db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
    auto cfg = make_test_config(db, {"public.t"});
    cfg.clickhouse.port = port;
    cfg.batch.max_delay = 100ms;
    if (adjust) adjust(cfg);
    clickhouse = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
    file = write_config_file(cfg, db.dir() / "pg2ch.toml");
  }
  TestDatabase db;
  int port;
  std::unique_ptr<kafka::PortForwarder> clickhouse;
  std::filesystem::path file;
};

TEST(Systemd, WatchdogPingsStopWhenTheLoopIsStuck) {
  RelayedPipeline p;
  auto& db = p.db;
  auto& clickhouse = p.clickhouse;
  const int port = p.port;
  const auto& file = p.file;
  NotifySocket notify(std::filesystem::temp_directory_path() / ("pg2ch-watchdog-" + std::to_string(::getpid())));
  auto run = ChildProcess::spawn_pg2ch(
      {.args = {"--config", file.string(), "run"},
       .env = {{"NOTIFY_SOCKET", notify.path().string()}, {"WATCHDOG_USEC", "600000"}},
       .dir = db.dir(),
       .log_prefix = "run"});
  ASSERT_TRUE(wait_until([&] { return notify.received("READY=1"); }, 60s, 10ms)) << run.describe();
  ASSERT_TRUE(wait_until([&] { return notify.count("WATCHDOG=1") >= 5; }, 30s, 10ms)) << "pings while streaming";
  db.pg_exec("INSERT INTO t VALUES (1, 'through')");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();

  clickhouse.reset();     // the relayed connections close,
  BlackHole hang(port);   // and the next insert's connection is accepted and never answered
  db.pg_exec("INSERT INTO t VALUES (2, 'stuck')");
  std::this_thread::sleep_for(2s);  // the batch's delay passes and the insert starts hanging
  const int before = notify.count("WATCHDOG=1");
  std::this_thread::sleep_for(3s);  // five watchdog intervals
  EXPECT_EQ(notify.count("WATCHDOG=1"), before) << "no ping while the loop is stuck";
  EXPECT_TRUE(run.running()) << run.describe();
  run.kill();
}

TEST(Systemd, SigtermDuringAHungInsertExitsWithinTheStopTimeout) {
  RelayedPipeline p([](config::Config& cfg) { cfg.service.stop_timeout = 1500ms; });
  auto& db = p.db;
  auto& clickhouse = p.clickhouse;
  const int port = p.port;
  const auto& file = p.file;
  auto run = pg2ch_cli(db, file, {"run"}, "run");
  db.pg_exec("INSERT INTO t VALUES (1, 'through')");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << run.describe();

  clickhouse.reset();
  // The next insert is accepted and never answered (the HTTP client's timeout: minutes).
  auto hang = std::make_unique<BlackHole>(port);
  db.pg_exec("INSERT INTO t VALUES (2, 'stuck')");
  std::this_thread::sleep_for(1s);
  const auto signalled = std::chrono::steady_clock::now();
  run.signal(SIGTERM);
  const auto code = run.wait(20s);
  ASSERT_TRUE(code.has_value()) << "still running 20 s after SIGTERM: " << run.describe();
  EXPECT_EQ(*code, 0) << run.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 10s);
  EXPECT_NE(run.stderr_text().find("stop_timeout_ms"), std::string::npos) << run.describe();
  // Row 2 was never acknowledged: the next start reads it again.
  hang.reset();
  clickhouse = std::make_unique<kafka::PortForwarder>(port, ch_server().port);
  auto again = pg2ch_cli(db, file, {"run"}, "run-again");
  ASSERT_TRUE(wait_equal(db, same_columns("t", "id, v", "id"))) << again.describe();
  EXPECT_EQ(again.stop(SIGTERM), 0) << again.describe();
}

TEST(Systemd, TheUnitFileVerifies) {
  const auto found = run_command({"/bin/sh", "-c", "command -v systemd-analyze"});
  if (found.exit_code != 0) GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
  const std::string analyze = found.output.substr(0, found.output.find('\n'));
  auto db = make_test_database();
  std::ifstream in(PG2CH_SYSTEMD_UNIT);
  ASSERT_TRUE(in) << PG2CH_SYSTEMD_UNIT;
  std::stringstream unit;
  unit << in.rdbuf();
  std::string text = unit.str();
  EXPECT_NE(text.find("RestartPreventExitStatus=2 4 5 6"), std::string::npos);
  EXPECT_NE(text.find("Type=notify"), std::string::npos);
  // verify wants the ExecStart binary to exist: point it at the one just built.
  const auto exec = text.find("ExecStart=");
  const auto bin_end = text.find(' ', exec);
  text.replace(exec + 10, bin_end - exec - 10, PG2CH_BINARY);
  const auto path = db.dir() / "pg2ch@shop.service";
  std::ofstream(path) << text;
  const auto r = run_command({analyze, "verify", "--man=no", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "systemd-analyze has remarks on the unit";
}

}  // namespace
}  // namespace pg2ch::test

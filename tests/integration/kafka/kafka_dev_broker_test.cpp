// `pg2ch dev kafka`: the TEST broker in the foreground, used by a real client (kcat).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "support/child_process.h"
#include "support/command.h"
#include "support/free_port.h"
#include "support/wait.h"

namespace pg2ch::test {
namespace {

using namespace std::chrono_literals;

TEST(KafkaDevBroker, ServesKcatOnTheRequestedPort) {
  const int port = free_loopback_port();
  const std::string bootstrap = "127.0.0.1:" + std::to_string(port);
  auto proc = ChildProcess::spawn_pg2ch(
      {.args = {"dev", "kafka", "--port", std::to_string(port), "--topics", "pg-events,other", "--partitions", "2"}});
  ASSERT_TRUE(wait_until([&] { return proc.stdout_text().find("bootstrap " + bootstrap) != std::string::npos; }, 30s))
      << proc.describe();
  const std::string banner = proc.stdout_text();
  EXPECT_NE(banner.find("TEST broker"), std::string::npos) << banner;
  EXPECT_NE(banner.find("NOT for production"), std::string::npos) << banner;

  const auto listing = run_command({"/usr/bin/kcat", "-L", "-b", bootstrap, "-t", "pg-events"});
  EXPECT_NE(listing.output.find("with 2 partitions"), std::string::npos) << listing.output;

  const auto file = proc.stdout_path().parent_path() / "messages.txt";
  std::ofstream(file) << "k1:{\"id\":1}\nk2:{\"id\":2}\n";
  const auto produced = run_command({"/usr/bin/kcat", "-P", "-b", bootstrap, "-t", "pg-events", "-K:", "-l", file.string()});
  ASSERT_EQ(produced.exit_code, 0) << produced.output;
  const auto consumed = run_command({"/usr/bin/kcat", "-C", "-q", "-e", "-b", bootstrap, "-t", "pg-events", "-f", "%k=%s\n"});
  EXPECT_EQ(consumed.exit_code, 0) << consumed.output;
  EXPECT_NE(consumed.output.find("k1={\"id\":1}"), std::string::npos) << consumed.output;
  EXPECT_NE(consumed.output.find("k2={\"id\":2}"), std::string::npos) << consumed.output;

  EXPECT_EQ(proc.stop(), 0) << proc.describe();
}

TEST(KafkaDevBroker, PortInUseIsAConfigError) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto proc = ChildProcess::spawn_pg2ch({.args = {"dev", "kafka", "--port", std::to_string(ntohs(a.sin_port))}});
  EXPECT_EQ(proc.wait(30s), 2) << proc.describe();
  EXPECT_NE(proc.stderr_text().find("cannot listen on 127.0.0.1:"), std::string::npos) << proc.describe();
  ::close(fd);
}

}  // namespace
}  // namespace pg2ch::test

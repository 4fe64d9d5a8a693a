// The .deb CPack builds from this build tree installs into a fresh root (dpkg --root, its
// maintainer script run against that root), and the installed binary runs the unit's command
// against the test servers.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/child_process.h"
#include "support/command.h"
#include "support/fixture.h"
#include "support/table_compare.h"

namespace pg2ch::test {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DebPackage, InstallsIntoAFreshRootAndTheInstalledBinaryStreams) {
  auto db = make_test_database();
  const auto out = db.dir() / "deb";
  const auto pack = run_command({PG2CH_CPACK, "-G", "DEB", "-B", out.string(), "--config",
                                 std::string(PG2CH_BUILD_DIR) + "/CPackConfig.cmake"});
  ASSERT_EQ(pack.exit_code, 0) << pack.output;
  std::filesystem::path deb;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  ASSERT_FALSE(deb.empty()) << pack.output;
  const auto depends = run_command({"/usr/bin/dpkg-deb", "--field", deb.string(), "Depends"});
  EXPECT_NE(depends.output.find("libpq5"), std::string::npos) << depends.output;
  EXPECT_NE(depends.output.find("librdkafka"), std::string::npos) << depends.output;

  const auto root = db.dir() / "root";
  std::filesystem::create_directories(root / "var/lib/dpkg/info");
  std::filesystem::create_directories(root / "var/lib/dpkg/updates");
  std::filesystem::create_directories(root / "etc");
  std::ofstream(root / "var/lib/dpkg/status").close();
  const auto install = run_command({"/usr/bin/dpkg", "--root=" + root.string(), "--force-depends", "--force-script-chrootless",
                                    "--log=/dev/null", "-i", deb.string()});
  ASSERT_EQ(install.exit_code, 0) << install.output;
  // The maintainer script created the service's user in that root, not on this machine.
  EXPECT_NE(read_text(root / "etc/passwd").find("pg2ch:"), std::string::npos) << install.output;

  const std::filesystem::path prefix = std::string(PG2CH_INSTALL_PREFIX).substr(1);  // "usr/local"
  const auto binary = root / prefix / "bin/pg2ch";
  const auto version = run_command({binary.string(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("pg2ch ", 0), 0u) << version.output;
  EXPECT_TRUE(std::filesystem::exists(root / prefix / "share/man/man1/pg2ch.1"));
  EXPECT_TRUE(std::filesystem::exists(root / prefix / "lib/sysusers.d/pg2ch.conf"));
  const std::string unit = read_text(root / prefix / "lib/systemd/system/pg2ch@.service");
  const std::string exec = "ExecStart=" + std::string(PG2CH_INSTALL_PREFIX) + "/bin/pg2ch --config /etc/pg2ch/%i.toml run";
  ASSERT_NE(unit.find(exec), std::string::npos) << unit;

  // The unit's command, with the instance's config in the fresh root's /etc/pg2ch.
  db.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  db.pg_exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g");
  const auto config = root / "etc/pg2ch/demo.toml";
  std::filesystem::create_directories(config.parent_path());
  write_config_file(make_test_config(db, {"public.t"}), config);
  auto run = ChildProcess::spawn(binary.string(), {.args = {"--config", config.string(), "run", "--until-caught-up"},
                                                   .env = {},
                                                   .dir = db.dir(),
                                                   .log_prefix = "installed"});
  const auto code = run.wait(std::chrono::seconds(120));
  ASSERT_EQ(code, 0) << run.describe();
  EXPECT_TRUE(wait_equal(db, same_columns("t", "id, v", "id")));
}

}  // namespace
}  // namespace pg2ch::test

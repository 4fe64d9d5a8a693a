#include "service/reload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pg2ch::service {
namespace {

using namespace std::chrono_literals;

config::Config load_toml(const std::string& toml) {
  const auto path = std::filesystem::temp_directory_path() / ("pg2ch-reload-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << toml;
  config::LoadOptions o;
  o.config_path = path.string();
  o.read_default_env_file = false;
  auto c = config::load(o);
  std::filesystem::remove(path);
  return c;
}

constexpr const char* kTables = "\n[[tables]]\nname = \"public.t\"\n";

TEST(Reload, AppliesLogAndBatchSettingsAndNamesTheRest) {
  auto running = load_toml(std::string("[log]\nlevel = \"info\"\n[batch]\nmax_delay_ms = 1000\n"
                                       "[postgres]\npassword = \"old\"\n") + kTables);
  const auto fresh = load_toml(std::string("[log]\nlevel = \"debug\"\n[batch]\nmax_delay_ms = 50\nmax_rows = 7\n"
                                           "[poll]\ninterval_ms = 5\n[postgres]\npassword = \"new\"\n") +
                               kTables + "[[tables]]\nname = \"public.u\"\n");
  const auto out = apply_reload(running, fresh);
  EXPECT_EQ(out.applied, (std::vector<std::string>{"batch.max_delay_ms", "batch.max_rows", "log.level"}));
  EXPECT_EQ(out.needs_restart,
            (std::vector<std::string>{"poll.interval_ms", "postgres.password", "[[tables]]"}));
  EXPECT_EQ(running.log.level, "debug");
  EXPECT_EQ(running.batch.max_delay, 50ms);
  EXPECT_EQ(running.batch.max_rows, 7u);
  // What needs a restart stays as it was, and is reported again until then.
  EXPECT_EQ(running.poll.interval, config::Config{}.poll.interval);
  EXPECT_EQ(running.postgres.password, "old");
  EXPECT_EQ(apply_reload(running, fresh).needs_restart.size(), 3u);
  EXPECT_TRUE(apply_reload(running, fresh).applied.empty());
}

TEST(Reload, ASettingRemovedFromTheFileGoesBackToItsDefault) {
  auto running = load_toml(std::string("[batch]\nidle_flush_ms = 20\n") + kTables);
  const auto out = apply_reload(running, load_toml(kTables));
  EXPECT_EQ(out.applied, (std::vector<std::string>{"batch.idle_flush_ms"}));
  EXPECT_EQ(running.batch.idle_flush, config::Config{}.batch.idle_flush);
}

}  // namespace
}  // namespace pg2ch::service

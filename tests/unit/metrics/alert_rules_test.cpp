// The example alert rules shipped in packaging/prometheus/ are valid Prometheus rules and fire on
// the series they watch (promtool's own rule unit tests, pg2ch-alerts.test.yml).
#include <gtest/gtest.h>

#include <string>

#include "support/prometheus_page.h"

namespace pg2ch::test {
namespace {

TEST(AlertRules, CheckAndFireAsWritten) {
  const std::string dir = std::string(PG2CH_SOURCE_DIR) + "/packaging/prometheus";
  const ToolRun check = run_with_input("promtool check rules " + dir + "/pg2ch-alerts.yml", "");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // promtool resolves rule_files relative to the test file's directory.
  const ToolRun test = run_with_input("cd " + dir + " && promtool test rules pg2ch-alerts.test.yml", "");
  EXPECT_EQ(test.exit_code, 0) << test.output;
}

}  // namespace
}  // namespace pg2ch::test

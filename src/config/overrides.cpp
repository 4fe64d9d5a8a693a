#include "config/overrides.h"

#include <cctype>
#include <utility>
#include <vector>

#include "config/settings.h"
#include "config/strings.h"
#include "config/tables.h"

namespace pg2ch::config::detail {
namespace {

// The seed's names, kept so existing deployments keep working. When both a seed name and its
// PG2CH_ name are set in the same layer, the PG2CH_ name wins (it is pg2ch's own).
const std::vector<std::pair<std::string_view, std::string_view>> kSeedNames = {
    {"PG_HOST", "postgres.host"},     {"PG_PORT", "postgres.port"},         {"PG_DB", "postgres.database"},
    {"PG_USER", "postgres.user"},     {"PG_PASSWORD", "postgres.password"}, {"CH_HOST", "clickhouse.host"},
    {"CH_PORT", "clickhouse.port"},   {"CH_USER", "clickhouse.user"},       {"CH_PASSWORD", "clickhouse.password"},
    {"CH_DATABASE", "clickhouse.database"}, {"KAFKA_BOOTSTRAP", "kafka.brokers"}, {"KAFKA_TOPIC", "kafka.topic"},
    {"KAFKA_GROUP", "kafka.group_id"},
};

constexpr std::string_view kPrefix = "PG2CH_";

// "batch.max_rows" -> "PG2CH_BATCH_MAX_ROWS"
std::string variable_name(std::string_view key) {
  std::string name(kPrefix);
  for (char c : key) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string source_of(std::string_view variable, std::string_view origin) {
  if (origin.empty()) return "environment variable " + std::string(variable);
  return std::string(variable) + " in " + std::string(origin);
}

// PG2CH_ variables that are neither a setting nor a section of one belong to someone else
// (e.g. PG2CH_TEST_PG_PORT of the test harness); inside a known section they are typos.
void reject_unknown(std::string_view variable, std::string_view origin) {
  for (auto section : sections()) {
    auto prefix = variable_name(section) + "_";
    if (!variable.starts_with(prefix)) continue;
    std::string known;
    for (const auto& s : settings())
      if (s.key.starts_with(std::string(section) + "."))
        known += (known.empty() ? "" : ", ") + variable_name(s.key);
    throw Error(ErrorKind::Config, source_of(variable, origin) + " is not a pg2ch setting",
                "the [" + std::string(section) + "] settings are " + known);
  }
}

}  // namespace

void apply_variables(Config& config, const std::map<std::string, std::string>& vars, std::string_view origin) {
  for (auto [variable, key] : kSeedNames)
    if (auto it = vars.find(std::string(variable)); it != vars.end())
      apply_text(config, *find_setting(key), it->second, source_of(variable, origin));

  for (const auto& [variable, value] : vars) {
    if (!std::string_view(variable).starts_with(kPrefix)) continue;
    auto source = source_of(variable, origin);
    if (variable == variable_name("tables")) {
      set_tables(config, parse_table_list(value), source);
      continue;
    }
    const Setting* match = nullptr;
    for (const auto& s : settings())
      if (variable_name(s.key) == variable) match = &s;
    if (match)
      apply_text(config, *match, value, source);
    else
      reject_unknown(variable, origin);
  }
}

void apply_cli_overrides(Config& config, const std::map<std::string, std::string>& overrides) {
  for (const auto& [key, value] : overrides) {
    auto source = "command line --set " + key;
    if (key == "tables") {
      set_tables(config, parse_table_list(value), source);
      continue;
    }
    const Setting* setting = find_setting(key);
    if (!setting)
      throw Error(ErrorKind::Config, "unknown setting " + key + " (from command line)",
                  "use section.key as in the config file, e.g. postgres.host, batch.max_rows, or tables");
    // Any local user can read a process's arguments (ps, /proc/PID/cmdline).
    if (setting->secret)
      throw Error(ErrorKind::Config, key + " cannot be given on the command line: other users of the machine see it",
                  "set it in the environment, a .env file (mode 600), the config file" +
                      (key == "kafka.ssl_key_password" ? std::string() : " or " + key + "_file"));
    apply_text(config, *setting, value, source);
  }
}

}  // namespace pg2ch::config::detail

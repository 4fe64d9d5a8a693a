// load(): the layers in precedence order. Each layer validates what it sets, so an error names
// the exact source of the bad value even when a higher layer would not have overridden it.
#include "config/config.h"

#include <filesystem>

#include "config/consistency.h"
#include "config/overrides.h"
#include "config/read_file.h"
#include "config/secret_files.h"
#include "config/tables.h"
#include "config/toml_file.h"

extern char** environ;

namespace pg2ch::config {
namespace {

std::optional<std::string> dotenv_path(const LoadOptions& options) {
  if (options.env_file) return options.env_file;
  std::error_code ec;
  if (options.read_default_env_file && std::filesystem::is_regular_file(".env", ec))
    return std::filesystem::absolute(".env", ec).string();
  return std::nullopt;
}

}  // namespace

Config load(const LoadOptions& options) {
  Config config;
  if (options.config_path) detail::apply_toml_file(config, *options.config_path);
  if (auto path = dotenv_path(options)) {
    auto vars = parse_dotenv(detail::read_file(*path, ".env file"), *path);
    detail::apply_variables(config, vars, ".env file " + *path);
    if (auto warning = detail::readable_by_others(*path, ".env file")) config.warnings.push_back(*warning);
  }
  detail::apply_variables(config, options.environment, "");
  detail::apply_cli_overrides(config, options.cli_overrides);
  detail::read_password_files(config);
  detail::require_tables(config);
  detail::require_consistent(config);
  return config;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace pg2ch::config

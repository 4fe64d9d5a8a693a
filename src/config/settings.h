#pragma once
// The table of scalar settings (everything except [[tables]]): key, type, secrecy and validation.
// Every source goes through it, so a value is checked the same way whether it came from TOML,
// a .env file, the environment or the command line, and errors always name key and source.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"
#include "config/config.h"

namespace pg2ch::config::detail {

// ValueType's order is Value's alternative order: static_cast<ValueType>(value.index()) is its type.
enum class ValueType { String, Integer, Boolean };
using Value = std::variant<std::string, std::int64_t, bool>;

// Thrown by validators; the caller knows which setting and source and turns it into an Error.
struct Invalid {
  std::string problem;  // what is wrong
  std::string remedy;   // what to do
};

struct Setting {
  std::string_view key;  // "section.key"; top-level settings have no section ("name", "mode")
  ValueType type;
  bool secret;
  void (*apply)(Config&, const Value&);  // validates, then stores; throws Invalid
};

// The sections that hold scalar settings, as written in TOML: "postgres", "clickhouse", ...
const std::vector<std::string_view>& sections();
const std::vector<Setting>& settings();
const Setting* find_setting(std::string_view key);
// "host, port, ..." — the valid keys of a section, for "did you mean" style hints.
std::string keys_of_section(std::string_view section);

std::string_view type_name(ValueType type);

// Stores a typed value (TOML) or a text value (.env, environment, command line). `source` says
// where it came from, e.g. "environment variable PG_PORT". Throws Error(Config).
void apply_value(Config& config, const Setting& setting, const Value& value, std::string_view source);
void apply_text(Config& config, const Setting& setting, std::string_view text, std::string_view source);

// The one format of every bad-setting error. `shown` is the offending value as the user wrote it;
// leave it empty for secrets.
Error setting_error(std::string_view key, std::string_view source, const std::optional<std::string>& shown,
                    const Invalid& invalid);

}  // namespace pg2ch::config::detail

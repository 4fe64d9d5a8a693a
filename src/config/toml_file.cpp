#include "config/toml_file.h"

#include <toml++/toml.h>

#include <algorithm>

#include "config/read_file.h"
#include "config/settings.h"
#include "config/tables.h"

namespace pg2ch::config::detail {
namespace {

std::string_view toml_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

class TomlFile {
 public:
  explicit TomlFile(std::string path) : path_(std::move(path)) {}

  void apply(Config& config) {
    auto text = read_file(path_, "config file");
    toml::table root;
    try {
      root = toml::parse(text, path_);
    } catch (const toml::parse_error& e) {
      // toml++ describes the syntax problem without echoing the value, so secrets stay out.
      throw Error(ErrorKind::Config,
                  "config file " + path_ + " line " + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()),
                  "fix the TOML syntax (https://toml.io)");
    }
    for (auto&& [key, node] : root) {
      std::string name(key.str());
      if (name == "tables")
        apply_tables(config, node);
      else if (std::find(sections().begin(), sections().end(), name) != sections().end())
        apply_section(config, name, node);
      else
        apply_scalar(config, name, node);
    }
  }

 private:
  std::string source(const toml::node& node) const {
    return "config file " + path_ + " line " + std::to_string(node.source().begin.line);
  }

  [[noreturn]] void unknown_key(const std::string& key, const toml::node& node, std::string hint) const {
    throw Error(ErrorKind::Config, "unknown key " + key + " in " + source(node), std::move(hint));
  }

  [[noreturn]] void wrong_type(const std::string& key, const toml::node& node, std::string_view expected,
                               std::string remedy) const {
    throw setting_error(key, source(node), std::nullopt,
                        {"must be " + std::string(expected) + ", not " + std::string(toml_type(node)),
                         std::move(remedy)});
  }

  void apply_section(Config& config, const std::string& section, const toml::node& node) const {
    const auto* table = node.as_table();
    if (!table) wrong_type(section, node, "a table", "write it as a [" + section + "] section");
    for (auto&& [key, value] : *table) {
      auto full = section + "." + std::string(key.str());
      const Setting* setting = find_setting(full);
      if (!setting) unknown_key(full, value, "keys of [" + section + "] are: " + keys_of_section(section));
      apply_value(config, *setting, scalar(full, value, *setting), source(value));
    }
  }

  void apply_scalar(Config& config, const std::string& key, const toml::node& node) const {
    const Setting* setting = find_setting(key);
    if (!setting || key.find('.') != std::string::npos)
      unknown_key(key, node, "top-level keys are name, mode, sink and tables; sections are [postgres], "
                             "[clickhouse], [batch], [logical], [poll], [notify], [outbox], [kafka], [state], [log]");
    apply_value(config, *setting, scalar(key, node, *setting), source(node));
  }

  Value scalar(const std::string& key, const toml::node& node, const Setting& setting) const {
    if (auto s = node.value_exact<std::string>()) return *s;
    if (auto i = node.value_exact<std::int64_t>()) return *i;
    if (auto b = node.value_exact<bool>()) return *b;
    wrong_type(key, node, type_name(setting.type), "write a single value, e.g. key = \"text\", key = 10");
  }

  std::string text(const std::string& key, const toml::node& node) const {
    if (auto s = node.value_exact<std::string>()) return *s;
    wrong_type(key, node, "a string", "put the value in double quotes");
  }

  std::vector<std::string> strings(const std::string& key, const toml::node& node) const {
    const auto* array = node.as_array();
    if (!array) wrong_type(key, node, "an array of strings", "write e.g. [\"id\", \"name\"]");
    std::vector<std::string> out;
    for (const auto& item : *array) out.push_back(text(key, item));
    return out;
  }

  TableSelector selector(const std::string& key, const toml::node& node) const {
    const auto* table = node.as_table();
    if (!table) wrong_type(key, node, "a table", "write each table as a [[tables]] section with name = \"schema.table\"");
    TableSelector t;
    bool named = false;
    for (auto&& [k, value] : *table) {
      auto field = std::string(k.str());
      auto full = key + "." + field;
      if (field == "name") {
        t.pattern = text(full, value);
        named = true;
      } else if (field == "target") {
        t.target = text(full, value);
        if (t.target.empty())
          throw setting_error(full, source(value), "\"\"",
                              {"must not be empty", "remove target to keep the PostgreSQL table name"});
      } else if (field == "include") {
        t.include = strings(full, value);
      } else if (field == "exclude") {
        t.exclude = strings(full, value);
      } else if (field == "watermark") {
        t.watermark = text(full, value);
      } else if (field == "key") {
        t.key = strings(full, value);
      } else if (field == "types") {
        const auto* columns = value.as_table();
        if (!columns) wrong_type(full, value, "a table", "write e.g. types = { price = \"String\" }");
        for (auto&& [column, type] : *columns) t.types[std::string(column.str())] = text(full + "." + std::string(column.str()), type);
      } else {
        unknown_key(full, value, "keys of [[tables]] are: name, target, include, exclude, watermark, types, key");
      }
    }
    if (!named)
      throw setting_error(key + ".name", source(node), std::nullopt,
                          {"is missing", "add name = \"schema.table\" (or \"schema.*\") to this [[tables]] entry"});
    return t;
  }

  void apply_tables(Config& config, const toml::node& node) const {
    const auto* array = node.as_array();
    if (!array) wrong_type("tables", node, "an array of tables", "write each table as a [[tables]] section");
    std::vector<TableSelector> tables;
    for (std::size_t i = 0; i < array->size(); ++i)
      tables.push_back(selector("tables[" + std::to_string(i + 1) + "]", *array->get(i)));
    set_tables(config, std::move(tables), source(node));
  }

  std::string path_;
};

}  // namespace

void apply_toml_file(Config& config, const std::string& path) { TomlFile(path).apply(config); }

}  // namespace pg2ch::config::detail

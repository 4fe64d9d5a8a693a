#include "capture/status_report.h"

#include <fmt/format.h>
#include <rapidjson/ostreamwrapper.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace pg2ch::capture {
namespace {

std::string count_text(const std::optional<std::int64_t>& n, const std::string& missing) {
  return n ? std::to_string(*n) : missing;
}

}  // namespace

void print_status_text(const StatusReport& r, std::ostream& out) {
  out << fmt::format("pipeline {} (mode {}, sink {})\n", r.pipeline, r.mode, r.sink);
  std::size_t width = 5;  // "state"
  for (const auto& [k, _] : r.details) width = std::max(width, k.size());
  out << fmt::format("  {:<{}}  {}\n", "state", width, r.state);
  for (const auto& [k, v] : r.details) out << fmt::format("  {:<{}}  {}\n", k, width, v.text);
  for (const auto& n : r.notes) out << "  note: " << n << "\n";
  if (!r.tables.empty()) {
    std::size_t name = 5;
    for (const auto& t : r.tables) name = std::max(name, t.table.size());
    const bool positions = std::any_of(r.tables.begin(), r.tables.end(), [](const auto& t) { return !t.position.empty(); });
    out << fmt::format("  {:<{}}  {:<14}  {:>12}  {:>12}{}\n", "table", name, "state", "postgresql", "target",
                       positions ? "  position" : "");
    for (const auto& t : r.tables) {
      out << fmt::format("  {:<{}}  {:<14}  {:>12}  {:>12}{}{}\n", t.table, name, t.state,
                         count_text(t.source_rows, "?"), count_text(t.target_rows, t.state == "target missing" ? "missing" : "-"),
                         positions ? "  " + t.position : "", t.last_error.empty() ? "" : "  error: " + t.last_error);
    }
  }
  for (const auto& a : r.attention) out << "  ATTENTION: " << a << "\n";
}

void print_status_json(const StatusReport& r, std::ostream& out) {
  rapidjson::OStreamWrapper os(out);
  rapidjson::Writer<rapidjson::OStreamWrapper> w(os);
  const auto str = [&w](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
  const auto optional_int = [&w](const std::optional<std::int64_t>& n) {
    if (n) {
      w.Int64(*n);
    } else {
      w.Null();
    }
  };
  w.StartObject();
  w.Key("pipeline");
  str(r.pipeline);
  w.Key("mode");
  str(r.mode);
  w.Key("sink");
  str(r.sink);
  w.Key("state");
  str(r.state);
  w.Key("healthy");
  w.Bool(r.healthy());
  w.Key("details");
  w.StartObject();
  for (const auto& [k, v] : r.details) {
    str(k);
    if (v.number) {
      w.Int64(*v.number);
    } else {
      str(v.text);
    }
  }
  w.EndObject();
  w.Key("notes");
  w.StartArray();
  for (const auto& n : r.notes) str(n);
  w.EndArray();
  w.Key("tables");
  w.StartArray();
  for (const auto& t : r.tables) {
    w.StartObject();
    w.Key("table");
    str(t.table);
    w.Key("target");
    str(t.target);
    w.Key("state");
    str(t.state);
    w.Key("source_rows");
    optional_int(t.source_rows);
    w.Key("target_rows");
    optional_int(t.target_rows);
    w.Key("position");
    str(t.position);
    w.Key("last_error");
    str(t.last_error);
    w.EndObject();
  }
  w.EndArray();
  w.Key("attention");
  w.StartArray();
  for (const auto& a : r.attention) str(a);
  w.EndArray();
  w.EndObject();
  out << "\n";
}

}  // namespace pg2ch::capture

#pragma once
// What `pg2ch status` knows about a pipeline, gathered by its capture mode and printed by the
// CLI as a readable table or as JSON (`status --json`) for scripts. Per-table states beyond "ok"
// and "target missing" arrive with the per-table state machine.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace pg2ch::capture {

// A detail's value: text, or a number that JSON keeps a number. (Not a std::variant: GCC 12 warns
// maybe-uninitialized on its moves at -O2.)
struct StatusValue {
  StatusValue(std::string s) : text(std::move(s)) {}
  StatusValue(const char* s) : text(s) {}
  StatusValue(std::int64_t n) : text(std::to_string(n)), number(n) {}
  std::string text;
  std::optional<std::int64_t> number;
};

struct TableStatus {
  std::string table;                       // schema.table at the source
  std::string target;                      // where the sink writes it
  std::string state = "ok";
  std::optional<std::int64_t> source_rows;
  std::optional<std::int64_t> target_rows; // empty: no target (missing) or a sink without rows (Kafka)
  std::string position;                    // e.g. a poll checkpoint; empty when the mode has none
  std::string last_error;
};

struct StatusReport {
  std::string pipeline;
  std::string mode;
  std::string sink;
  std::string state;                                         // e.g. "streaming", "not started"
  std::vector<std::pair<std::string, StatusValue>> details;  // in display order
  std::vector<std::string> notes;                            // caveats worth reading, not problems
  std::vector<TableStatus> tables;
  std::vector<std::string> attention;                        // what an operator must look at

  bool healthy() const { return attention.empty(); }
  void add(std::string key, StatusValue value) { details.emplace_back(std::move(key), std::move(value)); }
};

void print_status_text(const StatusReport& report, std::ostream& out);
void print_status_json(const StatusReport& report, std::ostream& out);

}  // namespace pg2ch::capture

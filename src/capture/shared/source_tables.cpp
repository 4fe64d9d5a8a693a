#include "capture/shared/source_tables.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "config/table_name.h"
#include "capture/capture_mode.h"

namespace pg2ch::capture {

pg::Connection connect_source(const config::Config& cfg, bool replication) {
  return pg::Connection::connect(cfg.postgres.conninfo(replication),
                                 fmt::format("source PostgreSQL {}", cfg.postgres.describe()));
}

std::vector<const pipeline::TableSchema*> SourceTables::table_ptrs() const {
  std::vector<const pipeline::TableSchema*> v;
  for (const auto& t : tables) v.push_back(t.get());
  return v;
}

std::vector<const pipeline::TableSchema*> SourceTables::named(const std::vector<std::string>& names,
                                                             const config::Config& cfg) const {
  std::vector<const pipeline::TableSchema*> out;
  for (const auto& name : names) {
    auto it = std::find_if(tables.begin(), tables.end(),
                           [&](const auto& t) { return config::names_table(name, t->source_schema, t->source_name); });
    if (it == tables.end()) {
      throw Error(ErrorKind::Config, fmt::format("table {} is not replicated by pipeline {}", name, cfg.name),
                  "name it as `pg2ch status` lists it (schema.table)");
    }
    out.push_back(it->get());
  }
  return out;
}

SourceTables open_source_tables(const config::Config& cfg, MissingTables missing) {
  SourceTables p;
  p.source = connect_source(cfg);
  p.refs = pg::resolve_tables(p.source, cfg.tables, missing == MissingTables::Report ? &p.missing : nullptr);
  p.targets = sink::make_sink_targets(cfg);
  const auto& caps = p.targets->type_capabilities();
  p.describe_options.generated_columns_unavailable = capture_mode(cfg.mode).generated_columns_unavailable;
  p.describe_options.partitioned_tables = capture_mode(cfg.mode).partitioned_tables;
  std::vector<pg::TableRef> described;
  for (const auto& ref : p.refs) {
    try {
      p.tables.push_back(
          std::make_unique<pipeline::TableSchema>(pg::describe_table(p.source, ref, caps, p.describe_options)));
    } catch (const Error& e) {
      // A table an operator named must be replicable; one a `schema.*` entry happens to match
      // (a table without a key; a partitioned one outside mode logical) is left out with the reason,
      // and the others go on.
      const bool wildcard =
          ref.selector && config::parse_table_name(ref.selector->pattern).value_or(config::TableName{}).wildcard;
      if (!wildcard || (e.kind() != ErrorKind::Schema && e.kind() != ErrorKind::Config)) throw;
      p.left_out.push_back(fmt::format("{} (matches \"{}\") is not replicated: {}", ref.qualified(),
                                       ref.selector->pattern, e.one_line()));
      spdlog::warn("{}", p.left_out.back());
      continue;
    }
    described.push_back(ref);
  }
  p.refs = std::move(described);
  return p;
}

std::vector<const pipeline::TableSchema*> ensure_targets(SourceTables& p) {
  const auto tables = p.table_ptrs();
  auto ensured = p.targets->ensure(tables);
  p.target_changes = std::move(ensured.changes);
  return ensured.created;
}

void print_setup_notes(const SourceTables& p, std::ostream& out) {
  for (const auto& t : p.tables) {
    for (const auto& note : t->notes) out << "Note: " << note << "\n";
  }
  for (const auto& line : p.left_out) out << "Note: " << line << "\n";
  if (p.target_changes.empty()) {
    out << fmt::format("{}: nothing to create or change\n", p.targets->describe());
    return;
  }
  out << p.targets->describe() << ":\n";
  for (const auto& c : p.target_changes) out << "  " << c << "\n";
}

namespace {

// A [[tables]] entry that selects nothing: a stopped row with the reason and fix; the rows its
// target (named as the entry maps it) still holds are counted, since they stay there.
template <class OrNote>
void report_missing(const pg::MissingTable& m, sink::SinkTargets& targets, StatusReport& r, OrNote& or_note) {
  TableStatus s;
  s.table = m.schema + "." + m.name;
  s.state = "stopped";
  s.last_error = m.reason;
  r.attention.push_back(fmt::format("{} stopped: {} (fix: {})", s.table, m.reason, m.fix));
  if (m.name != "*") {
    pipeline::TableSchema t;
    t.source_schema = m.schema;
    t.source_name = m.name;
    t.target_name = m.selector && !m.selector->target.empty() ? m.selector->target : m.name;
    s.target = t.target_name;
    or_note(s.table + ": target rows", [&] {
      const auto target = targets.count(t);
      if (!target.missing) s.target_rows = target.rows;
    });
  }
  r.tables.push_back(std::move(s));
}

}  // namespace

StatusReport status_report(const config::Config& cfg, SourceTables& p) {
  StatusReport r;
  // One thing that cannot be counted (a table dropped at the source a moment ago, its target
  // being re-created by the running pipeline, a target an operator replaced) leaves its figure
  // empty with a note: status must still answer for everything else. A lost connection is not
  // that: it fails status as a whole.
  const auto or_note = [&r](const std::string& what, auto&& count) {
    try {
      count();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Connection) throw;
      r.notes.push_back(what + " not counted: " + e.one_line());
    }
  };
  r.pipeline = cfg.name;
  r.mode = cfg.mode;
  r.sink = cfg.sink;
  r.add("source", "PostgreSQL " + cfg.postgres.describe());
  r.add("target", p.targets->describe());
  for (const auto& line : p.left_out) r.notes.push_back(line);
  for (const auto& t : p.tables) {
    TableStatus s;
    s.table = t->qualified_source();
    s.target = t->target_name;
    or_note(s.table + ": source rows", [&] {
      s.source_rows = p.source
                          .query(fmt::format("SELECT count(*) FROM {}.{}", p.source.quote_identifier(t->source_schema),
                                             p.source.quote_identifier(t->source_name)))
                          .int64(0, 0);
    });
    or_note(s.table + ": target rows", [&] {
      const auto target = p.targets->count(*t);
      s.target_rows = target.rows;
      if (target.missing) {
        s.state = "target missing";
        r.attention.push_back(s.table + ": its target " + t->target_name + " does not exist (run `pg2ch setup`)");
      }
    });
    r.tables.push_back(std::move(s));
  }
  for (const auto& m : p.missing) report_missing(m, *p.targets, r, or_note);
  or_note("active parts", [&] {
    for (auto& note : p.targets->parts_notes(p.table_ptrs())) {
      (note.attention ? r.attention : r.notes).push_back(std::move(note.text));
    }
  });
  return r;
}

void drop_targets(SourceTables& p) {
  for (const auto& t : p.tables) {
    p.targets->drop(*t);
    std::cout << fmt::format("dropped the target of {} ({})\n", t->qualified_source(), p.targets->describe());
  }
}

}  // namespace pg2ch::capture

#pragma once
// Tables that appear under a `schema.*` entry while a pipeline runs, for every capture mode: every
// few seconds the catalog is asked which tables each such entry matches now, and the ones the
// pipeline does not hold yet (by oid) are described as at start. What a mode does with one (add
// it to its publication, install its triggers, copy it, stream it) is the mode's; logical mode's
// is capture/logical/table_discovery.h, the SQL-reading modes' capture/poll/watermark_pipeline.h
// and capture/outbox/outbox_pipeline.cpp.
//
// A table that cannot be replicated (no key, a type or watermark column the mode cannot read, no
// SELECT, a trigger pg2ch may not create) is refused: reported once with the reason and left out,
// and the pipeline goes on.
//
// Errors: exceptions (pg2ch::Error) for the source connection; a table that cannot be described
// is refused.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capture/shared/source_tables.h"
#include "config/config.h"
#include "pg/catalog.h"
#include "pipeline/table_schema.h"

namespace pg2ch::capture {

class NewTables {
 public:
  NewTables(const config::Config& cfg, SourceTables& p, std::chrono::milliseconds every = std::chrono::seconds(5));

  // The tables `schema.*` entries match now that p.tables lacks and that were not refused; empty
  // until the next look is due.
  std::vector<pg::TableRef> due();
  // `ref` described as at start (p.describe_options); nullptr when it cannot be (then refused).
  std::unique_ptr<pipeline::TableSchema> describe(const pg::TableRef& ref);
  // A table `due()` found, described and readied by `ready` (its target, its triggers: what must
  // precede its copy), then held in p.tables (and p.refs), saying so with `next` (what happens to
  // it now); nullptr when it cannot be replicated (then refused), also when this run still holds a
  // table of its name (dropped or renamed while running: its state keys and target are that
  // one's).
  const pipeline::TableSchema* join(const pg::TableRef& ref,
                                    const std::function<void(const pipeline::TableSchema&)>& ready,
                                    std::string_view next);
  // Leaves `ref` out for good in this run, saying why once.
  void refuse(const pg::TableRef& ref, const std::string& why);
  bool refused(std::uint32_t oid) const { return refused_.contains(oid); }
  // Whether `e`, thrown while a table was described or prepared, is that table's trouble (then it
  // is refused) rather than the pipeline's.
  static bool refuses_table(const Error& e);

 private:
  const config::Config& cfg_;
  SourceTables& p_;
  std::chrono::milliseconds every_;
  std::set<std::uint32_t> refused_;
  std::chrono::steady_clock::time_point next_look_{};
};

}  // namespace pg2ch::capture

#pragma once
// What `pg2ch setup` installs at the source for mode = "notify": one trigger function in
// notify.trigger_schema that calls pg_notify(<channel>, '<schema>.<table>'), and per table a
// STATEMENT-level AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE trigger. Statement level keeps the
// cost on the writer to one notification per statement (a 100k-row INSERT sends one), and
// PostgreSQL folds identical notifications within a transaction into one. The payload only says
// *which* table changed; the poll reads *what* changed.
#include <string>
#include <vector>

#include "config/config.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace pg2ch::capture::notify {

// "pg2ch_notify_<channel>" (at most 63 bytes): one trigger per channel, so pipelines with
// different channels can capture the same table.
std::string trigger_name(const config::Config& cfg);

void install_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables);
// Drops the triggers; the function too when no other trigger uses it.
void drop_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables);
bool has_notify_trigger(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table);

}  // namespace pg2ch::capture::notify

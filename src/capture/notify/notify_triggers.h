#pragma once
// What `pg2ch setup` installs at the source for mode = "notify": per table a trigger function in
// notify.trigger_schema and a STATEMENT-level AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
// trigger that calls it. Statement level makes a 100k-row INSERT send one notification. A session
// setting holding the last time bucket it notified makes a session's stream of small transactions
// send one per notify.coalesce: PostgreSQL serialises the commits of every transaction that
// queued a notification (PreCommit_Notify takes a global lock), so notifying in every one costs
// the source a large share of its single-row transaction rate. The payload only says *which*
// table changed and when its bucket ends; the poll reads *what* changed, and follow_up.h says why
// the listener polls on after it. A partitioned table gets a ROW-level trigger instead (cloned to
// its partitions, present and future, so a statement naming a partition notifies too), whose
// payload names the partitioned table.
#include <string>
#include <vector>

#include "config/config.h"
#include "pg/catalog.h"
#include "pg/connection.h"

namespace pg2ch::capture::notify {

// "pg2ch_notify_<channel>" (at most 63 bytes): one trigger per channel, so pipelines with
// different channels can capture the same table.
std::string trigger_name(const config::Config& cfg);
// "pg2ch.notified_<table oid>_<hash of the channel>": the session setting holding the table's last
// notified bucket, per channel like the trigger (a shared one would let one pipeline's
// notification silence another's).
std::string notified_setting(const config::Config& cfg, const pg::TableRef& table);

void install_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables);
// Drops the triggers and their functions (and what older pg2ch installed, when nothing uses it).
void drop_notify_triggers(pg::Connection& conn, const config::Config& cfg, const std::vector<pg::TableRef>& tables);
bool has_notify_trigger(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table);
// A trigger of an older pg2ch (channel argument only) notifies every statement.
bool notify_trigger_is_per_statement(pg::Connection& conn, const config::Config& cfg, const pg::TableRef& table);

}  // namespace pg2ch::capture::notify

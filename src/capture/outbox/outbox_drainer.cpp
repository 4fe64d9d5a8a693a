#include "capture/outbox/outbox_drainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <utility>

#include "capture/outbox/copy_lock.h"
#include "capture/outbox/outbox_copy.h"
#include "capture/outbox/partition_copies.h"
#include "capture/outbox/source_transaction.h"
#include "capture/shared/copy_truncate.h"
#include "common/crash_point.h"
#include "pipeline/key_text.h"

namespace pg2ch::capture::outbox {

namespace {

// "(block,offset)" as PostgreSQL prints a tid.
std::uint64_t parse_tid_text(std::string_view t) {
  std::uint32_t block = 0;
  std::uint16_t offset = 0;
  const auto comma = t.find(',');
  if (t.size() < 5 || t.front() != '(' || t.back() != ')' || comma == std::string_view::npos ||
      std::from_chars(t.data() + 1, t.data() + comma, block).ec != std::errc() ||
      std::from_chars(t.data() + comma + 1, t.data() + t.size() - 1, offset).ec != std::errc()) {
    throw ProtocolError(fmt::format("unexpected ctid '{}'", t));
  }
  return (std::uint64_t{block} << 16) | offset;
}

// A tid in binary: 4-byte block, 2-byte offset, big-endian.
std::uint64_t parse_tid_binary(std::string_view b) {
  if (b.size() != 6) throw ProtocolError(fmt::format("expected a 6-byte tid, got {} bytes", b.size()));
  std::uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

Lsn lsn_of(const pg::Result& r, int row, int col) {
  const auto lsn = parse_lsn(r.value(row, col));
  if (!lsn) throw ProtocolError(fmt::format("unexpected pg_lsn '{}'", r.value(row, col)));
  return *lsn;
}

// `{"(0,1)","(0,2)"}`: a tid[] parameter in text form.
std::string tid_array(const std::vector<std::string>& ctids) {
  std::string out = "{";
  for (const std::string& c : ctids) {
    if (out.size() > 1) out += ',';
    out += '"' + c + '"';
  }
  return out + "}";
}

// Text parameters, binary results: values arrive in the format the RowBinary codecs read.
pg::Result query_binary(pg::Connection& conn, const std::string& sql, const std::string& param,
                        std::string_view context) {
  const char* values[] = {param.c_str()};
  pg::Result r(PQexecParams(conn.get(), sql.c_str(), 1, nullptr, values, nullptr, nullptr, /*resultFormat=*/1));
  if (!r.ok()) {
    if (PQstatus(conn.get()) == CONNECTION_BAD) throw pg::error_from_connection(conn.get(), context);
    throw pg::error_from_result(r, context);
  }
  return r;
}

}  // namespace

OutboxDrainer::OutboxDrainer(pg::Connection& conn, OutboxNames names, Payload payload,
                             const std::vector<const pipeline::TableSchema*>& tables, pipeline::ChangeSink& sink,
                             std::size_t batch_size, table_sync::TableStates& states)
    : conn_(conn), names_(std::move(names)), sink_(sink), batch_size_(batch_size), payload_(payload), states_(states) {
  for (const auto* t : tables) {
    tables_.emplace(t->relation_oid, t);
    fetch_sql_[t] = fetch_sql_of(*t);
  }
  conn_.exec(fmt::format("SET lc_monetary = '{}'", kDrainerMonetaryLocale));
  // A queue's statistics are stale most of the time (autovacuum analyzes it far less often than
  // it turns over), and then the planner may gather workers for a claim that stops after one batch.
  conn_.exec("SET max_parallel_workers_per_gather = 0");
  claim_sql_ = claim_sql(names_, /*wrap=*/false);
  wrap_sql_ = claim_sql(names_, /*wrap=*/true);
  delete_sql_ = delete_claimed_sql(names_);
  progress_sql_ = record_progress_sql(names_);
  pending_truncates_sql_ = pending_truncates_sql(names_);
  lock_truncate_sql_ = lock_oldest_truncate_sql(names_);
  lock_before_sql_ = lock_events_before_sql(names_);
  delete_truncate_sql_ = delete_truncate_sql(names_);
  lock_copy_requests_sql_ = lock_copy_requests_sql(names_);
  delete_copy_requests_sql_ = delete_copy_requests_sql(names_);
  update_stopped_rels();
  sink_.set_refusal_handler(
      [this](const pipeline::TableSchema& table, const Error& error) { return stop_refused(table, error); });
}

OutboxDrainer::~OutboxDrainer() { sink_.set_refusal_handler({}); }

void OutboxDrainer::add_table(const pipeline::TableSchema& table) {
  tables_.emplace(table.relation_oid, &table);
  fetch_sql_[&table] = fetch_sql_of(table);
  update_stopped_rels();
}

bool OutboxDrainer::stop_refused(const pipeline::TableSchema& table, const Error& error) {
  if (!table_sync::stops_only_its_table(error) || !tables_.contains(table.relation_oid)) return false;
  auto why = table_sync::refused_insert(
      table, error,
      fmt::format("restart pg2ch: its events from the refused batch on stay in {} and are applied again",
                  names_.events_table()));
  spdlog::error("table {} stopped: {} (fix: {}); the other tables go on", table.qualified_source(), why.reason,
                why.fix);
  states_.stop(table, std::move(why.reason), std::move(why.fix));
  update_stopped_rels();
  refused_.push_back(&table);
  return true;
}

void OutboxDrainer::columns_changed(const pipeline::TableSchema& table, std::string change) {
  if (follow_) {
    auto why_not = follow_(table);
    if (!why_not) {
      spdlog::debug("{}: followed in place: {}", table.qualified_source(), change);
      fetch_sql_[&table] = fetch_sql_of(table);
      return;
    }
    change += "; not followed in place: " + *why_not;
  }
  stop_for_changed_columns(table, std::move(change));
}

std::string OutboxDrainer::fetch_sql_of(const pipeline::TableSchema& table) const {
  return fetch_rows_sql(names_, table, payload_);
}

void OutboxDrainer::stop_for_changed_columns(const pipeline::TableSchema& table, std::string change) {
  const std::string name = table.qualified_source();
  std::string fix = fmt::format(
      "drop its ClickHouse target (pg2ch creates it anew with the new columns), run `pg2ch resync {}` and restart "
      "pg2ch: it is copied again (its queued events deleted first: the copy holds their changes), and every change "
      "after the copy has an event of the new shape",
      name);
  spdlog::error("table {} stopped: {} (fix: {}); the other tables go on", name, change, fix);
  sink_.discard(table);
  states_.stop(table, std::move(change), std::move(fix));
  update_stopped_rels();
}

void OutboxDrainer::update_stopped_rels() {
  std::string rels;
  for (const auto* t : states_.in_phase(table_sync::TablePhase::Stopped)) {
    rels += (rels.empty() ? "" : ",") + std::to_string(t->relation_oid);
  }
  stopped_rels_ = "{" + rels + "}";
}

void OutboxDrainer::stop_table(const pipeline::TableSchema& table, const Event& refused, const Error& error,
                               const std::string& key) {
  const std::string name = table.qualified_source();
  std::string how_back = fmt::format(
      "restart pg2ch: the events of {} from this one on stay in {} and are applied again", name, names_.events_table());
  if (payload_ == Payload::Row) {
    how_back += fmt::format(
        " (outbox.payload = \"row\": the event holds the value as written, so change the table's config; if the "
        "row was corrected at the source since, its later event carries the correction and this one may go: DELETE "
        "FROM {} WHERE rel = {} AND lsn = '{}')",
        names_.events_table(), table.relation_oid, format_lsn(refused.lsn));
  }
  auto why = table_sync::refused_value(error, key, how_back);
  spdlog::error("table {} stopped: {} (fix: {}); the other tables go on", name, why.reason, why.fix);
  sink_.discard(table);
  states_.stop(table, std::move(why.reason), std::move(why.fix));
  update_stopped_rels();
}

const pipeline::TableSchema* OutboxDrainer::table_of(std::string_view rel_oid) const {
  std::uint32_t oid = 0;
  std::from_chars(rel_oid.data(), rel_oid.data() + rel_oid.size(), oid);
  auto it = tables_.find(oid);
  if (it != tables_.end()) return it->second;
  pg::Result name = conn_.query("SELECT coalesce($1::oid::regclass::text, 'a dropped table')", {std::string(rel_oid)});
  throw Error(ErrorKind::Config,
              fmt::format("outbox {} holds events of {} (oid {}), which pipeline {} does not capture",
                          names_.events_table(), name.text(0, 0), rel_oid, names_.pipeline),
              "add the table to [[tables]], or give each pipeline its own outbox.table; events are never dropped "
              "unread (delete them by hand if the table is gone for good: DELETE FROM " +
                  names_.events_table() + " WHERE rel = " + std::string(rel_oid) + ")");
}

// Nothing is acknowledged at the source before the sink holds it durably. A flush that returns
// without that is Kafka not confirming within the flush's bound: an outage, retried like one
// (the drain transaction rolls back, so what was claimed or locked stays queued).
void OutboxDrainer::commit_to_sink(std::string_view what) {
  sink_.commit_transaction(++position_);
  sink_.flush();
  const auto durable = sink_.durable_position();
  if (!durable || *durable < position_) {
    throw Error(ErrorKind::Connection, fmt::format("the sink did not report the flushed outbox {} durable", what),
                "check that Kafka is reachable; the outbox keeps what was not confirmed and pg2ch sends it again",
                true);
  }
}

void OutboxDrainer::confirm_delivered(std::string_view what) {
  sink_.begin_transaction();
  commit_to_sink(what);
}

// The oldest pending truncate, unless another drainer holds it. Its table's earlier events are
// locked first: drainers holding some write them to ClickHouse before the target is emptied (the
// lock waits for their commit) or roll back (then they are discarded here, never written after).
bool OutboxDrainer::handle_truncate() {
  pg::Result t = conn_.query(lock_truncate_sql_);
  if (t.rows() == 0) return false;
  const std::string ctid = t.text(0, 0);
  const Lsn lsn = lsn_of(t, 0, 1);
  const auto* table = table_of(t.value(0, 2));
  // Another drainer copies the table (copy_lock.h): the row waits for that copy, and so do the
  // claims of the table's events after it (must_wait_for_truncate).
  if (!try_lock_copies_of(conn_, names_, *table)) return false;
  if (t.boolean(0, 3)) {
    handle_copy_request(*table, t.text(0, 2));
    return true;
  }
  pg::Result before = conn_.query(lock_before_sql_, {t.text(0, 2), t.text(0, 1)});
  std::vector<std::string> discarded;
  for (int i = 0; i < before.rows(); ++i) discarded.push_back(before.text(i, 0));

  sink_.begin_transaction();
  sink_.truncate(*table);
  commit_to_sink("truncate");
  if (states_.phase(*table) == table_sync::TablePhase::Stopped) {
    // Its queued events, the refused one among them, are superseded: nothing it skipped is needed.
    spdlog::info("outbox: {} was stopped; after its TRUNCATE it streams again", table->qualified_source());
    states_.set(*table, table_sync::TablePhase::Streaming);
    update_stopped_rels();
  }
  if (!discarded.empty()) conn_.query(delete_sql_, {tid_array(discarded)});
  conn_.query(delete_truncate_sql_, {ctid});
  conn_.query(progress_sql_, {names_.pipeline, format_lsn(lsn), std::to_string(discarded.size() + 1)});
  ++stats_.truncates;
  spdlog::info("outbox: {} truncated in ClickHouse ({} earlier events superseded)", table->qualified_source(),
               discarded.size());
  return true;
}

// The oldest pending row is a copy request of `table` (partition_copies.h says why this is exact):
// it and the table's other requests before its next TRUNCATE are served by one copy, which runs
// after this transaction committed (drain_once): here the table is marked copying and the events
// the requests supersede are deleted. The requests stay queued until the copy is done, held by
// this drainer's copy lock: another drainer takes them only if this one dies.
void OutboxDrainer::handle_copy_request(const pipeline::TableSchema& table, const std::string& rel) {
  pg::Result requests = conn_.query(lock_copy_requests_sql_, {rel});
  if (requests.rows() == 0) return;  // handled by another drainer meanwhile
  const Lsn last = lsn_of(requests, requests.rows() - 1, 1);
  pg::Result before = conn_.query(lock_before_sql_, {rel, format_lsn(last)});
  if (!copy_again_ || !copy_later_) {
    throw Error(ErrorKind::Internal, fmt::format("outbox: a copy request of {} without a way to copy it",
                                                 table.qualified_source()));
  }
  const bool stopped = states_.phase(table) == table_sync::TablePhase::Stopped;
  spdlog::info("outbox: {} is copied again{}: a partition of it was truncated, attached, detached or dropped ({} "
               "request(s), {} earlier events superseded by the copy)",
               table.qualified_source(), stopped ? " at the next start (it is stopped)" : "", requests.rows(),
               before.rows());
  // A Kafka consumer learns that the partition's rows left only from a TRUNCATE, and the events
  // deleted here are the only other record of it: it must be durable first (an empty transaction
  // after it is durable only once it is). A stopped table's copy at the next start sends its own
  // (capture/shared/copy_truncate.h), and the copy below sends none.
  if (!sink_.bulk_load() && !stopped) {
    truncate_through_sink(sink_, {&table}, 0);
    confirm_delivered("copy");
  }
  std::vector<std::string> superseded;
  for (int i = 0; i < before.rows(); ++i) superseded.push_back(before.text(i, 0));
  if (!superseded.empty()) conn_.query(delete_sql_, {tid_array(superseded)});
  conn_.query(progress_sql_, {names_.pipeline, format_lsn(last), std::to_string(superseded.size())});
  if (stopped) {
    // Its copy at the next start deletes whatever its snapshot holds: the requests can go now.
    copy_later_(table);
    for (int i = 0; i < requests.rows(); ++i) conn_.query(delete_truncate_sql_, {requests.text(i, 0)});
    return;
  }
  // Before the COMMIT: a crash after it finds the table copying, and the next start copies it
  // (outbox_copy.h), or the next drainer takes the requests (then released with this session).
  copy_lock_.emplace(conn_, names_, std::vector<const pipeline::TableSchema*>{&table});
  states_.set(table, table_sync::TablePhase::Copying);
  copy_next_ = &table;
  copy_upto_ = last;
}

// Outside any transaction of this drainer: the copy's snapshot is taken after the COMMIT that
// deleted the superseded events, so it holds their changes.
void OutboxDrainer::copy_requested_table(const pipeline::TableSchema& table) {
  crash_point("outbox_copy_request_taken");  // tests: the table copying, no copy begun
  // A copy through Kafka returns once flushed, delivered or not (the flush is bounded): the table
  // streams only once every row of it is durable.
  const bool done = copy_again_(table, copy_upto_, [this] { confirm_delivered("copy"); });
  if (done) {
    conn_.query(delete_copy_requests_sql_, {std::to_string(table.relation_oid), format_lsn(copy_upto_)});
    ++stats_.copies;
  }
  copy_lock_.reset();
  update_stopped_rels();
}

void OutboxDrainer::claim_range(std::vector<Event>& out, bool wrap, std::size_t limit) {
  pg::Result r = conn_.query(wrap ? wrap_sql_ : claim_sql_, {std::to_string(limit), cursor_, stopped_rels_});
  for (int i = 0; i < r.rows(); ++i) {
    Event e;
    e.ctid = r.text(i, 0);
    e.tid = parse_tid_text(e.ctid);
    e.lsn = lsn_of(r, i, 1);
    e.table = table_of(r.value(i, 2));
    out.push_back(std::move(e));
  }
}

std::vector<OutboxDrainer::Event> OutboxDrainer::claim() {
  std::vector<Event> events;
  claim_range(events, /*wrap=*/false, batch_size_);
  std::string next = events.empty() ? cursor_ : events.back().ctid;
  // The end of the heap gave less than a batch: go on from its start, where vacuumed space is
  // reused by new events.
  if (events.size() < batch_size_ && cursor_ != "(0,0)") {
    const std::size_t before = events.size();
    claim_range(events, /*wrap=*/true, batch_size_ - before);
    next = events.size() > before ? events.back().ctid : "(0,0)";
  }
  cursor_ = next;
  return events;
}

bool OutboxDrainer::must_wait_for_truncate(const std::vector<Event>& events) {
  pg::Result r = conn_.query(pending_truncates_sql_);
  if (r.rows() == 0) return false;
  std::unordered_map<const pipeline::TableSchema*, Lsn> first_truncate;
  for (int i = 0; i < r.rows(); ++i) {
    const auto* table = table_of(r.value(i, 1));
    const Lsn lsn = lsn_of(r, i, 0);
    auto [it, fresh] = first_truncate.emplace(table, lsn);
    if (!fresh) it->second = std::min(it->second, lsn);
  }
  return std::any_of(events.begin(), events.end(), [&](const Event& e) {
    auto it = first_truncate.find(e.table);
    return it != first_truncate.end() && e.lsn > it->second;
  });
}

std::vector<const pipeline::TableSchema*> OutboxDrainer::write_batch(const std::vector<Event>& events,
                                                                     const std::string& ctids) {
  // Rows of every table touched by the batch, fetched before any sink call.
  struct Fetched {
    pg::Result result;
    std::unordered_map<std::uint64_t, int> row_of;
  };
  std::unordered_map<const pipeline::TableSchema*, Fetched> fetched;
  std::vector<const pipeline::TableSchema*> stopped;
  // Followed or stopped, the table's events stay queued this batch (with the stopped tables').
  const auto changed = [&](const pipeline::TableSchema& t, std::optional<std::string> change) {
    if (!change) return false;
    columns_changed(t, std::move(*change));
    stopped.push_back(&t);
    return true;
  };
  for (const auto& e : events) {
    if (fetched.contains(e.table) || std::find(stopped.begin(), stopped.end(), e.table) != stopped.end()) continue;
    if (columns_) {
      if (auto change = columns_->changed(*e.table); change && changed(*e.table, std::move(change->what))) continue;
    }
    Fetched f;
    fetch_failed_ = e.table;  // a failed fetch aborts the transaction: drain_once looks at its columns after
    f.result = query_binary(conn_, fetch_sql_.at(e.table), ctids,
                            fmt::format("reading outbox events of {}", e.table->qualified_source()));
    fetch_failed_ = nullptr;
    // Whenever the change happened: no value is decoded with a type it no longer has.
    if (auto change = result_types_changed(f.result, 2, *e.table)) {
      changed(*e.table, fmt::format("the columns of {} changed at the source: {}", e.table->qualified_source(), *change));
      continue;
    }
    // A row read with a column added or made nullable since: committed after the ALTER, which
    // this later catalog read sees (column_watch.h shape_differs).
    if (columns_ && f.result.rows() > 0 && columns_->shape_differs(*e.table)) {
      if (auto change = columns_->changed(*e.table, /*now=*/true); change && changed(*e.table, std::move(change->what))) {
        continue;
      }
    }
    for (int row = 0; row < f.result.rows(); ++row) f.row_of.emplace(parse_tid_binary(f.result.value(row, 0)), row);
    fetched.emplace(e.table, std::move(f));
  }

  std::vector<pipeline::ValueRef> values;
  refused_.clear();
  const auto is_stopped = [&](const pipeline::TableSchema* t) {
    return std::find(stopped.begin(), stopped.end(), t) != stopped.end() ||
           std::find(refused_.begin(), refused_.end(), t) != refused_.end();
  };
  sink_.begin_transaction();
  for (const auto& e : events) {
    if (is_stopped(e.table)) continue;
    const Fetched& f = fetched.at(e.table);
    auto hit = f.row_of.find(e.tid);
    if (hit == f.row_of.end()) {
      throw Error(ErrorKind::Internal, fmt::format("outbox event {} of {} was claimed but not read back", e.ctid,
                                                   e.table->qualified_source()));
    }
    const int row = hit->second;
    const auto action = static_cast<EventAction>(f.result.value(row, 1).at(0));
    if (action == EventAction::Skip) continue;
    const auto& columns = e.table->source_columns;
    values.assign(columns.size(), pipeline::ValueRef::null());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const int col = static_cast<int>(c) + 2;
      if (!f.result.is_null(row, col)) values[c] = pipeline::ValueRef::binary(f.result.value(row, col));
    }
    try {
      if (action == EventAction::Write) {
        sink_.insert(*e.table, values, e.lsn);
      } else {
        sink_.remove(*e.table, values, e.lsn);
      }
    } catch (const Error& error) {
      if (!table_sync::stops_only_its_table(error)) throw;
      stop_table(*e.table, e, error, pipeline::key_text(*e.table, values));
      stopped.push_back(e.table);
    }
  }
  commit_to_sink("batch");
  stopped.insert(stopped.end(), refused_.begin(), refused_.end());
  return stopped;
}

OutboxDrainer::Outcome OutboxDrainer::drain_once() {
  copy_next_ = nullptr;
  copy_lock_.reset();  // a copy that failed: released outside the transaction it may have aborted
  SourceTransaction tx(conn_);
  if (handle_truncate()) {
    tx.commit();
    if (const auto* table = std::exchange(copy_next_, nullptr)) copy_requested_table(*table);
    return Outcome::Drained;
  }
  std::vector<Event> events = claim();
  if (events.empty()) {
    tx.commit();
    return Outcome::Empty;
  }
  if (must_wait_for_truncate(events)) {
    tx.rollback();
    ++stats_.blocked;
    spdlog::debug("outbox: a pending truncate precedes some claimed events; retrying");
    return Outcome::Blocked;
  }
  // Versions decide the final state whatever the order; in version order, a Kafka topic gets each
  // key's changes of one batch in the order they were made.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.lsn < b.lsn; });
  std::vector<std::string> ctid_list;
  ctid_list.reserve(events.size());
  for (const auto& e : events) ctid_list.push_back(e.ctid);
  std::vector<const pipeline::TableSchema*> stopped;
  try {
    stopped = write_batch(events, tid_array(ctid_list));
  } catch (const Error&) {
    const auto* table = std::exchange(fetch_failed_, nullptr);
    if (!table || !columns_) throw;
    // A column dropped or renamed fails its events' fetch: that table's trouble, not the
    // pipeline's. Looked at outside the aborted transaction; the claim is taken again.
    tx.rollback();
    auto change = columns_->changed(*table, /*now=*/true);
    if (!change) throw;
    columns_changed(*table, std::move(change->what));
    return Outcome::Blocked;
  }
  if (!stopped.empty()) {
    // The stopped tables' events stay queued (their stop is durable already).
    ctid_list.clear();
    for (const auto& e : events) {
      if (std::find(stopped.begin(), stopped.end(), e.table) == stopped.end()) ctid_list.push_back(e.ctid);
    }
  }
  // tests: ClickHouse holds the batch, the queue still has it
  if (!ctid_list.empty()) crash_point("outbox_batch_durable");
  conn_.query(delete_sql_, {tid_array(ctid_list)});
  conn_.query(progress_sql_, {names_.pipeline, format_lsn(events.back().lsn), std::to_string(ctid_list.size())});
  tx.commit();
  ++stats_.batches;
  stats_.events += ctid_list.size();
  return Outcome::Drained;
}

}  // namespace pg2ch::capture::outbox

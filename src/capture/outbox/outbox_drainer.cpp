#include "capture/outbox/outbox_drainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unordered_map>

#include "capture/outbox/source_transaction.h"

namespace pg2ch::capture::outbox {

namespace {

std::int64_t be_int64(std::string_view b) {
  if (b.size() != 8) throw ProtocolError(fmt::format("expected an 8-byte bigint, got {} bytes", b.size()));
  std::uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(v);
}

// `{1,2,3}`: a bigint[] parameter in text form.
std::string id_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
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
                             std::size_t batch_size)
    : conn_(conn), names_(std::move(names)), sink_(sink), batch_size_(std::to_string(batch_size)) {
  for (const auto* t : tables) {
    tables_.emplace(std::make_pair(t->source_schema, t->source_name), t);
    queries_[t].fetch = fetch_rows_sql(names_, *t, payload);
  }
  conn_.exec(fmt::format("SET lc_monetary = '{}'", kDrainerMonetaryLocale));
  // A queue's statistics are stale most of the time (autovacuum analyzes it far less often than
  // it turns over), and then the planner may gather workers for the truncate checks, tens of ms
  // per batch for a range the primary key answers in a few.
  conn_.exec("SET max_parallel_workers_per_gather = 0");
  claim_sql_ = claim_sql(names_);
  delete_sql_ = delete_claimed_sql(names_);
  progress_sql_ = record_progress_sql(names_);
  foreign_truncate_sql_ = foreign_truncate_before_sql(names_);
  foreign_event_sql_ = foreign_event_before_sql(names_);
}

std::vector<OutboxDrainer::Event> OutboxDrainer::claim() {
  pg::Result r = conn_.query(claim_sql_, {batch_size_});
  std::vector<Event> events;
  events.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    const auto schema = r.text(i, 1);
    const auto table = r.text(i, 2);
    auto it = tables_.find({schema, table});
    if (it == tables_.end()) {
      throw Error(ErrorKind::Config,
                  fmt::format("outbox {} holds events of {}.{}, which pipeline {} does not capture",
                              names_.events_table(), schema, table, names_.pipeline),
                  "add the table to [[tables]], or give each pipeline its own outbox.table; events are never "
                  "dropped unread");
    }
    const std::string op = r.text(i, 3);
    events.push_back({r.int64(i, 0), it->second, op.empty() ? '?' : op[0]});
  }
  return events;
}

bool OutboxDrainer::blocked_by_other_drainer(const std::vector<Event>& events, const std::string& ids) {
  const std::string max_id = std::to_string(events.back().id);
  if (conn_.query(foreign_truncate_sql_, {ids, max_id}).boolean(0, 0)) return true;
  for (const auto& e : events) {
    if (e.op != 'T') continue;
    pg::Result r =
        conn_.query(foreign_event_sql_, {ids, std::to_string(e.id), e.table->source_schema, e.table->source_name});
    if (r.boolean(0, 0)) return true;
  }
  return false;
}

void OutboxDrainer::deliver(const std::vector<Event>& events, const std::string& ids) {
  // Rows of every table touched by the batch, fetched before any sink call.
  struct Fetched {
    pg::Result result;
    std::unordered_map<std::int64_t, int> row_of;
  };
  std::unordered_map<const pipeline::TableSchema*, Fetched> fetched;
  for (const auto& e : events) {
    if (e.op == 'T' || fetched.contains(e.table)) continue;
    Fetched f;
    f.result = query_binary(conn_, queries_.at(e.table).fetch, ids,
                            fmt::format("reading outbox events of {}", e.table->qualified_source()));
    for (int row = 0; row < f.result.rows(); ++row) f.row_of.emplace(be_int64(f.result.value(row, 0)), row);
    fetched.emplace(e.table, std::move(f));
  }

  std::vector<pipeline::ValueRef> values;
  sink_.begin_transaction();
  for (const auto& e : events) {
    if (e.op == 'T') {
      sink_.truncate(*e.table);  // flushes everything before it first
      ++stats_.truncates;
      continue;
    }
    const Fetched& f = fetched.at(e.table);
    auto hit = f.row_of.find(e.id);
    if (hit == f.row_of.end()) {
      throw Error(ErrorKind::Internal, fmt::format("outbox event {} of {} was claimed but not read back", e.id,
                                                   e.table->qualified_source()));
    }
    const int row = hit->second;
    const auto& columns = e.table->source_columns;
    values.assign(columns.size(), pipeline::ValueRef::null());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const int col = static_cast<int>(c) + 2;
      if (!f.result.is_null(row, col)) values[c] = pipeline::ValueRef::binary(f.result.value(row, col));
    }
    const bool found = f.result.value(row, 1) == std::string_view("\x01", 1);
    const auto version = static_cast<std::uint64_t>(e.id);
    if (found) {
      sink_.insert(*e.table, values, version);
    } else {
      sink_.remove(*e.table, values, version);
    }
  }
  sink_.commit_transaction(++position_);
  sink_.flush();
  const auto durable = sink_.durable_position();
  if (!durable || *durable < position_) {
    throw Error(ErrorKind::Internal, "the sink did not report the flushed outbox batch durable");
  }
}

OutboxDrainer::Outcome OutboxDrainer::drain_once() {
  SourceTransaction tx(conn_);
  const std::vector<Event> events = claim();
  if (events.empty()) {
    tx.commit();
    return Outcome::Empty;
  }
  std::vector<std::int64_t> id_list;
  id_list.reserve(events.size());
  for (const auto& e : events) id_list.push_back(e.id);
  const std::string ids = id_array(id_list);

  if (blocked_by_other_drainer(events, ids)) {
    tx.rollback();
    ++stats_.blocked;
    spdlog::debug("outbox: another drainer holds a truncate next to our events; retrying");
    return Outcome::Blocked;
  }
  deliver(events, ids);
  conn_.query(delete_sql_, {ids});
  std::int64_t max_id = 0;
  for (auto id : id_list) max_id = std::max(max_id, id);
  conn_.query(progress_sql_, {names_.pipeline, std::to_string(max_id), std::to_string(events.size())});
  tx.commit();
  ++stats_.batches;
  stats_.events += events.size();
  return Outcome::Drained;
}

}  // namespace pg2ch::capture::outbox

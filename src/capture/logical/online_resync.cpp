#include "capture/logical/online_resync.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/logical/anonymous_file.h"
#include "capture/logical/partition_watch.h"
#include "capture/logical/replication_slot.h"
#include "capture/logical/table_copy.h"
#include "pg/catalog.h"

namespace pg2ch::capture::logical {

using table_sync::TablePhase;

namespace {

// How often the state store is read again for requests: a resync starts within this long.
constexpr auto kRequestCheckEvery = std::chrono::seconds(2);

}  // namespace

struct OnlineResync::Worker {
  const pipeline::TableSchema* table = nullptr;  // the pipeline's
  // The copy's own, described under the copy's connection: the loop may replace the table's
  // schema meanwhile (columns added in place), and the worker never reads the loop's.
  std::unique_ptr<pipeline::TableSchema> schema;
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  bool superseded = false;  // loop thread only: a TRUNCATE arrived while it copied
  // Written by the worker before `done`:
  std::optional<Lsn> consistent_point;
  SnapshotResult result;
  // Its ranges, each recorded as it is done (the store is thread-safe): a kill leaves them for
  // the next start, which copies only those not done (table_copy.h).
  std::unique_ptr<SnapshotProgress> progress;
  std::exception_ptr error;
  std::thread thread;
};

OnlineResync::OnlineResync(const config::Config& cfg, SourceTables& p, state::StateStore& store,
                           table_sync::TableStates& states, TableGate& gate, pipeline::ChangeSink& sink,
                           pipeline::PipelineObserver* observer)
    : cfg_(cfg), p_(p), store_(store), states_(states), gate_(gate), sink_(sink), observer_(observer) {}

OnlineResync::~OnlineResync() { cancel(); }

void OnlineResync::cancel() {
  if (chunked_) {
    spdlog::info("resync of {}: its copy was cut short; the ranges not done are copied at the next start",
                 chunked_->table().qualified_source());
    drop_chunked();
  }
  if (!worker_) return;
  worker_->stop = true;
  if (worker_->thread.joinable()) worker_->thread.join();
  if (!worker_->consistent_point || worker_->superseded) {
    spdlog::info("resync of {}: its copy was cut short; it is copied again at the next start",
                 worker_->table->qualified_source());
  }
  worker_.reset();
}

void OnlineResync::forget(const pipeline::TableSchema& table) {
  std::erase(queue_, &table);
  if (chunked_ && &chunked_->table() == &table) {
    chunked_->stop();
    chunked_->clear_progress();  // its target is no longer the pipeline's to resume into
    drop_chunked();
  }
  if (worker_ && worker_->table == &table) {
    worker_->stop = true;
    if (worker_->thread.joinable()) worker_->thread.join();
    worker_->progress->clear();  // its target is no longer the pipeline's to resume into
    worker_.reset();
  }
}

void OnlineResync::truncated(const pipeline::TableSchema& table) {
  // Even when the worker says it is done: the TRUNCATE ran inside the stream's turn, possibly
  // while the copy's last INSERT was still landing. A second copy costs time, never rows. (A
  // copy through the sink needs none: its chunks leave out what a TRUNCATE emptied.)
  if (!worker_ || worker_->table != &table) return;
  spdlog::info("resync of {}: a TRUNCATE arrived while it was copied; copying it again from a new snapshot",
               table.qualified_source());
  worker_->superseded = true;
  worker_->stop = true;
}

void OnlineResync::poll() {
  for (const auto* t : gate_.take_truncated()) truncated(*t);
  if (worker_ && worker_->done) finish_worker();
  if (chunked_) poll_chunked();
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_read_) {
    next_read_ = now + kRequestCheckEvery;
    read_requests();
  }
  if (!copying() && !queue_.empty()) {
    const auto* table = queue_.front();
    queue_.pop_front();
    start(*table);
  }
}

void OnlineResync::read_requests() {
  store_.refresh();
  for (const auto* t : states_.tables()) {
    if (!store_.get(table_sync::resync_request_key(*t))) continue;
    if (std::find(queue_.begin(), queue_.end(), t) != queue_.end()) continue;
    if (worker_ && worker_->table == t) continue;
    if (chunked_ && &chunked_->table() == t) continue;
    spdlog::info("resync of {} requested: copying it again while the pipeline streams", t->qualified_source());
    queue_.push_back(t);
  }
}

void OnlineResync::copy(const pipeline::TableSchema& table) {
  if (std::find(queue_.begin(), queue_.end(), &table) == queue_.end()) queue_.push_back(&table);
}

void OnlineResync::start(const pipeline::TableSchema& table) {
  // 1. Nothing of it in flight, durably copying, its target empty (re-created for new columns).
  sink_.discard(table);
  take_columns_as_they_are(table);
  const bool recreate = states_.target_made_for_other_columns(table);
  // Dropped before the state records the new columns' target: a crash between the two leaves a
  // missing target, which the next start copies again, never a state claiming a target of
  // columns the old one does not have.
  if (recreate) {
    spdlog::info("re-creating the target of {}: its columns changed", table.qualified_source());
    p_.targets->drop(table);
  }
  states_.set(table, TablePhase::Copying);
  // Taken: a crash from here on leaves the table copying, which the next start copies.
  store_.erase(table_sync::resync_request_key(table));
  // A plan of an earlier copy must not claim ranges of the target emptied below.
  auto progress = std::make_unique<SnapshotProgress>(store_, kCopyAgainProgress);
  progress->clear();
  const pipeline::TableSchema* one[] = {&table};
  // Before its changes are applied (step 2): a table that joined has no watch memory yet.
  record_leaves_before_copy(p_.source, store_, one);
  p_.targets->ensure(one);
  p_.targets->truncate(table);
  const bool through_sink = sink_.bulk_load() == nullptr;
  // In the stream's order, before any change applied from step 2 on and any row of the copy.
  if (through_sink && sink_.consumers_may_hold(table)) stream_->truncate_here(table);
  // 2. From here on every change of it is applied.
  gate_.copy_again(table);
  if (through_sink) {
    start_chunked(table, std::move(progress));
    return;
  }

  // 3. The copy, on its own thread and connections.
  auto w = std::make_unique<Worker>();
  w->table = &table;
  w->progress = std::move(progress);
  const pg::TableRef ref = ref_of(table);
  w->thread = std::thread([this, w = w.get(), ref, caps = p_.targets->type_capabilities(),
                           describe = p_.describe_options, load = sink_.bulk_load(),
                           digest = table_sync::source_digest(table)] {
    try {
      pg::Connection replication = connect_source(cfg_, true);
      pg::Connection catalog = connect_source(cfg_, false);
      // Unique while it lives (named after its own session), short enough for any slot name.
      const std::string slot = fmt::format("pg2ch_copy_{}", PQbackendPID(replication.get()));
      const auto created = create_slot_with_snapshot(replication, catalog, slot, w->stop, {}, true);
      if (created) {
        // Columns other than the pipeline's (altered before the snapshot) would be copied into a
        // target made for the old ones.
        w->schema = std::make_unique<pipeline::TableSchema>(pg::describe_table(catalog, ref, caps, describe));
        check_columns_unchanged(*w->schema, digest);
        const pipeline::TableSchema* tables[] = {w->schema.get()};
        // Told under the pipeline's table, never the worker's own schema: observers keep series
        // by table, and the worker's is freed when it ends. (Hence no per-chunk progress here.)
        if (observer_) observer_->copy_started(row_estimates(catalog, {w->table}));
        struct CopyEnded {
          pipeline::PipelineObserver* observer;
          ~CopyEnded() {
            if (observer) observer->copy_finished();
          }
        } copy_ended{observer_};
        w->progress->start(catalog, tables, resolve_workers(cfg_),
                           max_range_blocks(catalog, cfg_.logical.snapshot_range_mb));
        SnapshotCopier copier(cfg_, {tables[0]}, created->snapshot_name, *load);
        w->result = copier.run(cfg_.logical.snapshot_workers, w->stop, {}, nullptr, w->progress.get());
        if (!w->stop) w->consistent_point = created->consistent_point;
      }
    } catch (...) {
      w->error = std::current_exception();
    }
    w->done = true;
  });
  worker_ = std::move(w);
}

void OnlineResync::take_columns_as_they_are(const pipeline::TableSchema& table) {
  auto owned = std::find_if(p_.tables.begin(), p_.tables.end(), [&](const auto& t) { return t.get() == &table; });
  auto ref = std::find_if(p_.refs.begin(), p_.refs.end(), [&](const auto& r) { return r.oid == table.relation_oid; });
  if (owned == p_.tables.end() || ref == p_.refs.end()) return;
  pipeline::TableSchema now = pg::describe_table(p_.source, *ref, p_.targets->type_capabilities(), p_.describe_options);
  if (table_sync::source_digest(now) == table_sync::source_digest(table) &&
      table_sync::target_digest(now) == table_sync::target_digest(table)) {
    return;
  }
  // Its columns changed in a way the stream could not follow (TableGate holds its changes until
  // copy_again()): the copy takes them, and its target is re-created for them below.
  spdlog::info("resync of {}: copying it with its columns as they are now", table.qualified_source());
  **owned = std::move(now);  // in place: every holder of the schema's address sees the new columns
}

void OnlineResync::finish_worker() {
  worker_->thread.join();
  const std::unique_ptr<Worker> w = std::move(worker_);
  const pipeline::TableSchema& table = *w->table;
  if (w->superseded) {
    w->progress->clear();  // the TRUNCATE emptied ranges it claims
    queue_.push_front(&table);
    return;
  }
  // The table stays copying: the next start copies the ranges not done.
  if (w->error) std::rethrow_exception(w->error);
  if (!w->consistent_point) return;
  w->progress->clear();  // before the table leaves copying (snapshot_progress.h)
  if (states_.phase(table) != TablePhase::Copying) {
    spdlog::info("resync of {}: its copy finished, but the table {} meanwhile; it stays so", table.qualified_source(),
                 table_sync::to_string(states_.phase(table)));
    return;
  }
  // 4. Streams once everything up to the copy's snapshot is durable.
  states_.set(table, TablePhase::CatchingUp, *w->consistent_point);
  gate_.catch_up(table);
  spdlog::info("resync of {}: copied {} rows ({:.1f} MB) in {:.2f} s while streaming; it streams once {} is durable",
               table.qualified_source(), w->result.rows, w->result.bytes / 1e6, w->result.seconds,
               format_lsn(*w->consistent_point));
}

pg::TableRef OnlineResync::ref_of(const pipeline::TableSchema& table) const {
  for (const auto& r : p_.refs) {
    if (r.oid == table.relation_oid) return r;
  }
  return {table.relation_oid, table.source_schema, table.source_name, nullptr};
}

void OnlineResync::start_chunked(const pipeline::TableSchema& table, std::unique_ptr<SnapshotProgress> progress) {
  const pg::TableRef ref = ref_of(table);
  if (observer_) observer_->copy_started(row_estimates(p_.source, {&table}));
  chunked_started_ = std::chrono::steady_clock::now();
  chunked_ = std::make_unique<WatermarkCopy>(cfg_, table, ref, p_.targets->type_capabilities(), p_.describe_options,
                                             table_sync::source_digest(table), std::move(progress),
                                             stream_->recent_transactions(), spool_directory(cfg_));
}

void OnlineResync::watermark(std::string_view content, Lsn lsn, bool in_transaction) {
  // A table stopped meanwhile (a bad value, a column change) gets no more rows (poll_chunked()
  // ends its copy).
  if (!chunked_ || states_.phase(chunked_->table()) != TablePhase::Copying) return;
  chunked_->watermark(content, lsn, in_transaction, sink_, observer_);
  if (auto refused = chunked_->take_refusal()) {
    const pipeline::TableSchema& table = chunked_->table();
    gate_.stop_for_bad_change(table, refused->error, refused->key);
    sink_.discard(table);
  }
}

void OnlineResync::poll_chunked() {
  const pipeline::TableSchema& table = chunked_->table();
  if (const auto phase = states_.phase(table); phase != TablePhase::Copying) {
    spdlog::info("resync of {}: the table {} while it was copied; it stays so", table.qualified_source(),
                 table_sync::to_string(phase));
    drop_chunked();
    return;
  }
  switch (chunked_->poll(sink_.durable_position())) {
    case WatermarkCopy::Progress::Copying: return;
    case WatermarkCopy::Progress::StartOver:
      // Its ranges or its columns no longer hold: the copy is taken again from step 1 (a new
      // TRUNCATE, the columns as they are now).
      spdlog::info("resync of {}: {} while it was copied; copying it again from the start", table.qualified_source(),
                   chunked_->start_over_reason());
      drop_chunked();
      queue_.push_front(&table);
      return;
    case WatermarkCopy::Progress::Done: break;
  }
  const std::unique_ptr<WatermarkCopy> c = std::move(chunked_);
  if (observer_) observer_->copy_finished();
  c->stop();
  c->clear_progress();  // before the table leaves copying (snapshot_progress.h)
  // Every row is durable, and every change of it since step 2 was applied in order: it streams
  // (through the gate, which already sees the position durable).
  states_.set(table, TablePhase::CatchingUp, c->last_position());
  gate_.catch_up(table);
  spdlog::info("resync of {}: copied {} rows ({:.1f} MB, {} chunk(s)) in {:.2f} s in the stream's order; it streams",
               table.qualified_source(), c->rows(), c->bytes() / 1e6, c->chunks(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - chunked_started_).count());
}

void OnlineResync::drop_chunked() {
  if (!chunked_) return;
  chunked_.reset();
  if (observer_) observer_->copy_finished();
}

}  // namespace pg2ch::capture::logical

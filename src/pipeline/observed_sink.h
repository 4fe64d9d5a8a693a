#pragma once
// A ChangeSink in front of another that tells a PipelineObserver about every change on its way
// through (changes per table and operation). Kept apart from the destinations so each counts
// the same thing, once, whatever sink = clickhouse | kafka | both.
#include <memory>

#include "pipeline/change_sink.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::pipeline {

class ObservedSink final : public ChangeSink {
 public:
  ObservedSink(std::unique_ptr<ChangeSink> inner, PipelineObserver& observer)
      : inner_(std::move(inner)), observer_(observer) {}

  void begin_transaction() override { inner_->begin_transaction(); }
  void transaction_context(const TransactionContext& tx) override { inner_->transaction_context(tx); }
  void insert(const TableSchema& t, std::span<const ValueRef> row, std::uint64_t version) override {
    observer_.changed(t, ChangeOp::Insert);
    inner_->insert(t, row, version);
  }
  void update(const TableSchema& t, std::span<const ValueRef> old_row, std::span<const ValueRef> new_row,
              std::uint64_t version) override {
    observer_.changed(t, ChangeOp::Update);
    inner_->update(t, old_row, new_row, version);
  }
  void remove(const TableSchema& t, std::span<const ValueRef> old_row, std::uint64_t version) override {
    observer_.changed(t, ChangeOp::Delete);
    inner_->remove(t, old_row, version);
  }
  void truncate(const TableSchema& t) override {
    observer_.changed(t, ChangeOp::Truncate);
    inner_->truncate(t);
  }
  void commit_transaction(Position position) override { inner_->commit_transaction(position); }
  void source_idle(Position position) override { inner_->source_idle(position); }
  std::optional<std::chrono::milliseconds> poll() override { return inner_->poll(); }
  void discard(const TableSchema& t) override { inner_->discard(t); }
  void flush() override { inner_->flush(); }
  std::optional<Position> durable_position() const override { return inner_->durable_position(); }
  SinkStats stats() const override { return inner_->stats(); }
  void set_batch_limits(const config::BatchConfig& limits) override { inner_->set_batch_limits(limits); }
  BulkLoad* bulk_load() override { return inner_->bulk_load(); }
  bool consumers_may_hold(const TableSchema& t) override { return inner_->consumers_may_hold(t); }

 private:
  std::unique_ptr<ChangeSink> inner_;
  PipelineObserver& observer_;
};

}  // namespace pg2ch::pipeline

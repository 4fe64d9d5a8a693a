#pragma once
// A Kafka sink prepares nothing per table: the producer finds (or the broker creates) each
// table's topic when it first sends, and a topic is never emptied (a consumer starts over on the
// op "t" events an initial copy begins with). Columns are described for the newest ClickHouse
// dialect: the mapping only decides which columns exist, and the consumer maps them again for
// the server it writes to.
#include "sink/sink_targets.h"

namespace pg2ch::sink::kafka {

class KafkaTargets final : public SinkTargets {
 public:
  explicit KafkaTargets(std::string brokers) : brokers_(std::move(brokers)) {}

  const pg2ch::clickhouse::ServerCapabilities& type_capabilities() override { return caps_; }
  Ensured ensure(std::span<const pipeline::TableSchema* const>) override { return {}; }
  void truncate(const pipeline::TableSchema&) override {}
  void drop(const pipeline::TableSchema&) override {}
  Count count(const pipeline::TableSchema&) override { return {}; }
  void add_columns(const pipeline::TableSchema&, const std::vector<std::string>&,
                   const std::map<std::string, std::string>&) override {}
  std::optional<std::map<std::string, std::string>> column_types(const pipeline::TableSchema&) override {
    return std::nullopt;
  }
  bool keeps_tables() const override { return false; }
  std::optional<std::string> default_expression(const pipeline::TableSchema&, const std::string&,
                                                std::string_view) override {
    return std::string();
  }
  void modify_columns(const pipeline::TableSchema&, const std::vector<std::string>&) override {}
  void keep_dropped_columns(const pipeline::TableSchema&, const std::vector<std::string>&) override {}
  void rename_columns(const pipeline::TableSchema&, const std::vector<std::pair<std::string, std::string>>&) override {}
  std::string describe() const override { return "Kafka " + brokers_; }

 private:
  std::string brokers_;
  pg2ch::clickhouse::ServerCapabilities caps_ = pg2ch::clickhouse::ServerCapabilities::newest();
};

}  // namespace pg2ch::sink::kafka

#include "verify/verify_command.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "capture/capture_mode.h"
#include "capture/shared/source_tables.h"
#include "clickhouse/cluster_layout.h"
#include "clickhouse/http_client.h"
#include "clickhouse/tab_separated.h"
#include "common/error.h"
#include "pg/quote_ident.h"
#include "pipeline/clickhouse_endpoint.h"
#include "verify/column_text.h"

namespace pg2ch::verify {
namespace {

class PostgresSide final : public TableSide {
 public:
  PostgresSide(pg::Connection& conn, SideSql sql) : conn_(conn), sql_(std::move(sql)) {}
  const SideSql& sql() const override { return sql_; }
  std::vector<std::vector<std::string>> rows(const std::string& statement) override {
    pg::Result r = conn_.query(statement);
    std::vector<std::vector<std::string>> out(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      for (int j = 0; j < r.cols(); ++j) out[i].push_back(r.is_null(i, j) ? std::string("\\N") : r.text(i, j));
    }
    return out;
  }

 private:
  pg::Connection& conn_;
  SideSql sql_;
};

class ClickHouseSide final : public TableSide {
 public:
  ClickHouseSide(clickhouse::HttpClient& client, SideSql sql) : client_(client), sql_(std::move(sql)) {}
  const SideSql& sql() const override { return sql_; }
  std::vector<std::vector<std::string>> rows(const std::string& statement) override {
    return clickhouse::parse_tab_separated(client_.query(statement));
  }

 private:
  clickhouse::HttpClient& client_;
  SideSql sql_;
};

struct Texts {
  std::vector<std::string> names, keys;  // compared columns; key columns (ORDER BY order)
  std::vector<ColumnText> columns;
  std::vector<ColumnText> key_columns;
  std::vector<std::string> not_compared;
};

Texts texts_of(const pipeline::TableSchema& t) {
  Texts out;
  for (const auto& target : t.target_columns) {
    std::string why;
    if (auto text = column_text(t.source_columns[static_cast<std::size_t>(target.source_index)], target, why)) {
      out.names.push_back(target.name);
      out.columns.push_back(*text);
    } else {
      out.not_compared.push_back(why);
    }
  }
  for (int index : t.key_target_indexes) {
    const auto& target = t.target_columns[static_cast<std::size_t>(index)];
    std::string why;
    auto text = column_text(t.source_columns[static_cast<std::size_t>(target.source_index)], target, why);
    if (!text) {
      throw Error(ErrorKind::Schema, fmt::format("verify cannot compare {}: its key column {}", t.qualified_source(), why),
                  "pg2ch verify matches rows by key; this key type has no shared text form yet");
    }
    out.keys.push_back(target.name);
    out.key_columns.push_back(*text);
  }
  return out;
}

// concat(a, sep, b, sep): every column ends with the separator, so even one column is a concat
// of two (18.16's concat wants at least two arguments).
std::string joined(const std::vector<ColumnText>& columns, bool pg) {
  std::string out = "concat(";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ", ";
    out += pg ? "COALESCE(" + columns[i].pg + ", chr(30)), chr(31)" : "ifNull(" + columns[i].ch + ", '\\x1E'), '\\x1F'";
  }
  return out + ")";
}

SideSql postgres_sql(pg::Connection& conn, const pipeline::TableSchema& t, const Texts& x) {
  SideSql s;
  s.from = "FROM " + pg::quote_ident(t.source_schema) + "." + pg::quote_ident(t.source_name);
  s.key_text = joined(x.key_columns, true);
  s.row_text = joined(x.columns, true);
  for (const auto& c : x.columns) s.column_texts.push_back(c.pg);
  s.md5_hex = [](const std::string& e) { return "md5(" + e + ")"; };
  s.hash64 = [](const std::string& e) { return "('x' || substr(md5(" + e + "), 1, 16))::bit(64)::bigint"; };
  s.prefix = [](const std::string& e, int n) { return fmt::format("substr({}, 1, {})", e, n); };
  s.quote = [&conn](const std::string& v) { return conn.quote_literal(v); };
  s.sum64 = "sum";
  s.count = "count(*)";
  return s;
}

SideSql clickhouse_sql(const config::Config& cfg, const pipeline::TableSchema& t, const Texts& x) {
  SideSql s;
  s.from = fmt::format("FROM {}.{} FINAL WHERE _deleted = 0", clickhouse::quote_identifier(cfg.clickhouse.database),
                       clickhouse::quote_identifier(clickhouse::read_table_name(pipeline::clickhouse_layout(cfg), t)));
  s.from_has_where = true;
  s.key_text = joined(x.key_columns, false);
  s.row_text = joined(x.columns, false);
  for (const auto& c : x.columns) s.column_texts.push_back(c.ch);
  s.md5_hex = [](const std::string& e) { return "lower(hex(MD5(" + e + ")))"; };
  s.hash64 = [](const std::string& e) { return "reinterpretAsInt64(reverse(substring(MD5(" + e + "), 1, 8)))"; };
  s.prefix = [](const std::string& e, int n) { return fmt::format("substring({}, 1, {})", e, n); };
  s.quote = [](const std::string& v) { return clickhouse::quote_string(v); };
  s.sum64 = "sumWithOverflow";
  s.count = "count()";
  s.suffix = " FORMAT TabSeparated";
  return s;
}

const char* kind_text(RowDifference::Kind kind) {
  switch (kind) {
    case RowDifference::Kind::MissingInClickHouse: return "missing in ClickHouse";
    case RowDifference::Kind::ExtraInClickHouse: return "only in ClickHouse   ";
    case RowDifference::Kind::Different: return "different            ";
  }
  return "";
}

void report(const pipeline::TableSchema& t, const Texts& x, const CompareResult& r, double seconds, std::ostream& out) {
  if (r.equal()) {
    out << fmt::format("{}: equal, {} rows ({:.1f} s)\n", t.qualified_source(), r.source_rows, seconds);
  } else {
    out << fmt::format("{}: DIFFERENT: {} rows in PostgreSQL, {} in ClickHouse ({:.1f} s)\n", t.qualified_source(),
                       r.source_rows, r.target_rows, seconds);
    for (const auto& d : r.differences) {
      out << fmt::format("  {} {}", kind_text(d.kind), describe_key(x.keys, d.key));
      if (!d.columns.empty()) {
        std::string cols;
        for (const auto& c : d.columns) cols += (cols.empty() ? "" : ", ") + c;
        out << " (columns: " << cols << ")";
      }
      out << "\n";
    }
    if (r.more_differences > 0) {
      out << fmt::format("  ... and {} more rows differ (raise --max-rows to list them)\n", r.more_differences);
    }
    if (r.rows_not_examined > 0) {
      out << fmt::format("  ... and at least {} more rows in buckets that differ, not matched one by one\n",
                         r.rows_not_examined);
    }
  }
  if (r.settled > 0) out << fmt::format("  {} differences were changes in flight: equal when read again\n", r.settled);
  for (const auto& n : x.not_compared) out << "  not compared: " << n << "\n";
}

}  // namespace

bool verify_tables(const config::Config& cfg, const std::vector<std::string>& tables, const CompareOptions& options,
                   std::ostream& out) {
  if (cfg.sink == "kafka") {
    throw Error(ErrorKind::Config, "verify compares PostgreSQL with ClickHouse, and this pipeline's sink is Kafka",
                "run verify with the config of the consumer that writes the topics to ClickHouse");
  }
  capture::SourceTables p = capture::open_source_tables(cfg);
  if (const auto as_written = capture::capture_mode(cfg.mode).as_written) as_written(cfg, p);
  const auto named = p.named(tables, cfg);
  clickhouse::HttpClient client(pipeline::clickhouse_endpoint(cfg));
  bool all_equal = true;
  for (const auto& t : p.tables) {  // in config order, whatever order they were named in
    if (!tables.empty() && std::find(named.begin(), named.end(), t.get()) == named.end()) continue;
    const Texts x = texts_of(*t);
    PostgresSide source(p.source, postgres_sql(p.source, *t, x));
    ClickHouseSide target(client, clickhouse_sql(cfg, *t, x));
    CompareOptions o = options;
    if (!o.progress) o.progress = [&t](const std::string& line) { spdlog::info("verify {}: {}", t->qualified_source(), line); };
    const auto started = std::chrono::steady_clock::now();
    const CompareResult r = compare_table(source, target, x.keys, x.names, o);
    report(*t, x, r, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), out);
    all_equal = all_equal && r.equal();
  }
  return all_equal;
}

}  // namespace pg2ch::verify

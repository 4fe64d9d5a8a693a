#include "sink/clickhouse/column_default.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "clickhouse/rowbinary_writer.h"
#include "clickhouse/tab_separated.h"
#include "common/byte_buffer.h"
#include "common/error.h"

namespace pg2ch::sink::clickhouse {

namespace ch = pg2ch::clickhouse;

namespace {

std::string without_nullable(const std::string& type) {
  constexpr std::string_view kNullable = "Nullable(";
  if (type.starts_with(kNullable) && type.ends_with(')')) {
    return type.substr(kNullable.size(), type.size() - kNullable.size() - 1);
  }
  return type;
}

// A Memory table named after this process (two pipelines on one database never share one),
// dropped when it goes out of scope.
class Scratch {
 public:
  Scratch(ch::HttpClient& client, const std::string& database, std::string_view suffix, const std::string& columns)
      : client_(client),
        name_(fmt::format("{}.{}", ch::quote_identifier(database),
                          ch::quote_identifier(fmt::format("_pg2ch_default_{}_{}", ::getpid(), suffix)))) {
    client_.execute("DROP TABLE IF EXISTS " + name_);
    client_.execute(fmt::format("CREATE TABLE {} ({}) ENGINE = Memory", name_, columns));
  }
  ~Scratch() {
    try {
      client_.execute("DROP TABLE IF EXISTS " + name_);
    } catch (const Error&) {
      // Left behind: an empty Memory table, gone with the server's restart.
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& name() const { return name_; }
  // The one value of column v, as text.
  std::string value() {
    const auto rows = ch::parse_tab_separated(client_.query(fmt::format("SELECT v FROM {} FORMAT TabSeparated", name_)));
    if (rows.size() != 1 || rows[0].size() != 1) {
      throw Error(ErrorKind::Protocol, fmt::format("ClickHouse gave {} rows back from {}", rows.size(), name_));
    }
    return rows[0][0];
  }

 private:
  ch::HttpClient& client_;
  std::string name_;
};

}  // namespace

std::optional<std::string> default_expression(ch::HttpClient& client, const std::string& database,
                                              const pipeline::TargetColumn& column, std::string_view pg_binary) {
  const auto& m = column.mapping;
  try {
    ByteBuffer row;
    ch::RowBinaryWriter w(row);
    if (m.nullable) w.null_flag(false);
    m.codec->encode_binary(pg_binary, w);
    std::string text;
    {
      Scratch written(client, database, "value", fmt::format("v {}", m.clickhouse_type));
      client.insert(fmt::format("INSERT INTO {} (v) FORMAT RowBinary", written.name()), row.view());
      text = written.value();
    }
    std::string expression = fmt::format("CAST({} AS {})", ch::quote_string(text), without_nullable(m.clickhouse_type));
    Scratch defaulted(client, database, "check",
                      fmt::format("k UInt8, v {} DEFAULT {}", m.clickhouse_type, expression));
    client.execute(fmt::format("INSERT INTO {} (k) VALUES (1)", defaulted.name()));
    if (defaulted.value() != text) {
      spdlog::warn("column {}: DEFAULT {} does not give back the value {}", column.name, expression, text);
      return std::nullopt;
    }
    return expression;
  } catch (const Error& e) {
    if (e.retriable() || e.kind() == ErrorKind::Connection) throw;
    spdlog::warn("column {}: ClickHouse cannot give it its default value in place: {}", column.name, e.one_line());
    return std::nullopt;
  }
}

}  // namespace pg2ch::sink::clickhouse

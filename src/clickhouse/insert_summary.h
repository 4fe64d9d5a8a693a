#pragma once
// What ClickHouse says it wrote. Since 22.5 every HTTP answer carries X-ClickHouse-Summary with
// the final counts (before, they were zeros unless progress headers were on), so from then on an
// INSERT whose rows did not all arrive can be told from one that did: a proxy that swallowed the
// body, or a user profile with input_format_allow_errors_num/ratio that let the server skip rows
// it could not parse. Free functions of plain inputs, unit-tested without a server.
#include <cstdint>
#include <optional>
#include <string_view>

namespace pg2ch::clickhouse {

// written_rows of an X-ClickHouse-Summary value ({"read_rows":"0",...,"written_rows":"100",...});
// nullopt when the header is absent or unreadable.
std::optional<std::uint64_t> written_rows_in_summary(std::string_view summary);

struct InsertResult {
  // Rows the server reports written; nullopt where it does not report them reliably (before
  // 22.5, or no summary).
  std::optional<std::uint64_t> written_rows;
};

// Throws Error(Config) when the server reported fewer rows than were sent. A deduplicating insert
// (insert_deduplication_token) that ClickHouse recognised as a repeat reports 0 rows: that one is
// fine, the rows are already there. Rows written by materialized views count too, so more is fine.
// `what` names the insert ("insert of 100 rows into db.t").
void check_rows_written(std::string_view what, std::uint64_t sent, const InsertResult& result, bool deduplicating);

}  // namespace pg2ch::clickhouse

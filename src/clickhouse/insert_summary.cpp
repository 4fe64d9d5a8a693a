#include "clickhouse/insert_summary.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <charconv>

#include "common/error.h"

namespace pg2ch::clickhouse {

std::optional<std::uint64_t> written_rows_in_summary(std::string_view summary) {
  if (summary.empty()) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(summary.data(), summary.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto it = doc.FindMember("written_rows");
  if (it == doc.MemberEnd()) return std::nullopt;
  if (it->value.IsUint64()) return it->value.GetUint64();
  if (!it->value.IsString()) return std::nullopt;  // the server sends counts as strings
  const std::string_view text(it->value.GetString(), it->value.GetStringLength());
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

void check_rows_written(std::string_view what, std::uint64_t sent, const InsertResult& result, bool deduplicating) {
  // ClickHouse cuts an INSERT into blocks of max_insert_block_size rows and deduplicates each.
  constexpr std::uint64_t kRowsPerBlock = 1048576;
  if (!result.written_rows || *result.written_rows >= sent) return;
  if (deduplicating && *result.written_rows == 0) return;  // a repeat of a block ClickHouse already has
  if (deduplicating && sent > kRowsPerBlock) return;       // some of its blocks were repeats
  // Config: retrying sends the same rows into the same loss; an operator must change the setting or the path.
  throw Error(ErrorKind::Config,
              fmt::format("ClickHouse reported {} rows written for the {} (sent {}): rows were lost on the way",
                          *result.written_rows, what, sent),
              "nothing was acknowledged to the source; look for input_format_allow_errors_num or "
              "input_format_allow_errors_ratio in the ClickHouse user's profile (they make the server skip rows), "
              "or a proxy between pg2ch and ClickHouse that alters requests",
              false);
}

}  // namespace pg2ch::clickhouse

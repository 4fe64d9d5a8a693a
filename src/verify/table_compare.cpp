#include "verify/table_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <thread>
#include <unordered_map>

#include "common/error.h"

namespace pg2ch::verify {
namespace {

// Buckets are prefixes of the key's hex MD5: each level adds two hex digits (256 sub-buckets).
constexpr int kDigitsPerLevel = 2;
constexpr int kMaxPrefix = 32;

struct Bucket {
  std::uint64_t rows = 0;
  std::uint64_t hash_sum = 0;  // modulo 2^64
  bool operator==(const Bucket&) const = default;
};

std::uint64_t parse_u64(const std::string& text, std::string_view what) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error(ErrorKind::Protocol, fmt::format("verify: {} is not a count: '{}'", what, text));
  }
  return v;
}

// A sum of int64 hashes as either side prints it (PostgreSQL: an exact numeric; ClickHouse: a
// wrapped Int64), reduced modulo 2^64 so the two compare.
std::uint64_t parse_hash_sum(const std::string& text) {
  if (text == "\\N" || text.empty()) return 0;
  const bool negative = text[0] == '-';
  std::uint64_t low = 0;  // unsigned arithmetic wraps: this is the value modulo 2^64 all along
  for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') throw Error(ErrorKind::Protocol, "verify: a hash sum is not an integer: '" + text + "'");
    low = low * 10 + static_cast<unsigned>(c - '0');
  }
  return negative ? ~low + 1 : low;
}

std::string where_and(const SideSql& s, const std::string& condition) {
  if (condition.empty()) return s.from;
  return s.from + (s.from_has_where ? " AND " : " WHERE ") + condition;
}

// The rows of any of these buckets (all of one length); "" alone stands for the whole table.
std::string buckets_condition(const SideSql& s, const std::vector<std::string>& prefixes) {
  if (prefixes.empty() || prefixes.front().empty()) return {};
  std::string list;
  for (const auto& p : prefixes) list += (list.empty() ? "" : ", ") + s.quote(p);
  return s.prefix(s.md5_hex(s.key_text), static_cast<int>(prefixes.front().size())) + " IN (" + list + ")";
}

// Aggregates of the next level's buckets inside the given ones (all of level 1 when `within`
// holds only ""), in one scan of the table.
std::map<std::string, Bucket> buckets(TableSide& side, const std::vector<std::string>& within, int digits) {
  const SideSql& s = side.sql();
  const std::string statement =
      fmt::format("SELECT {0}, {1}, {2}({3}) {4} GROUP BY {0}{5}", s.prefix(s.md5_hex(s.key_text), digits), s.count,
                  s.sum64, s.hash64(s.row_text), where_and(s, buckets_condition(s, within)), s.suffix);
  std::map<std::string, Bucket> out;
  for (const auto& r : side.rows(statement)) {
    if (r.size() != 3) throw Error(ErrorKind::Protocol, "verify: a bucket row has " + std::to_string(r.size()) + " fields");
    out[r[0]] = Bucket{parse_u64(r[1], "a bucket's row count"), parse_hash_sum(r[2])};
  }
  return out;
}

// key text -> row hash, for the rows of one bucket (or of some keys).
std::unordered_map<std::string, std::string> key_hashes(TableSide& side, const std::string& condition,
                                                        std::size_t limit = 0) {
  const SideSql& s = side.sql();
  std::string statement = fmt::format("SELECT {}, {} {}", s.key_text, s.hash64(s.row_text), where_and(s, condition));
  if (limit > 0) statement += " LIMIT " + std::to_string(limit);
  statement += s.suffix;
  std::unordered_map<std::string, std::string> out;
  for (auto& r : side.rows(statement)) {
    if (r.size() != 2) throw Error(ErrorKind::Protocol, "verify: a key row has " + std::to_string(r.size()) + " fields");
    out.emplace(std::move(r[0]), std::move(r[1]));
  }
  return out;
}

std::string keys_condition(const SideSql& s, const std::vector<std::string>& keys) {
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + s.quote(k);
  return s.key_text + " IN (" + list + ")";
}

// Level by level: each level costs one scan per side however many buckets differ, so finding a
// few differences in a large table takes a few scans, not one per bucket.
class Comparison {
 public:
  Comparison(TableSide& source, TableSide& target, const std::vector<std::string>& key_columns,
             const std::vector<std::string>& columns, const CompareOptions& options)
      : source_(source), target_(target), key_columns_(key_columns), columns_(columns), options_(options) {}

  CompareResult run() {
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> differing;  // prefix -> rows (source, target)
    {
      const auto s = buckets(source_, {""}, kDigitsPerLevel);
      const auto t = buckets(target_, {""}, kDigitsPerLevel);
      for (const auto& [_, b] : s) result_.source_rows += b.rows;
      for (const auto& [_, b] : t) result_.target_rows += b.rows;
      differing = differing_buckets(s, t);
    }
    while (!differing.empty()) {
      std::vector<std::string> split;
      std::vector<std::pair<std::string, std::pair<std::uint64_t, std::uint64_t>>> leaves;
      const auto leaf = static_cast<std::uint64_t>(options_.leaf_rows);
      for (const auto& [prefix, rows] : differing) {
        const bool small = rows.first <= leaf && rows.second <= leaf;
        if (small || rows.first == 0 || rows.second == 0 || prefix.size() + kDigitsPerLevel > kMaxPrefix) {
          leaves.emplace_back(prefix, rows);
        } else {
          split.push_back(prefix);
        }
      }
      match_leaves(leaves);
      differing.clear();
      if (split.empty()) break;
      if (found_.size() >= cap()) {
        for (const auto& p : split) result_.rows_not_examined += std::max(rows_of_[p].first, rows_of_[p].second);
        break;
      }
      if (options_.progress) {
        options_.progress(fmt::format("{} buckets of {} hex digits differ; splitting them", split.size(),
                                      split.front().size()));
      }
      const int digits = static_cast<int>(split.front().size()) + kDigitsPerLevel;
      for (std::size_t i = 0; i < split.size(); i += kPrefixesPerStatement) {
        const std::vector<std::string> part(split.begin() + static_cast<std::ptrdiff_t>(i),
                                            split.begin() + static_cast<std::ptrdiff_t>(std::min(split.size(), i + kPrefixesPerStatement)));
        differing.merge(differing_buckets(buckets(source_, part, digits), buckets(target_, part, digits)));
      }
    }
    if (!found_.empty() && options_.settle.count() > 0) settle();
    if (found_.size() > options_.max_rows) {
      result_.more_differences = found_.size() - options_.max_rows;
      found_.resize(options_.max_rows);
    }
    name_different_columns();
    result_.differences = std::move(found_);
    return result_;
  }

 private:
  static constexpr std::size_t kPrefixesPerStatement = 256;
  // Rows one statement of leaf buckets may return per side.
  static constexpr std::uint64_t kRowsPerLeafStatement = 100000;

  std::size_t cap() const { return std::max(options_.max_rows, options_.max_checked); }

  static Bucket at(const std::map<std::string, Bucket>& level, const std::string& prefix) {
    const auto it = level.find(prefix);
    return it == level.end() ? Bucket{} : it->second;
  }

  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> differing_buckets(
      const std::map<std::string, Bucket>& s, const std::map<std::string, Bucket>& t) {
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> out;
    for (const auto& [prefix, b] : s) {
      if (at(t, prefix) != b) out[prefix] = {b.rows, at(t, prefix).rows};
    }
    for (const auto& [prefix, b] : t) {
      if (!s.contains(prefix)) out[prefix] = {0, b.rows};
    }
    for (const auto& [prefix, rows] : out) rows_of_[prefix] = rows;
    return out;
  }

  // Reads the leaf buckets' (key, hash) pairs on both sides, several buckets per statement, and
  // matches them. Once cap() differences are known, the remaining buckets are only counted.
  void match_leaves(const std::vector<std::pair<std::string, std::pair<std::uint64_t, std::uint64_t>>>& leaves) {
    std::size_t i = 0;
    while (i < leaves.size()) {
      if (found_.size() >= cap()) {
        for (; i < leaves.size(); ++i) result_.rows_not_examined += std::max(leaves[i].second.first, leaves[i].second.second);
        return;
      }
      std::vector<std::string> part;
      std::uint64_t rows = 0;
      for (; i < leaves.size() && part.size() < kPrefixesPerStatement; ++i) {
        const auto [s, t] = leaves[i].second;
        if (!part.empty() && rows + std::max(s, t) > kRowsPerLeafStatement) break;
        part.push_back(leaves[i].first);
        rows += std::max(s, t);
      }
      match_rows(part);
    }
  }

  void match_rows(const std::vector<std::string>& prefixes) {
    // A bucket missing on one side holds nothing but differences: the statement's LIMIT bounds
    // what is read then (the rows beyond it are counted as not examined).
    std::uint64_t expected = 0, one_sided = 0;
    for (const auto& p : prefixes) {
      const auto [s, t] = rows_of_[p];
      expected += std::max(s, t);
      if (s == 0 || t == 0) one_sided += std::max(s, t);
    }
    const std::size_t room = cap() - found_.size();
    const std::size_t limit = one_sided == expected && expected > room ? room : 0;
    const auto s = key_hashes(source_, buckets_condition(source_.sql(), prefixes), limit);
    const auto t = key_hashes(target_, buckets_condition(target_.sql(), prefixes), limit);
    std::vector<RowDifference> here;
    for (const auto& [key, hash] : s) {
      const auto it = t.find(key);
      if (it == t.end()) {
        here.push_back({RowDifference::Kind::MissingInClickHouse, key, {}});
      } else if (it->second != hash) {
        here.push_back({RowDifference::Kind::Different, key, {}});
      }
    }
    for (const auto& [key, _] : t) {
      if (!s.contains(key)) here.push_back({RowDifference::Kind::ExtraInClickHouse, key, {}});
    }
    std::sort(here.begin(), here.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    std::uint64_t unmatched = limit > 0 ? expected - std::min<std::uint64_t>(expected, here.size()) : 0;
    for (auto& d : here) {
      if (found_.size() >= cap()) {
        ++unmatched;
        continue;
      }
      found_.push_back(std::move(d));
    }
    result_.rows_not_examined += unmatched;
  }

  // Differences read again after a delay: a change still on its way to ClickHouse when the
  // bucket was read has arrived by then (or is newer still, and is read again next time).
  void settle() {
    if (options_.progress) {
      options_.progress(fmt::format("{} rows differ; reading them again in {} ms", found_.size(),
                                    options_.settle.count()));
    }
    std::this_thread::sleep_for(options_.settle);
    std::vector<std::string> keys;
    for (const auto& d : found_) keys.push_back(d.key);
    const auto s = hashes_of_keys(source_, keys);
    const auto t = hashes_of_keys(target_, keys);
    std::vector<RowDifference> still;
    for (auto& d : found_) {
      const auto si = s.find(d.key);
      const auto ti = t.find(d.key);
      if (si == s.end() && ti == t.end()) continue;  // deleted on both sides meanwhile
      if (si != s.end() && ti != t.end() && si->second == ti->second) continue;
      d.kind = si == s.end()   ? RowDifference::Kind::ExtraInClickHouse
               : ti == t.end() ? RowDifference::Kind::MissingInClickHouse
                               : RowDifference::Kind::Different;
      still.push_back(std::move(d));
    }
    result_.settled = found_.size() - still.size();
    found_ = std::move(still);
  }

  // Keys in groups whose statements stay well under ClickHouse's max_query_size (256 KiB).
  static std::vector<std::vector<std::string>> key_groups(const std::vector<std::string>& keys) {
    constexpr std::size_t kBytesPerStatement = 64 * 1024;
    constexpr std::size_t kKeysPerStatement = 500;
    std::vector<std::vector<std::string>> groups;
    std::size_t bytes = 0;
    for (const auto& k : keys) {
      if (groups.empty() || groups.back().size() >= kKeysPerStatement || bytes + k.size() > kBytesPerStatement) {
        groups.emplace_back();
        bytes = 0;
      }
      groups.back().push_back(k);
      bytes += k.size() + 4;
    }
    return groups;
  }

  static std::unordered_map<std::string, std::string> hashes_of_keys(TableSide& side,
                                                                     const std::vector<std::string>& keys) {
    std::unordered_map<std::string, std::string> out;
    for (const auto& part : key_groups(keys)) out.merge(key_hashes(side, keys_condition(side.sql(), part)));
    return out;
  }

  // Which columns of a differing row differ: their texts side by side (never printed).
  void name_different_columns() {
    std::vector<std::string> keys;
    for (const auto& d : found_) {
      if (d.kind == RowDifference::Kind::Different) keys.push_back(d.key);
    }
    if (keys.empty()) return;
    const auto s = column_rows(source_, keys);
    const auto t = column_rows(target_, keys);
    for (auto& d : found_) {
      if (d.kind != RowDifference::Kind::Different) continue;
      const auto si = s.find(d.key);
      const auto ti = t.find(d.key);
      if (si == s.end() || ti == t.end()) continue;
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (si->second[i] != ti->second[i]) d.columns.push_back(columns_[i]);
      }
    }
  }

  std::unordered_map<std::string, std::vector<std::string>> column_rows(TableSide& side,
                                                                         const std::vector<std::string>& keys) {
    const SideSql& s = side.sql();
    std::string list = s.key_text;
    for (const auto& c : s.column_texts) list += ", " + c;
    std::unordered_map<std::string, std::vector<std::string>> out;
    for (const auto& part : key_groups(keys)) {
      const std::string statement =
          fmt::format("SELECT {} {}{}", list, where_and(s, keys_condition(s, part)), s.suffix);
      for (auto& r : side.rows(statement)) {
        if (r.empty()) continue;
        std::string key = std::move(r[0]);
        r.erase(r.begin());
        out.emplace(std::move(key), std::move(r));
      }
    }
    return out;
  }

  TableSide& source_;
  TableSide& target_;
  const std::vector<std::string>& key_columns_;
  const std::vector<std::string>& columns_;
  const CompareOptions& options_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> rows_of_;  // prefix -> rows (source, target)
  std::vector<RowDifference> found_;
  CompareResult result_;
};

}  // namespace

CompareResult compare_table(TableSide& source, TableSide& target, const std::vector<std::string>& key_columns,
                            const std::vector<std::string>& columns, const CompareOptions& options) {
  return Comparison(source, target, key_columns, columns, options).run();
}

std::string describe_key(const std::vector<std::string>& key_columns, const std::string& key_text) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    const auto end = key_text.find(kFieldSeparator, start);
    std::string value = key_text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (value == std::string(1, kNullMark)) value = "NULL";
    out += (out.empty() ? "" : ", ") + key_columns[i] + "=" + value;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace pg2ch::verify

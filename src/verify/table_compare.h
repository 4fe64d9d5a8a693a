#pragma once
// Row-by-row comparison of one table on two servers that each compute the hashes themselves
// (see README.md). A TableSide runs this module's SQL in its own dialect; the comparison reads
// only aggregates per bucket and the (key, hash) pairs of small differing buckets, so memory is
// bounded by the fan-out and the leaf size, not the table's size.
//
// Errors: exceptions (pg2ch::Error) from the sides: this is an operator command.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pg2ch::verify {

// One side's SQL dialect and table, as expressions over one row of it.
struct SideSql {
  std::string from;       // "FROM ... [WHERE ...]" giving the current rows
  bool from_has_where = false;
  std::string key_text;   // the key columns' texts, joined
  std::string row_text;   // every compared column's text, joined
  std::vector<std::string> column_texts;  // compared columns, in the order of TableCompare::columns
  // Dialect: hex MD5 of a text, the first 8 bytes of its MD5 as a signed big-endian int64, a
  // substring, a string literal, a wrapping sum of int64.
  std::function<std::string(const std::string&)> md5_hex, hash64, quote;
  std::function<std::string(const std::string&, int)> prefix;  // first n characters
  std::string sum64;  // aggregate over the hashes ("sum", "sumWithOverflow"); wraps or is exact
  std::string count;  // "count(*)", "count()"
  std::string suffix;  // appended to every statement ("FORMAT TabSeparated")
};

class TableSide {
 public:
  virtual ~TableSide() = default;
  virtual const SideSql& sql() const = 0;
  // Every row of the answer, as text (NULL as "\N").
  virtual std::vector<std::vector<std::string>> rows(const std::string& statement) = 0;
};

struct CompareOptions {
  int leaf_rows = 5000;        // a bucket with at most this many rows on both sides is read whole
  std::size_t max_rows = 20;   // differing rows listed
  // Differing rows matched one by one and read again after the settle delay (a busy table has
  // many changes in flight at any moment); beyond this, differing buckets are only counted.
  std::size_t max_checked = 10000;
  std::chrono::milliseconds settle{5000};  // before differing keys are read again; 0: not read again
  std::function<void(const std::string&)> progress;  // one line per step; may be null
};

struct RowDifference {
  enum class Kind { MissingInClickHouse, ExtraInClickHouse, Different };
  Kind kind;
  std::string key;                   // "id=7" (canonical texts: see column_text.h)
  std::vector<std::string> columns;  // Different: the columns whose texts differ
};

struct CompareResult {
  std::uint64_t source_rows = 0;
  std::uint64_t target_rows = 0;
  std::vector<RowDifference> differences;  // at most max_rows
  std::size_t more_differences = 0;         // differing rows found beyond those listed
  // Rows in differing buckets that were not matched one by one once max_checked were found: at
  // least this many more source or target rows are involved.
  std::uint64_t rows_not_examined = 0;
  std::size_t settled = 0;  // differences gone when read again (changes that were in flight)
  // The counts are not part of it: each side counts at its own moment, so rows in flight can make
  // them differ when every row matched once read again.
  bool equal() const { return differences.empty() && more_differences == 0 && rows_not_examined == 0; }
};

// `key_columns` and `columns` name the compared columns (key ones first among columns is not
// required); their texts are in each side's SideSql in that order.
CompareResult compare_table(TableSide& source, TableSide& target, const std::vector<std::string>& key_columns,
                            const std::vector<std::string>& columns, const CompareOptions& options);

// "a=1, b=x" from a key text (column texts joined by the separator below).
std::string describe_key(const std::vector<std::string>& key_columns, const std::string& key_text);

inline constexpr char kFieldSeparator = '\x1f';
inline constexpr char kNullMark = '\x1e';

}  // namespace pg2ch::verify

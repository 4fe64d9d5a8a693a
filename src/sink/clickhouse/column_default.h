#pragma once
// The DEFAULT a target column added in place gets when PostgreSQL gave the rows already there a
// value (a fast default: pg_attribute.attmissingval), so those rows, written before the column
// existed in ClickHouse, read exactly that value: ClickHouse computes a column missing from a
// part from its DEFAULT expression when the part is read (18.16 and the 26.7 engine alike), and
// a merge writes the same constant.
//
// The value is turned into ClickHouse's text by ClickHouse itself, through the same codec the
// stream writes it with: one RowBinary row into a scratch Memory table, read back as
// TabSeparated. The expression is CAST('<text>' AS <type without Nullable>) (18.16 cannot CAST
// to some Nullable types, e.g. Nullable(UUID)), and it is checked before it is used: a second
// scratch table with the column and that DEFAULT must give the same text for a row written
// without it. No float or decimal rendering of ours is involved.
#include <optional>
#include <string>
#include <string_view>

#include "clickhouse/http_client.h"
#include "pipeline/table_schema.h"

namespace pg2ch::sink::clickhouse {

// `pg_binary`: the value in PostgreSQL's binary format (its type's send function), never NULL.
// nullopt when ClickHouse cannot give the column that value as its DEFAULT (the codec refuses
// the value, the server cannot express it, the check differs); a lost connection throws.
std::optional<std::string> default_expression(pg2ch::clickhouse::HttpClient& client, const std::string& database,
                                              const pipeline::TargetColumn& column, std::string_view pg_binary);

}  // namespace pg2ch::sink::clickhouse

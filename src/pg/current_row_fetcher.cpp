#include "pg/current_row_fetcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "common/error.h"
#include "pg/transaction_visibility.h"
#include "types/pg_type.h"

namespace pg2ch::pg {

namespace {

constexpr Oid kInt8Oid = types::oid::kInt8;
constexpr Oid kInt8ArrayOid = 1016;  // int8[] (pg_type.dat)

void put_be32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out.append(b, 4);
}

// One-dimensional binary array (array_recv format) of non-NULL elements.
std::string binary_array(Oid element_type, const std::vector<const std::string*>& elements) {
  std::string a;
  put_be32(a, 1);  // ndim
  put_be32(a, 0);  // has nulls
  put_be32(a, element_type);
  put_be32(a, static_cast<std::uint32_t>(elements.size()));
  put_be32(a, 1);  // lower bound
  for (const auto* e : elements) {
    put_be32(a, static_cast<std::uint32_t>(e->size()));
    a += *e;
  }
  return a;
}

std::string key_of(const std::vector<std::uint32_t>& idx, const std::vector<pipeline::OwnedValue>& values) {
  std::string k;
  for (auto i : idx) {
    put_be32(k, static_cast<std::uint32_t>(values[i].data.size()));
    k += values[i].data;
  }
  return k;
}

}  // namespace

const PgCurrentRowFetcher::Prepared& PgCurrentRowFetcher::prepare(const pipeline::TableSchema& table) {
  auto it = prepared_.find(table.relation_oid);
  if (it != prepared_.end()) return it->second;
  Prepared p;
  std::string cols, keys, unnest;
  for (const auto& c : table.source_columns) {
    if (!cols.empty()) cols += ", ";
    cols += conn_.quote_identifier(c.name);
  }
  int param = 0;
  for (int ti : table.key_target_indexes) {
    const auto& tc = table.target_columns[static_cast<std::size_t>(ti)];
    const auto& sc = table.source_columns[static_cast<std::size_t>(tc.source_index)];
    Result r = conn_.query("SELECT typarray FROM pg_type WHERE oid = $1::oid", {std::to_string(sc.type.oid)});
    p.array_types.push_back(static_cast<Oid>(r.int64(0, 0)));
    p.element_types.push_back(sc.type.oid);
    p.key_source_indexes.push_back(static_cast<std::uint32_t>(tc.source_index));
    if (param) {
      keys += ", ";
      unnest += ", ";
    }
    ++param;
    keys += conn_.quote_identifier(sc.name);
    unnest += fmt::format("${}", param);
  }
  const std::string rows = fmt::format("FROM {}.{} WHERE ({}) IN (SELECT * FROM unnest({}))",
                                        conn_.quote_identifier(table.source_schema),
                                        conn_.quote_identifier(table.source_name), keys, unnest);
  p.sql = fmt::format("SELECT {} {}", cols, rows);
  // pg_current_snapshot() is the statement's snapshot, the one the rows are read with. Its xmax
  // is the latest COMPLETED xid + 1, so the xids in question sit just below it or at and above
  // it (committed, not yet ended: exactly the ones to wait for); transaction_visibility.h widens
  // the 32-bit ones against it.
  p.checked_sql = fmt::format(
      "SELECT v.visible, t.* FROM (SELECT NOT EXISTS (SELECT FROM "
      "(SELECT pg_catalog.pg_current_snapshot() AS s) c, "
      "LATERAL (SELECT pg_catalog.pg_snapshot_xmax(c.s)::text::int8 AS n) m, "
      "pg_catalog.unnest(${}::pg_catalog.int8[]) x(xid) "
      "WHERE NOT pg_catalog.pg_visible_in_snapshot({}, c.s)) AS visible) v "
      "LEFT JOIN LATERAL (SELECT true AS found, {} {}) t ON v.visible",
      param + 1, full_xid_sql("x.xid", "m.n"), cols, rows);
  return prepared_.emplace(table.relation_oid, std::move(p)).first->second;
}

std::vector<pipeline::OwnedRow> PgCurrentRowFetcher::fetch(const pipeline::TableSchema& table,
                                                           const std::vector<pipeline::OwnedRow>& keys,
                                                           std::span<const std::uint64_t> must_see) {
  const Prepared& p = prepare(table);
  std::vector<std::string> arrays;
  std::vector<Oid> types = p.array_types;
  for (std::size_t k = 0; k < p.key_source_indexes.size(); ++k) {
    std::vector<const std::string*> elems;
    elems.reserve(keys.size());
    for (const auto& row : keys) elems.push_back(&row.values[p.key_source_indexes[k]].data);
    arrays.push_back(binary_array(p.element_types[k], elems));
  }
  const bool checked = !must_see.empty();
  if (checked) {
    std::vector<std::string> xids;
    xids.reserve(must_see.size());
    for (auto x : must_see) {
      std::string be;
      put_be32(be, static_cast<std::uint32_t>(x >> 32));
      put_be32(be, static_cast<std::uint32_t>(x));
      xids.push_back(std::move(be));
    }
    std::vector<const std::string*> elems;
    for (const auto& x : xids) elems.push_back(&x);
    arrays.push_back(binary_array(kInt8Oid, elems));
    types.push_back(kInt8ArrayOid);
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& a : arrays) {
    values.push_back(a.data());
    lengths.push_back(static_cast<int>(a.size()));
    formats.push_back(1);
  }
  // Checked results lead with two columns: visible (the same in every row) and found (NULL in
  // the one row that stands for "no key exists").
  const int first = checked ? 2 : 0;
  const auto started = std::chrono::steady_clock::now();
  auto pause = std::chrono::milliseconds(1);
  bool warned = false;
  Result r;
  for (;;) {
    r = Result(PQexecParams(conn_.get(), checked ? p.checked_sql.c_str() : p.sql.c_str(),
                            static_cast<int>(arrays.size()), types.data(), values.data(), lengths.data(),
                            formats.data(), /*resultFormat=*/1));
    if (!r.ok()) throw error_from_result(r, "fetching current rows of " + table.qualified_source());
    if (!checked || r.value(0, 0) == std::string_view("\1", 1)) break;
    // Committed in the WAL, not yet visible: usually microseconds, a synchronous standby's
    // answer at most. Reading now would return the rows as they were before the commit.
    const auto waited = std::chrono::steady_clock::now() - started;
    if (waited >= kVisibilityWait) {
      throw Error(ErrorKind::Server,
                  fmt::format("changes of {} come from a transaction that is committed in the WAL but still not "
                              "visible at the source after {} s",
                              table.qualified_source(), kVisibilityWait.count()),
                  "a synchronous standby that does not confirm (synchronous_standby_names) holds commits invisible; "
                  "pg2ch retries. Also check that the source is the producer's server or a physical standby of it",
                  /*retriable=*/true);
    }
    if (!warned && waited >= std::chrono::seconds(1)) {
      spdlog::warn("fetching current rows of {}: waiting for committed transactions to become visible at the source",
                   table.qualified_source());
      warned = true;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }

  // Each value is decoded with its column's described type: a column retyped at the source since
  // (an ALTER the caller has not followed yet) would be read wrongly, so that is an error.
  for (std::size_t i = 0; i < table.source_columns.size(); ++i) {
    const auto& c = table.source_columns[i];
    const int col = first + static_cast<int>(i);
    const auto now = col < r.cols() ? static_cast<std::uint32_t>(PQftype(r.get(), col)) : 0;
    if (now == c.type.oid) continue;
    throw Error(ErrorKind::Schema,
                fmt::format("the columns of {} changed at the source: column {} is no longer {} (type oid {} now)",
                            table.qualified_source(), c.name, c.type.name, now),
                "pg2ch follows such a change in place where it can; otherwise the table stops");
  }
  std::unordered_map<std::string, int> by_key;
  std::vector<pipeline::OwnedValue> scratch(table.source_columns.size());
  for (int row = 0; row < r.rows(); ++row) {
    if (checked && r.is_null(row, 1)) continue;
    for (std::size_t c = 0; c < p.key_source_indexes.size(); ++c) {
      scratch[p.key_source_indexes[c]].data =
          std::string(r.value(row, first + static_cast<int>(p.key_source_indexes[c])));
    }
    by_key.emplace(key_of(p.key_source_indexes, scratch), row);
  }
  std::vector<pipeline::OwnedRow> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto hit = by_key.find(key_of(p.key_source_indexes, keys[i].values));
    if (hit == by_key.end()) continue;
    auto& values_out = out[i].values;
    values_out.resize(table.source_columns.size());
    for (int c = first; c < r.cols(); ++c) {
      const auto at = static_cast<std::size_t>(c - first);
      if (r.is_null(hit->second, c)) {
        values_out[at] = {pipeline::ValueRef::Kind::Null, {}};
      } else {
        values_out[at] = {pipeline::ValueRef::Kind::Binary, std::string(r.value(hit->second, c))};
      }
    }
  }
  return out;
}

}  // namespace pg2ch::pg

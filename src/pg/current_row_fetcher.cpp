#include "pg/current_row_fetcher.h"

#include <fmt/format.h>


namespace pg2ch::pg {

namespace {

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
  p.sql = fmt::format("SELECT {} FROM {}.{} WHERE ({}) IN (SELECT * FROM unnest({}))", cols,
                      conn_.quote_identifier(table.source_schema), conn_.quote_identifier(table.source_name), keys,
                      unnest);
  return prepared_.emplace(table.relation_oid, std::move(p)).first->second;
}

std::vector<pipeline::OwnedRow> PgCurrentRowFetcher::fetch(const pipeline::TableSchema& table,
                                                           const std::vector<pipeline::OwnedRow>& keys) {
  const Prepared& p = prepare(table);
  std::vector<std::string> arrays;
  for (std::size_t k = 0; k < p.key_source_indexes.size(); ++k) {
    std::vector<const std::string*> elems;
    elems.reserve(keys.size());
    for (const auto& row : keys) elems.push_back(&row.values[p.key_source_indexes[k]].data);
    arrays.push_back(binary_array(p.element_types[k], elems));
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& a : arrays) {
    values.push_back(a.data());
    lengths.push_back(static_cast<int>(a.size()));
    formats.push_back(1);
  }
  Result r(PQexecParams(conn_.get(), p.sql.c_str(), static_cast<int>(arrays.size()), p.array_types.data(),
                        values.data(), lengths.data(), formats.data(), /*resultFormat=*/1));
  if (!r.ok()) throw error_from_result(r, "fetching current rows of " + table.qualified_source());

  std::unordered_map<std::string, int> by_key;
  std::vector<pipeline::OwnedValue> scratch(table.source_columns.size());
  for (int row = 0; row < r.rows(); ++row) {
    for (std::size_t c = 0; c < p.key_source_indexes.size(); ++c) {
      scratch[p.key_source_indexes[c]].data = std::string(r.value(row, static_cast<int>(p.key_source_indexes[c])));
    }
    by_key.emplace(key_of(p.key_source_indexes, scratch), row);
  }
  std::vector<pipeline::OwnedRow> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto hit = by_key.find(key_of(p.key_source_indexes, keys[i].values));
    if (hit == by_key.end()) continue;
    auto& values_out = out[i].values;
    values_out.resize(table.source_columns.size());
    for (int c = 0; c < r.cols(); ++c) {
      if (r.is_null(hit->second, c)) {
        values_out[static_cast<std::size_t>(c)] = {pipeline::ValueRef::Kind::Null, {}};
      } else {
        values_out[static_cast<std::size_t>(c)] = {pipeline::ValueRef::Kind::Binary, std::string(r.value(hit->second, c))};
      }
    }
  }
  return out;
}

}  // namespace pg2ch::pg

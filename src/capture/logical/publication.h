#pragma once
// The publication names the tables pgoutput decodes. setup creates it or sets its table list to
// exactly the configured tables (ALTER PUBLICATION ... SET TABLE), so config edits take effect.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pg/catalog.h"
#include "pg/connection.h"

namespace pg2ch::capture::logical {

void ensure_publication(pg::Connection& conn, const std::string& publication, const std::vector<pg::TableRef>& tables);
// Adds one table to the publication (a table new under `schema.*` while running); a table
// already in it is left alone.
void add_to_publication(pg::Connection& conn, const std::string& publication, const pg::TableRef& table);
void drop_publication(pg::Connection& conn, const std::string& publication);

// The tables the publication covers now (pg_publication_rel); nullopt when it does not exist.
// A configured table missing from it lost every change made while it was out: an operator or a
// migration tool may drop a table from a publication, and pgoutput then says nothing of it.
std::optional<std::set<std::uint32_t>> published_tables(pg::Connection& conn, const std::string& publication);

}  // namespace pg2ch::capture::logical

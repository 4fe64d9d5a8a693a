#pragma once
// The publication names the tables pgoutput decodes. setup creates it or sets its table list to
// exactly the configured tables (ALTER PUBLICATION ... SET TABLE), so config edits take effect.
#include <string>
#include <vector>

#include "pg/catalog.h"
#include "pg/connection.h"

namespace pg2ch::capture::logical {

void ensure_publication(pg::Connection& conn, const std::string& publication, const std::vector<pg::TableRef>& tables);
void drop_publication(pg::Connection& conn, const std::string& publication);

}  // namespace pg2ch::capture::logical

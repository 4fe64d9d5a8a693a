#pragma once
// make_test_database() with options for PostgreSQL's CREATE DATABASE, for the few tests that need
// a database unlike the others (e.g. "ENCODING 'SQL_ASCII' TEMPLATE template0"). Apart from
// test_database.h so that header, which every integration test includes, stays as it is.
#include <string_view>

#include "support/test_database.h"

namespace pg2ch::test {

TestDatabase make_test_database_created_with(std::string_view postgres_create_options, std::string_view name = {});

}  // namespace pg2ch::test

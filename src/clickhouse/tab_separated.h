#pragma once
// Rows of a `FORMAT TabSeparated` answer (metadata queries, tests), unescaped: a name with a tab
// or newline in it survives, which TSVRaw would split. NULL (`\N`) is kept as those two
// characters. Pure.
#include <string>
#include <string_view>
#include <vector>

namespace pg2ch::clickhouse {

std::vector<std::vector<std::string>> parse_tab_separated(std::string_view body);

}  // namespace pg2ch::clickhouse

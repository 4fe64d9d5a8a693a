#include "types/clickhouse_date_ranges.h"

namespace pg2ch::types {

// Day numbers and epoch microseconds below were computed with PostgreSQL
// (`'2299-12-31'::date - '1970-01-01'::date`, `extract(epoch from ...)`).

DayRange date_range(const clickhouse::ServerCapabilities& caps) {
  if (caps.version.at_least(21, 4)) return {0, 65535, "1970-01-01..2149-06-06"};
  return {0, 49710, "1970-01-01..2106-02-07"};
}

DayRange date32_range(const clickhouse::ServerCapabilities& caps) {
  if (caps.version.at_least(22, 8)) return {-25567, 120529, "1900-01-01..2299-12-31"};
  return {-16436, 114320, "1925-01-01..2282-12-31"};
}

MicrosRange datetime64_range(const clickhouse::ServerCapabilities& caps) {
  if (caps.version.at_least(22, 8))
    return {-2208988800000000, 10413792000000000 - 1, "1900-01-01 00:00:00..2299-12-31 23:59:59.999999"};
  if (caps.version.at_least(21, 4))
    return {-1420070400000000, 9877334400000000 - 1, "1925-01-01 00:00:00..2282-12-31 23:59:59.999999"};
  return {0, 4291747200000000 - 1, "1970-01-01 00:00:00..2105-12-31 23:59:59.999999"};
}

}  // namespace pg2ch::types

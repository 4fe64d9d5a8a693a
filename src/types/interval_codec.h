#pragma once
// interval → String in ISO 8601, exactly as PostgreSQL prints it with intervalstyle = iso_8601
// ("P1Y2M3DT4H5M6.789S", "PT0S"). Lossless: months, days and microseconds are kept apart, the way
// PostgreSQL keeps them (1 month is not 30 days, 1 day is not 24 hours across DST changes), which
// a single number of seconds could not do.
#include <memory>

#include "types/value_codec.h"

namespace pg2ch::types {

std::unique_ptr<ValueCodec> make_interval_codec();

}  // namespace pg2ch::types

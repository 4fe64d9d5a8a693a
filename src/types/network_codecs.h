#pragma once
// inet, cidr, macaddr, macaddr8 → String in PostgreSQL's text form ("192.168.1.5/24",
// "2001:db8::1", "08:00:2b:01:02:03"). Text keeps the prefix length, which ClickHouse's IPv4/IPv6
// types cannot hold (and 18.16 has no IPv6 type at all).
#include <memory>

#include "types/value_codec.h"

namespace pg2ch::types {

// `is_cidr`: cidr always prints "/bits"; inet omits it for a single host (/32, /128).
std::unique_ptr<ValueCodec> make_inet_codec(bool is_cidr);
// `bytes`: 6 for macaddr, 8 for macaddr8.
std::unique_ptr<ValueCodec> make_macaddr_codec(int bytes);

}  // namespace pg2ch::types

#pragma once
// Parses one JSON message into a RapidJSON document, with every number read exactly.
//
// Why not Document::Parse: RapidJSON 1.1.0 (Debian's) has two number parsers and neither will
// do. The default one may round a float's digits to a neighbouring double, and the round trip
// json_decode.h promises would no longer be exact; the full-precision one (kParseFullPrecisionFlag)
// reads out of bounds of its table of powers of ten for some long inputs and computes a zero with
// a large scale (0e300, 0.000e100) as garbage such as 5.1e294 (both undefined behaviour, found by
// fuzz/kafka_event_fuzz under UBSan). So the reader hands each number over as its text
// (kParseNumbersAsStringsFlag) and std::from_chars, correctly rounded by the standard, makes the
// value: an integer when it has no fraction or exponent and fits 64 bits (Int64/Uint64 as RapidJSON
// would store it), a double otherwise, a value below the smallest double is a zero with its sign
// and one above the largest is an error, as RapidJSON says for it.
//
// The reader runs iteratively (kParseIterativeFlag): RapidJSON's default parser recurses once per
// '[' or '{', so a message of a million '[' (Kafka's default 1 MB limit) overflowed the stack and
// killed the consumer with SIGSEGV.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace pg2ch::kafka {

struct JsonParseError {
  std::size_t offset = 0;  // byte offset in the text
  std::string message;     // what is wrong there, e.g. "Missing a comma or '}' after an object member."
};

// Replaces `doc` with the parsed text. Returns the error instead when the text is not one JSON
// value (the document is then left null).
std::optional<JsonParseError> parse_json_exact(rapidjson::Document& doc, std::string_view text);

}  // namespace pg2ch::kafka

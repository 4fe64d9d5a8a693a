#include "kafka/json_parse.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <locale.h>
#include <system_error>

namespace pg2ch::kafka {
namespace {

constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag;

// The value of a number from_chars called out of range: glibc's strtod, correctly rounded too,
// says which side it fell off (±HUGE_VAL above the largest double, a zero or subnormal below).
// In the "C" locale, so a process locale with a decimal comma cannot change what '.' means.
double out_of_range_value(std::string_view text) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  const std::string terminated(text);
  return strtod_l(terminated.c_str(), nullptr, c_locale);
}

// Forwards every event to the document's own handler, except numbers, which it reads itself.
class ExactNumbers {
 public:
  explicit ExactNumbers(rapidjson::Document& doc) : doc_(doc) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool StartObject() { return doc_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool EndObject(rapidjson::SizeType members) { return doc_.EndObject(members); }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return doc_.EndArray(elements); }

  // The reader has checked the text is a JSON number: -?digits(.digits)?([eE][+-]?digits)?
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    const char* end = s + n;
    if (std::string_view(s, n).find_first_of(".eE") == std::string_view::npos) {
      if (*s == '-') {
        std::int64_t i = 0;
        if (const auto r = std::from_chars(s, end, i); r.ec == std::errc() && r.ptr == end) return doc_.Int64(i);
      } else {
        std::uint64_t u = 0;
        if (const auto r = std::from_chars(s, end, u); r.ec == std::errc() && r.ptr == end) return doc_.Uint64(u);
      }
      // Beyond 64 bits: a double, as RapidJSON stores it.
    }
    double d = 0;
    const auto r = std::from_chars(s, end, d);
    if (r.ec == std::errc::result_out_of_range) d = out_of_range_value(std::string_view(s, n));
    else if (r.ec != std::errc() || r.ptr != end) return fail("not a number");
    if (std::isinf(d)) return fail("Number too big to be stored in double.");
    return doc_.Double(d);
  }

  const std::string& failure() const { return failure_; }

 private:
  bool fail(std::string why) {
    failure_ = std::move(why);
    return false;
  }

  rapidjson::Document& doc_;
  std::string failure_;
};

}  // namespace

std::optional<JsonParseError> parse_json_exact(rapidjson::Document& doc, std::string_view text) {
  ExactNumbers handler(doc);
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document&) {
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> input(stream);
    rapidjson::Reader reader;
    result = reader.Parse<kFlags>(input, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (!result.IsError()) return std::nullopt;
  doc.SetNull();
  std::string message = result.Code() == rapidjson::kParseErrorTermination && !handler.failure().empty()
                            ? handler.failure()
                            : rapidjson::GetParseError_En(result.Code());
  return JsonParseError{result.Offset(), std::move(message)};
}

}  // namespace pg2ch::kafka

// Kafka change-event decoder (kafka::decode_change_event: Debezium envelopes, schema-wrapped
// envelopes, key-only events) and, for every column of the decoded row, the JSON value decoder
// (kafka::read_json_value) with a column type chosen by the column's name. An empty input is a
// tombstone.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.h"
#include "fuzz_types.h"
#include "kafka/change_event.h"
#include "kafka/json_decode.h"

namespace {

void decode_values(const rapidjson::Value* object) {
  if (object == nullptr || !object->IsObject()) return;
  std::string out;
  for (auto it = object->MemberBegin(); it != object->MemberEnd(); ++it) {
    if (it->value.IsNull()) continue;  // NULL columns are the caller's, as in event_row.cpp
    const auto& type = pg2ch::fuzz::pick_type(it->name.GetStringLength());
    pg2ch::fuzz::expect_only_pg2ch_errors([&] { pg2ch::kafka::read_json_value(type, it->value, out); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<std::string_view> value;
  if (size > 0) value = pg2ch::fuzz::as_view(data, size);
  pg2ch::fuzz::expect_only_pg2ch_errors([&] {
    auto event = pg2ch::kafka::decode_change_event(value);
    decode_values(event->before);
    decode_values(event->after);
  });
  return 0;
}

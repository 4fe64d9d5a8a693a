#include "kafka/change_event.h"

#include <fmt/format.h>

#include "common/error.h"
#include "kafka/json_decode.h"
#include "kafka/json_parse.h"

namespace pg2ch::kafka {
namespace {

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::Data, "not a change event: " + what,
              "the topic must hold pg2ch's or Debezium's PostgreSQL change events (JSON without or with schema)");
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  const auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string string_member(const rapidjson::Value& obj, const char* name, const char* where) {
  const rapidjson::Value* v = member(obj, name);
  if (v == nullptr || !v->IsString()) bad(fmt::format("{}.{} is missing or not a string", where, name));
  return {v->GetString(), v->GetStringLength()};
}

char op_of(const rapidjson::Value& obj, const char* name) {
  const rapidjson::Value* v = member(obj, name);
  if (v == nullptr || !v->IsString() || v->GetStringLength() != 1) bad(fmt::format("\"{}\" is missing", name));
  const char op = v->GetString()[0];
  if (op != 'c' && op != 'u' && op != 'd' && op != 'r' && op != 't') bad(fmt::format("unknown \"{}\": {}", name, op));
  return op;
}

// Truncates carry no version (they apply to the whole table); every other change must have one.
std::uint64_t version_of(const rapidjson::Value* v, char op, const char* name) {
  if (op == 't') return 0;
  if (v == nullptr || !v->IsUint64()) bad(fmt::format("{} is missing or not a non-negative integer", name));
  return v->GetUint64();
}

// Optional. pg2ch's own __xid must be an integer; Debezium's source.txId is taken only when it
// is one (it was never checked before, and other producers fill it their own way).
std::optional<std::uint64_t> xid_of(const rapidjson::Value* v, const char* name, bool strict) {
  if (v == nullptr || v->IsNull()) return std::nullopt;
  if (v->IsUint64()) return v->GetUint64();
  if (strict) bad(fmt::format("{} is not a non-negative integer", name));
  return std::nullopt;
}

const rapidjson::Value* object_or_null(const rapidjson::Value& obj, const char* name) {
  const rapidjson::Value* v = member(obj, name);
  if (v == nullptr || v->IsNull()) return nullptr;
  if (!v->IsObject()) bad(fmt::format("\"{}\" is neither an object nor null", name));
  return v;
}

void decode_envelope(ChangeEvent& ev, const rapidjson::Value& payload) {
  ev.op = op_of(payload, "op");
  const rapidjson::Value* source = member(payload, "source");
  if (source == nullptr || !source->IsObject()) bad("\"source\" is missing");
  ev.schema = string_member(*source, "schema", "source");
  ev.table = string_member(*source, "table", "source");
  ev.version = version_of(member(*source, "lsn"), ev.op, "source.lsn");
  ev.xid = xid_of(member(*source, "txId"), "source.txId", /*strict=*/false);
  ev.before = object_or_null(payload, "before");
  ev.after = object_or_null(payload, "after");
  if (ev.op == 't') {
    ev.kind = ChangeEvent::Kind::Truncate;
    return;
  }
  ev.kind = ChangeEvent::Kind::Row;
  if (ev.op == 'd' ? ev.before == nullptr : ev.after == nullptr) {
    bad(fmt::format("op \"{}\" without \"{}\"", ev.op, ev.op == 'd' ? "before" : "after"));
  }
}

void decode_key_event(ChangeEvent& ev, const rapidjson::Value& obj) {
  ev.op = op_of(obj, "__op");
  ev.schema = string_member(obj, "__schema", "event");
  ev.table = string_member(obj, "__table", "event");
  ev.version = version_of(member(obj, "__lsn"), ev.op, "__lsn");
  ev.xid = xid_of(member(obj, "__xid"), "__xid", /*strict=*/true);
  ev.kind = ev.op == 't' ? ChangeEvent::Kind::Truncate : ChangeEvent::Kind::KeyOnly;
  ev.after = &obj;
}

}  // namespace

std::unique_ptr<ChangeEvent> decode_change_event(std::optional<std::string_view> value) {
  auto owned = std::make_unique<ChangeEvent>();
  ChangeEvent& ev = *owned;
  if (!value) return owned;  // tombstone
  if (const auto error = parse_json_exact(ev.document, *value))
    bad(fmt::format("invalid JSON at byte {}: {}", error->offset, error->message));
  if (!ev.document.IsObject()) bad("the value is not a JSON object");
  const rapidjson::Value* root = &ev.document;
  if (const rapidjson::Value* payload = member(*root, "payload"); payload != nullptr && member(*root, "schema")) {
    if (payload->IsNull()) return owned;  // a tombstone written with schemas enabled
    if (!payload->IsObject()) bad("\"payload\" is not an object");
    root = payload;
  }
  if (member(*root, "__op") != nullptr) {
    decode_key_event(ev, *root);
  } else {
    decode_envelope(ev, *root);
  }
  return owned;
}

}  // namespace pg2ch::kafka

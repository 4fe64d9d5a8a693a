#include "pg/pgoutput_stream.h"

#include "common/error.h"
#include "pg/wire_reader.h"
#include "pg/wire_writer.h"

namespace pg2ch::pg::pgoutput {

namespace {

WireReader reader_after_tag(std::string_view payload, StreamTag tag, const char* what) {
  if (payload.empty() || payload.front() != static_cast<char>(tag)) {
    WireReader(payload, what).fail("not this message kind");
  }
  WireReader r(payload, what);
  r.skip(1);
  return r;
}

}  // namespace

bool is_stream_control(std::string_view payload) noexcept {
  if (payload.empty()) return false;
  switch (static_cast<StreamTag>(payload.front())) {
    case StreamTag::Start:
    case StreamTag::Stop:
    case StreamTag::Commit:
    case StreamTag::Abort: return true;
  }
  return false;
}

StreamStart decode_stream_start(std::string_view payload) {
  WireReader r = reader_after_tag(payload, StreamTag::Start, "pgoutput Stream Start");
  StreamStart m;
  m.xid = r.u32();
  const std::uint8_t first = r.u8();
  if (first > 1) r.fail("first-segment flag is neither 0 nor 1");
  m.first_segment = first == 1;
  r.expect_end();
  return m;
}

void check_stream_stop(std::string_view payload) {
  reader_after_tag(payload, StreamTag::Stop, "pgoutput Stream Stop").expect_end();
}

StreamCommit decode_stream_commit(std::string_view payload) {
  WireReader r = reader_after_tag(payload, StreamTag::Commit, "pgoutput Stream Commit");
  StreamCommit m;
  m.xid = r.u32();
  r.u8();  // flags, unused by PostgreSQL
  m.commit_lsn = r.u64();
  m.end_lsn = r.u64();
  m.commit_time = r.i64();
  r.expect_end();
  return m;
}

StreamAbort decode_stream_abort(std::string_view payload) {
  WireReader r = reader_after_tag(payload, StreamTag::Abort, "pgoutput Stream Abort");
  StreamAbort m;
  m.xid = r.u32();
  m.subxid = r.u32();
  // Protocol 4 (parallel apply) adds the abort's LSN and time; we ask for protocol 2.
  r.expect_end();
  return m;
}

std::uint32_t split_streamed_change(std::string_view payload, std::string& v1) {
  WireReader r(payload, "pgoutput streamed change");
  const char tag = r.ch();
  const std::uint32_t xid = r.u32();
  v1.clear();
  v1.push_back(tag);
  v1.append(r.rest());
  return xid;
}

std::string encode_stream_start(const StreamStart& m) {
  std::string out;
  WireWriter(out).ch(static_cast<char>(StreamTag::Start)).u32(m.xid).u8(m.first_segment ? 1 : 0);
  return out;
}

std::string encode_stream_stop() { return std::string(1, static_cast<char>(StreamTag::Stop)); }

std::string encode_stream_commit(const StreamCommit& m) {
  std::string out;
  WireWriter(out).ch(static_cast<char>(StreamTag::Commit)).u32(m.xid).u8(0).u64(m.commit_lsn).u64(m.end_lsn).i64(
      m.commit_time);
  return out;
}

std::string encode_stream_abort(const StreamAbort& m) {
  std::string out;
  WireWriter(out).ch(static_cast<char>(StreamTag::Abort)).u32(m.xid).u32(m.subxid);
  return out;
}

std::string streamed_change(std::uint32_t xid, std::string_view v1) {
  std::string out;
  WireWriter w(out);
  w.ch(v1.empty() ? '\0' : v1.front()).u32(xid);
  if (!v1.empty()) w.bytes(v1.substr(1));
  return out;
}

}  // namespace pg2ch::pg::pgoutput

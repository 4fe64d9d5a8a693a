#include "capture/logical/transaction_spool.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "capture/logical/anonymous_file.h"
#include "common/error.h"
#include "pg/wire_reader.h"
#include "pg/wire_writer.h"

namespace pg2ch::capture::logical {

namespace {

// Per change: subxid (4), position (8), length (4), then the message.
constexpr std::size_t kHeader = 16;
constexpr std::size_t kFileBuffer = 1 << 20;

}  // namespace

TransactionSpool::TransactionSpool(std::string directory) : directory_(std::move(directory)) {
  if (directory_.empty()) directory_.push_back('.');  // (not = ".": GCC 12 -Wrestrict false positive)
}

void TransactionSpool::fail(std::string_view doing, std::uint32_t xid) const {
  throw Error(ErrorKind::Internal,
              fmt::format("{} the spool of streamed transaction {} in {}: {}", doing, xid, directory_,
                          std::strerror(errno)),
              "the directory must be writable and have room for the largest transaction's changes "
              "(logical.spool_dir), or set logical.streaming = false");
}

TransactionSpool::Open& TransactionSpool::open_file(std::uint32_t xid) {
  Open o;
  o.file = open_anonymous_file(directory_, kFileBuffer);
  if (!o.file) fail("creating", xid);
  return open_.insert_or_assign(xid, std::move(o)).first->second;
}

void TransactionSpool::start(std::uint32_t xid, bool first_segment) {
  if (first_segment || !open_.contains(xid)) open_file(xid);
}

void TransactionSpool::append(std::uint32_t xid, std::uint32_t subxid, Lsn position, std::string_view message) {
  auto it = open_.find(xid);
  Open& o = it == open_.end() ? open_file(xid) : it->second;
  std::string& header = header_;  // reused: one change of a huge transaction at a time
  header.clear();
  pg::WireWriter(header).u32(subxid).u64(position).u32(static_cast<std::uint32_t>(message.size()));
  if (std::fwrite(header.data(), 1, header.size(), o.file.get()) != header.size() ||
      std::fwrite(message.data(), 1, message.size(), o.file.get()) != message.size()) {
    fail("writing to", xid);
  }
  o.bytes += header.size() + message.size();
  ++o.changes;
}

void TransactionSpool::abort(std::uint32_t xid, std::uint32_t subxid) {
  if (subxid == xid) {
    open_.erase(xid);
    return;
  }
  if (auto it = open_.find(xid); it != open_.end()) it->second.aborted_subxids.insert(subxid);
}

void TransactionSpool::replay(std::uint32_t xid, const std::function<void(Lsn, std::string_view)>& apply) {
  auto it = open_.find(xid);
  if (it == open_.end()) return;
  Open o = std::move(it->second);
  open_.erase(it);
  std::FILE* f = o.file.get();
  if (std::fflush(f) != 0 || std::fseek(f, 0, SEEK_SET) != 0) fail("rewinding", xid);
  std::array<char, kHeader> header{};
  std::string message;
  for (std::uint64_t n = 0; n < o.changes; ++n) {
    if (std::fread(header.data(), 1, header.size(), f) != header.size()) fail("reading", xid);
    pg::WireReader r({header.data(), header.size()}, "spooled change");
    const std::uint32_t subxid = r.u32();
    const Lsn position = r.u64();
    message.resize(r.u32());
    if (!message.empty() && std::fread(message.data(), 1, message.size(), f) != message.size()) fail("reading", xid);
    if (o.aborted_subxids.contains(subxid) && (message.empty() || message.front() != 'R')) continue;
    apply(position, message);
  }
}

std::uint64_t TransactionSpool::bytes() const {
  std::uint64_t total = 0;
  for (const auto& [_, o] : open_) total += o.bytes;
  return total;
}

}  // namespace pg2ch::capture::logical

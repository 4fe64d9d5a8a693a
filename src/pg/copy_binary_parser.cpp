#include "pg/copy_binary_parser.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "common/error.h"
#include "pg/wire_reader.h"

namespace pg2ch::pg {
namespace {

constexpr char kSignature[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
constexpr std::size_t kHeaderFixedSize = sizeof(kSignature) + 4 + 4;   // + flags + extension length
// Bits 16-31 of the flags word mark format changes a reader must not ignore (bit 16 was
// "OIDs included", gone since PostgreSQL 12); bits 0-15 are safe to ignore.
constexpr std::uint32_t kCriticalFlagsMask = 0xFFFF0000u;

}  // namespace

CopyBinaryParser::CopyBinaryParser(int expected_fields) : expected_fields_(expected_fields) {
  if (expected_fields < -1 || expected_fields > INT16_MAX) {
    throw Error(ErrorKind::Internal, fmt::format("CopyBinaryParser: invalid expected field count {}", expected_fields));
  }
  if (expected_fields >= 0) {
    fields_.resize(static_cast<std::size_t>(expected_fields));
    carry_offsets_.resize(fields_.size());
  }
}

void CopyBinaryParser::begin_chunk(std::string_view chunk) {
  if (pos_ < chunk_.size()) {
    throw Error(ErrorKind::Internal, "CopyBinaryParser: begin_chunk() before the previous chunk was consumed");
  }
  chunk_base_ += chunk_.size();
  chunk_ = chunk;
  pos_ = 0;
}

bool CopyBinaryParser::next_row(std::span<const FieldView>& row) {
  if (carry_emitted_) {
    carry_.clear();   // keeps capacity: straddling rows do not allocate in steady state
    carry_emitted_ = false;
  }
  for (;;) {
    switch (stage_) {
      case Stage::Header:
        if (!read_header()) return false;
        break;
      case Stage::Extension:
        if (!skip_extension()) return false;
        break;
      case Stage::Rows: {
        const Step step = carry_.empty() ? fast_row(row) : carry_row(row);
        if (step != Step::Row) return false;
        ++rows_;
        return true;
      }
      case Stage::Done:
        check_no_trailing_bytes();
        return false;
    }
  }
}

void CopyBinaryParser::finish() const {
  if (stage_ == Stage::Done) return;
  fail(stream_offset(), stage_ == Stage::Rows ? "stream ended before the trailer" : "stream ended inside the header");
}

bool CopyBinaryParser::read_header() {
  if (!fill_carry(kHeaderFixedSize)) return false;
  if (std::memcmp(carry_.data(), kSignature, sizeof(kSignature)) != 0) fail(0, "bad signature (not COPY binary data)");
  const auto flags = wire::load_be<std::uint32_t>(carry_.data() + sizeof(kSignature));
  if ((flags & kCriticalFlagsMask) != 0) fail(sizeof(kSignature), fmt::format("unsupported header flags 0x{:08x}", flags));
  const auto ext_len = wire::load_be<std::int32_t>(carry_.data() + sizeof(kSignature) + 4);
  if (ext_len < 0) fail(sizeof(kSignature) + 4, fmt::format("negative header extension length {}", ext_len));
  ext_left_ = static_cast<std::uint32_t>(ext_len);
  carry_.clear();
  stage_ = Stage::Extension;
  return true;
}

bool CopyBinaryParser::skip_extension() {
  const std::size_t take = std::min<std::size_t>(ext_left_, chunk_.size() - pos_);
  pos_ += take;
  ext_left_ -= static_cast<std::uint32_t>(take);
  if (ext_left_ != 0) return false;
  stage_ = Stage::Rows;
  return true;
}

// The whole row is in the chunk: views point straight into it. Falls back to the carry buffer
// at the first sign that the row continues in the next chunk.
CopyBinaryParser::Step CopyBinaryParser::fast_row(std::span<const FieldView>& row) {
  const char* p = chunk_.data() + pos_;
  const std::size_t left = chunk_.size() - pos_;
  if (left == 0) return Step::NeedMore;
  if (left >= 2) {
    const auto n = wire::load_be<std::int16_t>(p);
    if (n == -1) {
      pos_ += 2;
      stage_ = Stage::Done;
      check_no_trailing_bytes();
      return Step::End;
    }
    if (n != expected_fields_) set_field_count(n, stream_offset());
    std::size_t off = 2;
    bool complete = true;
    for (FieldView& f : std::span(fields_.data(), static_cast<std::size_t>(n))) {
      if (left - off < 4) {
        complete = false;
        break;
      }
      const auto len = wire::load_be<std::int32_t>(p + off);
      if (len < -1) check_field_length(len, stream_offset() + off);
      off += 4;
      if (len > 0 && left - off < static_cast<std::size_t>(len)) {
        complete = false;
        break;
      }
      f.data = len < 0 ? nullptr : p + off;
      f.length = len;
      if (len > 0) off += static_cast<std::size_t>(len);
    }
    if (complete) {
      pos_ += off;
      row = std::span<const FieldView>(fields_.data(), static_cast<std::size_t>(n));
      return Step::Row;
    }
  }
  // Straddling row: move its start into the carry buffer and continue there.
  carry_base_ = stream_offset();
  carry_.assign(p, left);
  pos_ = chunk_.size();
  return carry_row(row);
}

// Resumable parse of the row in carry_, pulling from the chunk only the bytes the next item
// needs so that following rows stay on the zero-copy path.
CopyBinaryParser::Step CopyBinaryParser::carry_row(std::span<const FieldView>& row) {
  for (;;) {
    switch (carry_item_) {
      case Item::Count: {
        if (!fill_carry(2)) return Step::NeedMore;
        const auto n = wire::load_be<std::int16_t>(carry_.data());
        if (n == -1) {
          carry_.clear();
          stage_ = Stage::Done;
          check_no_trailing_bytes();
          return Step::End;
        }
        if (n != expected_fields_) set_field_count(n, carry_base_);
        carry_cursor_ = 2;
        carry_field_ = 0;
        carry_item_ = Item::Length;
        break;
      }
      case Item::Length: {
        if (carry_field_ == expected_fields_) {
          // Complete: the buffer no longer grows, so offsets can become pointers now.
          const auto n = static_cast<std::size_t>(expected_fields_);
          for (std::size_t i = 0; i < n; ++i) {
            fields_[i].data = fields_[i].length < 0 ? nullptr : carry_.data() + carry_offsets_[i];
          }
          carry_item_ = Item::Count;
          carry_emitted_ = true;
          row = std::span<const FieldView>(fields_.data(), n);
          return Step::Row;
        }
        if (!fill_carry(carry_cursor_ + 4)) return Step::NeedMore;
        const auto len = wire::load_be<std::int32_t>(carry_.data() + carry_cursor_);
        if (len < -1) check_field_length(len, carry_base_ + carry_cursor_);
        carry_cursor_ += 4;
        const auto i = static_cast<std::size_t>(carry_field_);
        carry_offsets_[i] = carry_cursor_;
        fields_[i].length = len;
        if (len > 0) {
          carry_len_ = len;
          carry_item_ = Item::Data;
        } else {
          ++carry_field_;
        }
        break;
      }
      case Item::Data:
        if (!fill_carry(carry_cursor_ + static_cast<std::size_t>(carry_len_))) return Step::NeedMore;
        carry_cursor_ += static_cast<std::size_t>(carry_len_);
        ++carry_field_;
        carry_item_ = Item::Length;
        break;
    }
  }
}

bool CopyBinaryParser::fill_carry(std::size_t size) {
  if (carry_.size() < size) {
    if (carry_.empty()) carry_base_ = stream_offset();
    const std::size_t take = std::min(size - carry_.size(), chunk_.size() - pos_);
    carry_.append(chunk_.data() + pos_, take);
    pos_ += take;
  }
  return carry_.size() >= size;
}

void CopyBinaryParser::set_field_count(std::int16_t n, std::uint64_t offset) {
  if (n < 0) fail(offset, fmt::format("invalid field count {}", n));
  if (expected_fields_ >= 0) fail(offset, fmt::format("{} fields, expected {}", n, expected_fields_));
  expected_fields_ = n;
  fields_.resize(static_cast<std::size_t>(n));
  carry_offsets_.resize(fields_.size());
}

void CopyBinaryParser::check_field_length(std::int32_t len, std::uint64_t offset) const {
  if (len < -1) fail(offset, fmt::format("invalid field length {}", len));
}

void CopyBinaryParser::check_no_trailing_bytes() {
  if (pos_ < chunk_.size()) fail(stream_offset(), fmt::format("{} bytes after the trailer", chunk_.size() - pos_));
}

void CopyBinaryParser::fail(std::uint64_t offset, std::string_view message) const {
  std::string where;
  switch (stage_) {
    case Stage::Header:
    case Stage::Extension: where = "header"; break;
    case Stage::Rows: where = fmt::format("row {}", rows_ + 1); break;
    case Stage::Done: where = fmt::format("after {} rows", rows_); break;
  }
  throw ProtocolError(fmt::format("COPY binary data: {}: {} at stream offset {}", where, message, offset));
}

}  // namespace pg2ch::pg

#pragma once
// Push parser for `COPY ... TO STDOUT (FORMAT binary)` as delivered by PQgetCopyData.
//
// Design note (format: PostgreSQL docs, "COPY", section "Binary Format"):
//   header  = "PGCOPY\n\377\r\n\0" (11 bytes), int32 flags, int32 extension length, extension
//   tuple   = int16 field count, then per field int32 length (-1 = NULL) + bytes
//   trailer = int16 -1
// PostgreSQL happens to send one row per CopyData message (and glues the header to the first
// row), but nothing guarantees it, so chunk boundaries are treated as arbitrary. A row that lies
// entirely inside the current chunk is handed out zero-copy (fields point into the chunk); only
// a row that straddles a boundary is assembled in an internal carry buffer, pulling just the
// bytes the row needs so the rest of the next chunk stays on the fast path. Field views are
// valid until the next row is produced.
//
// The parser checks the signature, the critical flag bits, every count and length, that all
// rows have the same field count, and that nothing follows the trailer; violations throw
// ProtocolError naming the row number and stream byte offset.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pg2ch::pg {

struct FieldView {
  const char* data = nullptr;
  std::int32_t length = -1;   // -1 = NULL

  bool is_null() const noexcept { return length < 0; }
  std::string_view view() const noexcept {
    return is_null() ? std::string_view{} : std::string_view(data, static_cast<std::size_t>(length));
  }
};

class CopyBinaryParser {
 public:
  // expected_fields: the number of columns in the COPY column list, or -1 to take it from the
  // first row (every later row must match either way).
  explicit CopyBinaryParser(int expected_fields = -1);

  // Parses one chunk and calls sink.row(std::span<const FieldView>) for every completed row.
  // A template rather than std::function/virtual so the sink call can be inlined.
  template <class Sink>
  void feed(std::string_view chunk, Sink& sink) {
    begin_chunk(chunk);
    std::span<const FieldView> row;
    while (next_row(row)) sink.row(row);
  }

  // The pull interface feed() is made of: after begin_chunk(), call next_row() until it returns
  // false (chunk used up, or trailer reached) before the next begin_chunk().
  void begin_chunk(std::string_view chunk);
  bool next_row(std::span<const FieldView>& row);

  // True once the trailer has been read.
  bool finished() const noexcept { return stage_ == Stage::Done; }
  // Call when the COPY stream ended (PQgetCopyData returned -1): throws ProtocolError if the
  // trailer was not reached, i.e. the data was cut short.
  void finish() const;

  std::uint64_t rows() const noexcept { return rows_; }
  int field_count() const noexcept { return expected_fields_; }

 private:
  enum class Stage : std::uint8_t { Header, Extension, Rows, Done };
  enum class Item : std::uint8_t { Count, Length, Data };
  enum class Step : std::uint8_t { Row, NeedMore, End };

  Step fast_row(std::span<const FieldView>& row);
  Step carry_row(std::span<const FieldView>& row);
  bool fill_carry(std::size_t size);
  bool read_header();
  bool skip_extension();
  void set_field_count(std::int16_t n, std::uint64_t stream_offset);
  void check_field_length(std::int32_t len, std::uint64_t stream_offset) const;
  void check_no_trailing_bytes();
  std::uint64_t stream_offset() const noexcept { return chunk_base_ + pos_; }
  [[noreturn]] void fail(std::uint64_t stream_offset, std::string_view message) const;

  Stage stage_ = Stage::Header;
  int expected_fields_;
  std::uint64_t rows_ = 0;

  std::string_view chunk_;
  std::size_t pos_ = 0;
  std::uint64_t chunk_base_ = 0;      // stream offset of chunk_[0]

  std::vector<FieldView> fields_;
  std::uint32_t ext_left_ = 0;        // header extension bytes still to skip

  // A row (or the header) that straddles chunks: its bytes so far and how far they are parsed.
  std::string carry_;
  std::uint64_t carry_base_ = 0;      // stream offset of carry_[0]
  std::size_t carry_cursor_ = 0;
  Item carry_item_ = Item::Count;
  int carry_field_ = 0;
  std::int32_t carry_len_ = 0;
  std::vector<std::size_t> carry_offsets_;   // field data offsets; pointers only once complete
  bool carry_emitted_ = false;        // carry_ holds a row already handed out: drop it next
};

}  // namespace pg2ch::pg

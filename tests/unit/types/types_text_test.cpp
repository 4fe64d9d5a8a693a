// text-like types, json/jsonb, bytea, "char", enums: String with the bytes PostgreSQL sent.
#include "types_test_support.h"

namespace pg2ch::types::test {
namespace {

TEST(TypesText, BytesAreCopiedAsIs) {
  EXPECT_EQ(encode(map(scalar(oid::kText, "text")), "68c3a96c6c6f"), rb_string("h\xc3\xa9llo"));  // 'héllo'
  EXPECT_EQ(encode(map(scalar(oid::kText, "text")), ""), "00");
  EXPECT_EQ(encode(map(scalar(oid::kVarchar, "character varying(5)", 9)), "6162"), rb_string("ab"));
  EXPECT_EQ(encode(map(scalar(oid::kBpchar, "character(4)", 8)), "61622020"), rb_string("ab  "));  // padding kept
  EXPECT_EQ(encode(map(scalar(oid::kName, "name")), "70675f636c617373"), rb_string("pg_class"));
  EXPECT_EQ(encode(map(scalar(oid::kJson, "json")), "7b2261223a20317d"), rb_string("{\"a\": 1}"));
  EXPECT_EQ(encode(map(scalar(oid::kXml, "xml")), "3c613e313c2f613e"), rb_string("<a>1</a>"));
  EXPECT_EQ(encode(map(scalar(oid::kBytea, "bytea")), "00ff0a"), "0300ff0a");
  EXPECT_EQ(encode(map(scalar(16394, "mood", -1, 'e')), "6861707079"), rb_string("happy"));  // enum label
}

TEST(TypesText, JsonbDropsTheVersionByte) {
  auto jb = map(scalar(oid::kJsonb, "jsonb"));
  // jsonb_send('{"a": [1, 2.5, "x"]}')
  EXPECT_EQ(encode(jb, "017b2261223a205b312c20322e352c202278225d7d"), rb_string("{\"a\": [1, 2.5, \"x\"]}"));
  EXPECT_EQ(encode(jb, "016e756c6c"), rb_string("null"));
  EXPECT_EQ(encode(jb, "0122c3a922"), rb_string("\"\xc3\xa9\""));

  Error e = encode_error(jb, "027b7d");
  EXPECT_EQ(e.kind(), ErrorKind::Protocol);
  EXPECT_STREQ(e.what(), "malformed jsonb value: unsupported version byte at byte 0");
  e = encode_error(jb, "");
  EXPECT_EQ(e.kind(), ErrorKind::Protocol);
  EXPECT_STREQ(e.what(), "malformed jsonb value: missing version byte at byte 0");
}

TEST(TypesText, CharIsOneByteAndNulIsEmpty) {
  auto ch = map(scalar(oid::kChar, "\"char\""));
  EXPECT_EQ(encode(ch, "78"), rb_string("x"));
  EXPECT_EQ(encode(ch, "00"), "00");      // charsend(''::"char") sends one NUL byte
  EXPECT_EQ(encode(ch, "c3"), "01c3");    // high bytes are passed through
  const Error e = encode_error(ch, "7878");
  EXPECT_EQ(e.kind(), ErrorKind::Protocol);
  EXPECT_STREQ(e.what(), "malformed \"char\" value: expected 1 bytes, got 2");
}

TEST(TypesText, DefaultIsEmptyString) {
  EXPECT_EQ(encode_default(map(scalar(oid::kText, "text"))), "00");
  EXPECT_EQ(encode_default(map(scalar(oid::kJsonb, "jsonb"))), "00");
  EXPECT_EQ(encode_default(map(scalar(oid::kChar, "\"char\""))), "00");
}

}  // namespace
}  // namespace pg2ch::types::test

#include <gtest/gtest.h>

#include "pgwire/wire.h"

namespace etl::pgwire {
namespace {

std::string be32(std::int32_t v) {
  Writer w;
  w.i32(v);
  return w.buffer();
}
std::string be16(std::int16_t v) {
  Writer w;
  w.i16(v);
  return w.buffer();
}
std::string cstr(std::string_view s) { return std::string(s) + '\0'; }

TEST(PgWire, StartupPacketCarriesItsParameters) {
  auto p = decode_startup(be32(kProtocolV3) + cstr("user") + cstr("grafana") + cstr("database") + cstr("spotify") + '\0');
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, StartupPacket::Kind::startup);
  EXPECT_EQ(p->params.at("user"), "grafana");
  EXPECT_EQ(p->params.at("database"), "spotify");
}

TEST(PgWire, SslGssAndCancelRequestsAreRecognised) {
  EXPECT_EQ(decode_startup(be32(kSslRequest))->kind, StartupPacket::Kind::ssl);
  EXPECT_EQ(decode_startup(be32(kGssEncRequest))->kind, StartupPacket::Kind::gssenc);
  auto c = decode_startup(be32(kCancelRequest) + be32(1001) + be32(-5));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, StartupPacket::Kind::cancel);
  EXPECT_EQ(c->cancel_pid, 1001);
  EXPECT_EQ(c->cancel_secret, -5);
}

TEST(PgWire, TruncatedStartupPacketsAreMalformed) {
  EXPECT_FALSE(decode_startup("").ok());
  EXPECT_FALSE(decode_startup(be32(kProtocolV3) + cstr("user")).ok());
  EXPECT_FALSE(decode_startup(be32(kProtocolV3) + "user").ok());
  EXPECT_FALSE(decode_startup(be32(kCancelRequest) + be32(1)).ok());
  EXPECT_FALSE(decode_startup(be32(kSslRequest) + "x").ok());
}

TEST(PgWire, BindDecodesTextAndNullParameters) {
  std::string body = cstr("p1") + cstr("s1") + be16(1) + be16(0) + be16(2) + be32(3) + "abc" + be32(-1) + be16(1) + be16(0);
  auto b = decode_bind(body);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->portal, "p1");
  EXPECT_EQ(b->statement, "s1");
  ASSERT_EQ(b->params.size(), 2u);
  EXPECT_EQ(b->params[0].value(), "abc");
  EXPECT_FALSE(b->params[1].has_value());
}

TEST(PgWire, BindWithLyingLengthsIsRefusedWithoutAllocating) {
  // 30000 parameters announced, none present; one parameter claiming 2 GB.
  EXPECT_FALSE(decode_bind(cstr("") + cstr("") + be16(0) + be16(30000)).ok());
  EXPECT_FALSE(decode_bind(cstr("") + cstr("") + be16(0) + be16(1) + be32(0x7fffffff) + "abc").ok());
  EXPECT_FALSE(decode_bind(cstr("") + cstr("") + be16(-1)).ok());
  EXPECT_FALSE(decode_bind(cstr("") + cstr("") + be16(0) + be16(1) + be32(-7)).ok());
}

TEST(PgWire, ParseDescribeExecuteCloseQuery) {
  auto p = decode_parse(cstr("") + cstr("select $1") + be16(1) + be32(25));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->query, "select $1");
  ASSERT_EQ(p->param_types.size(), 1u);
  EXPECT_EQ(p->param_types[0], 25);
  EXPECT_FALSE(decode_parse(cstr("") + cstr("x") + be16(3) + be32(25)).ok());
  EXPECT_EQ(decode_describe("P" + cstr("c"))->kind, 'P');
  EXPECT_FALSE(decode_describe("X" + cstr("c")).ok());
  EXPECT_EQ(decode_execute(cstr("") + be32(10))->max_rows, 10);
  EXPECT_EQ(decode_execute(cstr("") + be32(-1))->max_rows, 0) << "PostgreSQL fetches all rows for max_rows <= 0";
  EXPECT_EQ(decode_execute(cstr("") + be32(-2147483647 - 1))->max_rows, 0);
  EXPECT_EQ(decode_close("S" + cstr("s1"))->name, "s1");
  EXPECT_EQ(decode_query(cstr("select 1")).value(), "select 1");
  EXPECT_FALSE(decode_query("select 1").ok()) << "no NUL terminator";
}

TEST(PgWire, WriterPatchesMessageLengths) {
  Writer w;
  write_command_complete(w, "SELECT 1");
  ASSERT_EQ(w.buffer().size(), 1u + 4 + 9);
  EXPECT_EQ(w.buffer()[0], 'C');
  EXPECT_EQ(w.buffer().substr(1, 4), be32(4 + 9));
  w.clear();
  write_error(w, ErrorFields{"ERROR", "42601", "syntax error", "", ""});
  EXPECT_NE(w.buffer().find(std::string("C42601\0", 7)), std::string::npos);
  EXPECT_EQ(w.buffer().back(), '\0');
}

}  // namespace
}  // namespace etl::pgwire

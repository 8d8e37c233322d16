// Response compression over real sockets: gzip for bodies worth it when the
// client accepts it, never brotli (httplib's quality 11 cost more CPU than a
// whole cached query), nothing for small bodies.
#include "etl/http_server.h"

#include <gtest/gtest.h>

#include "raw_http.h"

namespace etl {
namespace {

using etl::testing::raw_request;
using etl::testing::RawConnection;

class HttpCompressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions o;
    o.service = "test";
    server_ = std::make_unique<http::Server>(o, metrics_);
    server_->get("/v1/big", [](const http::Request&) { return http::json_response(200, {{"rows", std::string(8192, 'x')}}); });
    server_->get("/v1/small", [](const http::Request&) { return http::json_response(200, {{"ok", true}}); });
    server_->post("/v1/big", [](const http::Request&) { return http::json_response(200, {{"rows", std::string(8192, 'y')}}); });
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override { server_->stop(); }
  std::string get(const std::string& path, const std::string& accept) {
    return raw_request(server_->port(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: " + accept +
                                             "\r\nConnection: close\r\n\r\n");
  }
  static std::string encoding(const std::string& response) { return RawConnection::header_of(response, "Content-Encoding"); }

  MetricsRegistry metrics_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(HttpCompressionTest, ABrowsersHeaderGetsGzipNotBrotli) {
  std::string r = get("/v1/big", "gzip, deflate, br");
  EXPECT_EQ(RawConnection::status_of(r), 200);
  EXPECT_EQ(encoding(r), "gzip") << r.substr(0, 400);
  EXPECT_LT(r.size(), 4096u) << "the 8 KiB body went compressed";
  std::string posted = raw_request(server_->port(),
                                   "POST /v1/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: br, gzip\r\n"
                                   "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  EXPECT_EQ(encoding(posted), "gzip") << "a body read by the content reader: the same rule";
}

TEST_F(HttpCompressionTest, BrotliOnlySmallBodiesAndRefusalsGoUncompressed) {
  EXPECT_EQ(encoding(get("/v1/big", "br")), "");
  EXPECT_EQ(encoding(get("/v1/big", "gzip;q=0, br")), "");
  EXPECT_EQ(encoding(get("/v1/small", "gzip, deflate, br")), "") << "not worth compressing";
  std::string plain = get("/v1/big", "identity");
  EXPECT_EQ(encoding(plain), "");
  EXPECT_NE(plain.find(std::string(8192, 'x')), std::string::npos);
}

}  // namespace
}  // namespace etl

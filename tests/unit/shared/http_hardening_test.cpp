// The HTTP base against hostile clients, over real sockets: methods, media
// types, Host names, chunked bodies over the limit, slow clients, probes
// while every handler is busy.
#include "etl/http_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "raw_http.h"
#include "test_support.h"

namespace etl {
namespace {

using etl::testing::call;
using etl::testing::RawConnection;
using etl::testing::raw_request;

class HttpHardeningTest : public ::testing::Test {
 protected:
  void start(std::string token = {}, int max_connections = 64, std::chrono::seconds timeout = std::chrono::seconds(2)) {
    http::ServerOptions o;
    o.service = "test";
    o.api_token = std::move(token);
    o.max_body_bytes = 4096;
    o.http.max_connections = max_connections;
    o.http.request_timeout = timeout;
    o.http.allowed_hosts = {"etl.internal"};
    server_ = std::make_unique<http::Server>(o, metrics_);
    server_->post("/v1/echo", [](const http::Request& req) { return http::json_response(200, {{"bytes", req.body.size()}}); });
    server_->get("/v1/items/{item_id}", [](const http::Request& req) { return http::json_response(200, {{"id", req.params[0]}}); });
    server_->get("/v1/headers", [](const http::Request& req) {
      return http::json_response(200, {{"if_none_match", req.header("If-None-Match")},
                                       {"delegation", req.header("X-Iceberg-Access-Delegation")},
                                       {"csv", req.quality("text/csv")}});
    });
    server_->get("/v1/slow", [this](const http::Request&) {
      ++in_slow_;
      while (!release_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return http::json_response(200, {{"slow", true}});
    });
    ASSERT_TRUE(server_->start().ok());
    port_ = server_->port();
  }
  void TearDown() override {
    release_ = true;
    if (server_) server_->stop();
  }
  std::string get(const std::string& path, const std::string& extra = {}) {
    return raw_request(port_, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "Connection: close\r\n\r\n");
  }
  static int status(const std::string& r) { return RawConnection::status_of(r); }

  MetricsRegistry metrics_;
  std::unique_ptr<http::Server> server_;
  int port_ = 0;
  std::atomic<int> in_slow_{0};
  std::atomic<bool> release_{false};
};

TEST_F(HttpHardeningTest, WrongMethodsOnKnownRoutesAre405WithAllow) {
  start();
  for (const char* method : {"PUT", "DELETE", "PATCH", "TRACE", "POST"}) {
    auto r = raw_request(port_, std::string(method) + " /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(status(r), 405) << method << "\n" << r;
    EXPECT_EQ(RawConnection::header_of(r, "Allow"), "GET, HEAD, OPTIONS") << method;
    EXPECT_EQ(RawConnection::header_of(r, "Content-Type"), "application/problem+json") << method;
  }
  auto options = raw_request(port_, "OPTIONS /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status(options), 204) << options;
  EXPECT_EQ(RawConnection::header_of(options, "Allow"), "OPTIONS, POST");
  EXPECT_EQ(status(get("/healthz")), 200);
  auto head = raw_request(port_, "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status(head), 200) << head;
  EXPECT_EQ(status(raw_request(port_, "DELETE /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 405);
  auto query = raw_request(port_, "QUERY /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status(query), 405) << query;
  EXPECT_EQ(RawConnection::header_of(query, "Allow"), "GET, HEAD, OPTIONS");
  RawConnection with_body(port_);  // the body must not be read as a request
  with_body.send("QUERY /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 40\r\n\r\nGET /v1/items/smuggled HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status(with_body.read_response()), 405);
  EXPECT_TRUE(with_body.wait_closed(std::chrono::seconds(3)));
  EXPECT_EQ(status(raw_request(port_, "PUT /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")), 404);
}

// A path that matches a route under another method is that route's request:
// counted under its template (with the 405, or OPTIONS' 204), whether the
// method reached the routing (PUT) or httplib refused to parse it (QUERY).
// Only a path no route knows is "unmatched".
TEST_F(HttpHardeningTest, AWrongMethodIsCountedUnderTheMatchedRoutesTemplate) {
  start();
  ASSERT_EQ(status(raw_request(port_, "PUT /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")), 405);
  ASSERT_EQ(status(raw_request(port_, "QUERY /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 405);
  ASSERT_EQ(status(raw_request(port_, "OPTIONS /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 204);
  ASSERT_EQ(status(get("/nowhere")), 404);
  const std::vector<std::string> series = {"method=\"PUT\",route=\"/v1/items/{item_id}\",status=\"405\"",
                                           "method=\"QUERY\",route=\"/v1/items/{item_id}\",status=\"405\"",
                                           "method=\"OPTIONS\",route=\"/v1/items/{item_id}\",status=\"204\"",
                                           "method=\"GET\",route=\"unmatched\",status=\"404\""};
  // A request is counted once its answer is written: the client may read it first.
  std::string text;
  testing::wait_until([&] {
    text = metrics_.render();
    return std::all_of(series.begin(), series.end(), [&](const std::string& s) { return text.find(s) != std::string::npos; });
  });
  for (const auto& s : series) EXPECT_NE(text.find(s), std::string::npos) << "no series " << s << " in\n" << text;
  EXPECT_EQ(text.find("route=\"unmatched\",status=\"405\""), std::string::npos) << text;
}

TEST_F(HttpHardeningTest, UnknownMethodsAre501) {
  start();
  for (const char* method : {"FOO", "PROPFIND", "PRI"}) {
    auto r = raw_request(port_, std::string(method) + " /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_EQ(status(r), 501) << method << "\n" << r;
  }
}

TEST_F(HttpHardeningTest, JsonEndpointsRefuseOtherMediaTypesWith415) {
  start();
  auto form = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status(form), 415) << form;
  EXPECT_NE(form.find("application/json"), std::string::npos);
  auto none = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status(none), 415);
  auto browser = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                                    "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(status(browser), 415);
  auto gzip = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                 "Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status(gzip), 415);
  auto json = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json; charset=utf-8\r\n"
                                 "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status(json), 200) << json;
  EXPECT_EQ(status(raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 200) << "curl -X POST";
}

TEST_F(HttpHardeningTest, ChunkedBodiesStopAtTheLimit) {
  start();
  RawConnection c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "1000\r\n" + std::string(4096, ' ') + "\r\n";
  bool refused_early = false;
  for (int i = 0; i < 4096 && !refused_early; ++i) refused_early = !c.send(chunk);  // 16 MiB offered
  auto r = c.read_response();
  EXPECT_EQ(status(r), 413) << r;
  EXPECT_TRUE(c.wait_closed(std::chrono::seconds(3))) << "the rest of the body must not be read as a request";
  // A chunked body under the limit is read whole.
  auto small = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(status(small), 200) << small;
  EXPECT_NE(small.find("\"bytes\":2"), std::string::npos);
}

TEST_F(HttpHardeningTest, ABodyOnARefusedRequestClosesTheConnection) {
  start();
  RawConnection c(port_);
  ASSERT_TRUE(c.send("PUT /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\nGET /v1/items/smuggled"));
  auto r = c.read_response();
  EXPECT_EQ(status(r), 405);
  EXPECT_TRUE(c.wait_closed(std::chrono::seconds(3)));
}

TEST_F(HttpHardeningTest, LoopbackListenersRefuseForeignHostNames) {
  start();
  EXPECT_EQ(status(get("/v1/items/x", "")), 200);
  auto rebound = raw_request(port_, "GET /v1/items/x HTTP/1.1\r\nHost: evil.example:8083\r\n\r\n");
  EXPECT_EQ(status(rebound), 403) << rebound;
  EXPECT_EQ(status(raw_request(port_, "GET /v1/items/x HTTP/1.1\r\nHost: localhost\r\n\r\n")), 200);
  EXPECT_EQ(status(raw_request(port_, "GET /v1/items/x HTTP/1.1\r\nHost: etl.internal:1\r\n\r\n")), 200);
}

TEST_F(HttpHardeningTest, BearerSchemeInAnyCase) {
  start("t0ken");
  EXPECT_EQ(status(get("/v1/items/x", "Authorization: bearer t0ken\r\n")), 200);
  EXPECT_EQ(status(get("/v1/items/x", "Authorization: BEARER t0ken\r\n")), 200);
  auto wrong = get("/v1/items/x", "Authorization: Bearer t0ken2\r\n");
  EXPECT_EQ(status(wrong), 401);
  EXPECT_EQ(RawConnection::header_of(wrong, "WWW-Authenticate"), "Bearer");
}

// httplib 0.11 percent-decodes every header field value: with the token
// t0k%41n, `Bearer t0k%41n` was refused and `Bearer t0k%2541n` let in; a Host
// of %6cocalhost passed the DNS-rebinding check as localhost, and a body sent
// as application%2Fjson was taken for JSON. Every value is taken as sent,
// also by handlers.
TEST_F(HttpHardeningTest, HeaderValuesAreTakenAsSentNotPercentDecoded) {
  start("t0k%41n");
  EXPECT_EQ(status(get("/v1/items/x", "Authorization: Bearer t0k%41n\r\n")), 200);
  EXPECT_EQ(status(get("/v1/items/x", "Authorization: Bearer t0k%2541n\r\n")), 401);
  EXPECT_EQ(status(get("/v1/items/x", "Authorization: Bearer t0kAn\r\n")), 401);
  const std::string auth = "Authorization: Bearer t0k%41n\r\n";
  auto rebound = raw_request(port_, "GET /v1/items/x HTTP/1.1\r\nHost: %6cocalhost\r\n" + auth + "Connection: close\r\n\r\n");
  EXPECT_EQ(status(rebound), 403) << rebound;
  auto encoded_type = raw_request(port_, "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                                             "Content-Type: application%2Fjson\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  EXPECT_EQ(status(encoded_type), 415) << encoded_type;
  auto seen = get("/v1/headers", auth + "If-None-Match: \"a%20b\"\r\nX-Iceberg-Access-Delegation: vended%2Dcredentials\r\n" +
                                     "Accept: text%2Fcsv\r\n");
  ASSERT_EQ(status(seen), 200) << seen;
  auto body = nlohmann::json::parse(seen.substr(seen.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["if_none_match"], "\"a%20b\"");
  EXPECT_EQ(body["delegation"], "vended%2Dcredentials");
  EXPECT_EQ(body["csv"], 0.0);
}

// With a token, a /v1/ request without it is 401 whatever it asks for: unknown
// paths and wrong methods included (they told which endpoints exist before).
TEST_F(HttpHardeningTest, WithATokenEveryV1RequestWithoutItIs401) {
  start("t0ken");
  EXPECT_EQ(status(get("/v1/nothing-here")), 401);
  EXPECT_EQ(status(raw_request(port_, "DELETE /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")), 401);
  EXPECT_EQ(status(raw_request(port_, "OPTIONS /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")), 401);
  // With it, the same requests get their usual answers.
  EXPECT_EQ(status(get("/v1/nothing-here", "Authorization: Bearer t0ken\r\n")), 404);
  EXPECT_EQ(status(raw_request(port_, "DELETE /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t0ken\r\n"
                                      "Connection: close\r\n\r\n")),
            405);
  EXPECT_EQ(status(get("/healthz")), 200) << "probes stay open";
}

TEST_F(HttpHardeningTest, SlowClientsAreClosedAtTheRequestDeadline) {
  start({}, 64, std::chrono::seconds(1));
  RawConnection slow(port_);
  ASSERT_TRUE(slow.send("GET /v1/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 30 && !slow.wait_closed(std::chrono::milliseconds(100)); ++i) slow.send("X-Drip: 1\r\n");
  EXPECT_TRUE(slow.wait_closed(std::chrono::seconds(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
  EXPECT_NE(call("GET", server_->base_url() + "/metrics").body.find("spotify_etl_http_request_timeouts_total{service=\"test\"} 1"),
            std::string::npos);
}

TEST_F(HttpHardeningTest, ProbesAnswerWhileEveryHandlerIsBusyAndSlowClientsWait) {
  start({}, 256, std::chrono::seconds(30));
  std::vector<std::thread> queries;
  for (int i = 0; i < 40; ++i) queries.emplace_back([this] { get("/v1/slow"); });
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 150; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port_));
    slow.back()->send("GET /healthz HTTP/1.1\r\nHost: 1");
  }
  ASSERT_TRUE(etl::testing::wait_until([this] { return in_slow_ == 40; }));
  for (int i = 0; i < 20; ++i) {
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(status(get("/healthz")), 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  }
  release_ = true;
  for (auto& t : queries) t.join();
}

TEST_F(HttpHardeningTest, RefusesToListenOpenOnTheNetworkWithoutAToken) {
  http::ServerOptions o;
  o.service = "open";
  o.address = {"0.0.0.0", 0};
  http::Server open(o, metrics_);
  auto s = open.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("ETL_ALLOW_OPEN"), std::string::npos);
  o.http.allow_open = true;
  http::Server allowed(o, metrics_);
  EXPECT_TRUE(allowed.start().ok());
  o.http.allow_open = false;
  o.api_token = "t";
  http::Server with_token(o, metrics_);
  EXPECT_TRUE(with_token.start().ok());
}

}  // namespace
}  // namespace etl

#include "etl/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "raw_http.h"
#include "test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace etl {
namespace {

using etl::testing::call;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(const std::string& token = {}, const std::function<void(http::Server&)>& more_routes = {}) {
    http::ServerOptions o;
    o.service = "test";
    o.address = {"127.0.0.1", 0};
    o.api_token = token;
    o.read_token = read_token_;
    o.max_body_bytes = 1024;
    server_ = std::make_unique<http::Server>(o, metrics_);
    server_->post("/v1/echo", [](const http::Request& req) {
      auto body = http::parse_json_object(req);
      if (!body) return http::error_response(body.error());
      return http::json_response(200, *body);
    });
    server_->get("/v1/items/{item_id}", [](const http::Request& req) {
      if (req.params[0] != "known") return http::error_response(make_error(Errc::not_found, "no item " + req.params[0]));
      return http::json_response(200, {{"id", req.params[0]}});
    });
    server_->get("/v1/boom", [](const http::Request&) -> http::Response { throw std::runtime_error("bug"); });
    if (more_routes) more_routes(*server_);
    server_->add_readiness_check("store", [this] { return ready_ ? Status{} : make_error(Errc::unavailable, "store down"); });
    ASSERT_TRUE(server_->start().ok());
    base_ = server_->base_url();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  MetricsRegistry metrics_;
  std::unique_ptr<http::Server> server_;
  std::string base_;
  std::atomic<bool> ready_{true};
  std::string read_token_;  // set before start()
};

TEST_F(HttpServerTest, ErrorsAreProblemJsonWithTheMappedStatus) {
  start();
  auto r = call("GET", base_ + "/v1/items/unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto body = r.json();
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["detail"], "no item unknown");
  EXPECT_TRUE(body.contains("type") && body.contains("title"));
}

TEST_F(HttpServerTest, MalformedJsonIs400NotA500) {
  start();
  auto r = call("POST", base_ + "/v1/echo", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto array = call("POST", base_ + "/v1/echo", "[1,2]");
  EXPECT_EQ(array.status, 400);
  // Whitespace alone is not JSON (Schemathesis sent a lone tab to POST /v1/crawl, which took it for no body).
  for (const char* blank : {"\t", " ", "\r\n"}) {
    auto r2 = call("POST", base_ + "/v1/echo", blank);
    EXPECT_EQ(r2.status, 400) << "body of " << std::string(blank).size() << " whitespace byte(s)";
  }
  auto padded = call("POST", base_ + "/v1/echo", " \n{\"a\": 1}\n");
  EXPECT_EQ(padded.status, 200) << "whitespace around a value is JSON";
}

TEST_F(HttpServerTest, BodiesOverTheLimitGet413) {
  start();
  auto r = call("POST", base_ + "/v1/echo", "{\"x\":\"" + std::string(4096, 'a') + "\"}");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.content_type, "application/problem+json");
}

TEST_F(HttpServerTest, UnknownRoutesAreProblem404) {
  start();
  auto r = call("GET", base_ + "/v1/nothing-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/problem+json");
}

TEST_F(HttpServerTest, HandlerExceptionsBecomeA500ProblemWithoutDetailsLeaking) {
  start();
  auto r = call("GET", base_ + "/v1/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("bug"), std::string::npos);
}

TEST_F(HttpServerTest, TokenGuardsV1ButNotProbesOrMetrics) {
  start("t0ken");
  EXPECT_EQ(call("GET", base_ + "/v1/items/known").status, 401);
  EXPECT_EQ(call("GET", base_ + "/v1/items/known", "", "wrong").status, 401);
  EXPECT_EQ(call("GET", base_ + "/v1/items/known", "", "t0ken").status, 200);
  EXPECT_EQ(call("GET", base_ + "/healthz").status, 200);
  EXPECT_EQ(call("GET", base_ + "/readyz").status, 200);
  EXPECT_EQ(call("GET", base_ + "/metrics").status, 200);
  EXPECT_EQ(call("GET", base_ + "/openapi.json").status, 200);
  auto unauthorized = call("GET", base_ + "/v1/items/known", "", "wrong");
  EXPECT_EQ(unauthorized.body.find("t0ken"), std::string::npos) << "the token must never be echoed";
}

// ETL_READ_TOKEN: GETs and the routes registered as reads; a write is 403 (after
// 404/405, which the token may learn), before its body is read.
TEST_F(HttpServerTest, TheReadOnlyTokenCallsReadRoutesAndWritesGet403) {
  read_token_ = "r3ad";
  start("t0ken", [](http::Server& s) {
    s.post("/v1/search", [](const http::Request&) { return http::json_response(200, {{"found", 0}}); }, http::Access::read);
    s.del("/v1/items/{item_id}", [](const http::Request&) { return http::json_response(200, {{"deleted", true}}); });
    nlohmann::json doc = http::openapi_document("test", "");
    for (const char* path : {"/v1/echo", "/v1/search"})
      doc["paths"][path]["post"] = {{"responses", {{"200", {{"description", "ok"}}}}}};
    s.set_openapi(doc);
  });
  EXPECT_EQ(call("GET", base_ + "/v1/items/known", "", "r3ad").status, 200);
  EXPECT_EQ(call("POST", base_ + "/v1/search", "{}", "r3ad").status, 200);
  auto refused = call("POST", base_ + "/v1/echo", R"({"a":1})", "r3ad");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("ETL_READ_TOKEN"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("POST /v1/echo"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("r3ad"), std::string::npos) << "the token must never be echoed";
  EXPECT_EQ(call("DELETE", base_ + "/v1/items/known", "", "r3ad").status, 403);
  EXPECT_EQ(call("POST", base_ + "/v1/nothing", "{}", "r3ad").status, 404);
  EXPECT_EQ(call("GET", base_ + "/v1/echo", "", "r3ad").status, 405);
  // The API token calls everything; any other token nothing.
  EXPECT_EQ(call("POST", base_ + "/v1/echo", R"({"a":1})", "t0ken").status, 200);
  EXPECT_EQ(call("DELETE", base_ + "/v1/items/known", "", "t0ken").status, 200);
  EXPECT_EQ(call("GET", base_ + "/v1/items/known", "", "r3ad2").status, 401);
  EXPECT_EQ(call("GET", base_ + "/v1/items/known", "", "r3a").status, 401);
  // Refused before the body: the connection closes without waiting for it.
  testing::RawConnection client(server_->port());
  ASSERT_TRUE(client.connected() &&
              client.send("POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Expect: 100-continue\r\nAuthorization: Bearer r3ad\r\nContent-Length: 7\r\n\r\n"));
  auto r = client.read_response();
  EXPECT_EQ(testing::RawConnection::status_of(r), 403) << r;
  EXPECT_TRUE(client.wait_closed(std::chrono::seconds(5))) << "the unsent body must not be awaited";
  // The document says which operations the read-only token may not call.
  auto doc = nlohmann::json::parse(call("GET", base_ + "/openapi.json").body);
  EXPECT_TRUE(doc["paths"]["/v1/echo"]["post"]["responses"].contains("403")) << doc["paths"].dump();
  EXPECT_FALSE(doc["paths"]["/v1/search"]["post"]["responses"].contains("403")) << doc["paths"].dump();
}

TEST_F(HttpServerTest, AReadOnlyTokenWithoutTheApiTokenIsRefusedAtStart) {
  http::ServerOptions o;
  o.address = {"127.0.0.1", 0};
  o.read_token = "r3ad";
  http::Server server(o, metrics_);
  auto started = server.start();
  ASSERT_FALSE(started.ok()) << "every endpoint would be open to anyone";
  EXPECT_NE(started.error().message.find("ETL_API_TOKEN"), std::string::npos) << started.error().message;
}

TEST_F(HttpServerTest, ReadinessReflectsDependencyChecks) {
  start();
  EXPECT_EQ(call("GET", base_ + "/readyz").status, 200);
  ready_ = false;
  auto r = call("GET", base_ + "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json()["checks"]["store"], "store down");
}

TEST_F(HttpServerTest, MetricsCountRequestsInPrometheusFormat) {
  start();
  call("GET", base_ + "/v1/items/known");
  auto r = call("GET", base_ + "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("# TYPE spotify_etl_http_requests_total counter"), std::string::npos);
  EXPECT_NE(r.body.find("route=\"/v1/items/{item_id}\",status=\"200\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("spotify_etl_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(HttpServerTest, APostWithoutContentLengthHasAnEmptyBodyAndAnswersAtOnce) {
  start();
  // What `curl -X POST` without data sends: no Content-Length, no Transfer-Encoding.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string request = "POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  auto started = std::chrono::steady_clock::now();
  char buf[512] = {};
  ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 0) << "no answer within 5 s: the server waited for a body that never comes";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 200", 0), 0u) << buf;
}

// What a handler that waits sees of its client: there while connected, gone
// once the client has closed its end (before it read the answer).
TEST_F(HttpServerTest, AHandlerSeesWhetherItsClientHasGone) {
  struct Seen {
    std::atomic<int> there{-1}, gone{-1};
  };
  auto seen = std::make_shared<Seen>();  // the handler's, should it outlive a failed test
  start({}, [seen](http::Server& server) {
    server.get("/v1/wait", [seen](const http::Request& req) {
      seen->there = req.client_gone() ? 0 : 1;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!req.client_gone() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      seen->gone = req.client_gone() ? 1 : 0;
      return http::json_response(200, {{"ok", true}});
    });
  });
  testing::RawConnection client(server_->port());
  ASSERT_TRUE(client.connected() && client.send("GET /v1/wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_TRUE(testing::wait_until([&] { return seen->there != -1; }, std::chrono::seconds(5)));
  EXPECT_EQ(seen->there, 1) << "connected: not gone";
  client.close();
  ASSERT_TRUE(testing::wait_until([&] { return seen->gone != -1; }, std::chrono::seconds(10)));
  EXPECT_EQ(seen->gone, 1) << "closed: gone, well before the handler's 5 s";
  EXPECT_FALSE(http::Request{}.client_gone()) << "a Request not from a connection";
}

// Expect: 100-continue: a request refused on its head gets its answer in place of
// the 100, and the connection ends, so its body is never sent; one that passes
// gets the 100, then its answer once the body came, and its connection goes on.
TEST_F(HttpServerTest, ExpectContinueIsAnsweredWithTheRefusalBeforeTheBodyIsSent) {
  start("t0ken");
  const std::string expect = "Host: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n";
  const std::string token = "Authorization: Bearer t0ken\r\n";
  const struct {
    std::string head;
    int status;
  } refused[] = {
      {"POST /v1/echo HTTP/1.1\r\n" + expect + token + "Content-Length: 4096\r\n\r\n", 413},
      {"POST /v1/echo HTTP/1.1\r\n" + expect + "Content-Length: 7\r\n\r\n", 401},
      {"POST /v1/nothing HTTP/1.1\r\n" + expect + token + "Content-Length: 7\r\n\r\n", 404},
      {"POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\n" + token +
           "Content-Length: 7\r\n\r\n",
       415},
  };
  for (const auto& c : refused) {
    testing::RawConnection client(server_->port());
    ASSERT_TRUE(client.connected() && client.send(c.head));
    auto r = client.read_response();
    EXPECT_EQ(testing::RawConnection::status_of(r), c.status) << c.head << "\n->\n" << r;
    EXPECT_EQ(testing::RawConnection::header_of(r, "Connection"), "close") << r;
    EXPECT_TRUE(client.wait_closed(std::chrono::seconds(5))) << "the unsent body must not be awaited";
  }

  testing::RawConnection client(server_->port());
  ASSERT_TRUE(client.connected() && client.send("POST /v1/echo HTTP/1.1\r\n" + expect + token + "Content-Length: 7\r\n\r\n"));
  EXPECT_EQ(client.read_response(), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.send("{\"a\":1}"));
  auto echoed = client.read_response();
  ASSERT_EQ(testing::RawConnection::status_of(echoed), 200) << echoed;
  EXPECT_EQ(echoed.substr(echoed.find("\r\n\r\n") + 4), "{\"a\":1}");
  ASSERT_TRUE(client.send("GET /v1/items/known HTTP/1.1\r\nHost: 127.0.0.1\r\n" + token + "\r\n"));
  auto next = client.read_response();
  EXPECT_EQ(testing::RawConnection::status_of(next), 200) << "the connection goes on after it: " << next;

  // HTTP/1.0 has no 100 status: the expectation is ignored (RFC 9110 10.1.1) and the
  // body, sent with the head, is read and answered.
  testing::RawConnection old(server_->port());
  ASSERT_TRUE(old.connected() && old.send("POST /v1/echo HTTP/1.0\r\n" + expect + token + "Content-Length: 7\r\n\r\n{\"a\":1}"));
  auto answered = old.read_response();
  ASSERT_EQ(testing::RawConnection::status_of(answered), 200) << answered;
  EXPECT_EQ(answered.substr(answered.find("\r\n\r\n") + 4), "{\"a\":1}");
}

// Range is ignored (RFC 9110 14.2 lets a server): httplib answered a GET with a
// multipart of every range asked for, overlapping or not (an answer hundreds of times
// the document), and cut a POST's answer, for which ranges are not defined.
TEST_F(HttpServerTest, RangeRequestsAreAnsweredWhole) {
  start("t0ken");
  const std::string head = "Host: 127.0.0.1\r\nAuthorization: Bearer t0ken\r\n";
  auto body_of = [](const std::string& r) { return r.substr(r.find("\r\n\r\n") + 4); };
  testing::RawConnection client(server_->port());
  ASSERT_TRUE(client.connected() && client.send("GET /openapi.json HTTP/1.1\r\n" + head + "\r\n"));
  const std::string plain = client.read_response();
  ASSERT_EQ(testing::RawConnection::status_of(plain), 200) << plain;

  std::string ranges = "bytes=0-";
  for (int i = 0; i < 200; ++i) ranges += ",0-";
  // (A Range httplib cannot parse, such as bytes=5-1, still gets its 416 before any hook runs.)
  for (const std::string& range : {ranges, std::string("bytes=0-9"), std::string("bytes=-5")}) {
    ASSERT_TRUE(client.send("GET /openapi.json HTTP/1.1\r\n" + head + "Range: " + range + "\r\n\r\n"));
    const std::string r = client.read_response();
    EXPECT_EQ(testing::RawConnection::status_of(r), 200) << range;
    EXPECT_EQ(testing::RawConnection::header_of(r, "Content-Range"), "") << range;
    EXPECT_EQ(body_of(r), body_of(plain)) << range;
  }
  ASSERT_TRUE(client.send("POST /v1/echo HTTP/1.1\r\n" + head +
                          "Content-Type: application/json\r\nRange: bytes=0-1\r\nContent-Length: 7\r\n\r\n{\"a\":1}"));
  const std::string echoed = client.read_response();
  EXPECT_EQ(testing::RawConnection::status_of(echoed), 200) << echoed;
  EXPECT_EQ(body_of(echoed), "{\"a\":1}");
}

TEST_F(HttpServerTest, StartFailsCleanlyWhenThePortIsTaken) {
  start();
  http::ServerOptions o;
  o.service = "second";
  o.address = {"127.0.0.1", server_->port()};
  http::Server second(o, metrics_);
  auto s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace etl

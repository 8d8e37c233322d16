// HTTP/1.1 message framing over real sockets (RFC 9112): pipelined requests
// are answered in order, a client that half-closes after its request still
// gets the answer, and a request whose body length is ambiguous (two
// Content-Lengths, Content-Length with Transfer-Encoding, an unknown coding,
// a bad chunk size, a malformed header field line) is refused and its
// connection closed, so that nothing after it can be read as another request
// (request smuggling).
#include "etl/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "http_framing.h"
#include "raw_http.h"
#include "test_support.h"

namespace etl {
namespace {

using etl::testing::RawConnection;
using etl::testing::raw_request;

// A client socket that can half-close (shutdown(SHUT_WR), as `nc -N` does)
// and reads every response until the server closes.
class Client {
 public:
  explicit Client(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool send(const std::string& data, bool half_close = false) {
    if (!connected_ || ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size())) return false;
    return !half_close || ::shutdown(fd_, SHUT_WR) == 0;
  }
  // Everything the server sends until it closes; `closed` says whether it did
  // within `timeout`.
  std::string read_all(std::chrono::milliseconds timeout = std::chrono::seconds(4)) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    closed = false;
    while (!closed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) closed = true;
      else out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed = false;

 private:
  int fd_;
  bool connected_ = false;
};

// The responses in `raw`, in order (each head and its Content-Length body).
std::vector<std::string> split_responses(std::string raw) {
  std::vector<std::string> out;
  while (true) {
    auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) break;
    auto length = RawConnection::header_of(raw, "Content-Length");
    std::size_t size = head_end + 4 + (length.empty() ? 0 : std::stoul(length));
    out.push_back(raw.substr(0, size));
    raw.erase(0, std::min(size, raw.size()));
  }
  return out;
}

int status(const std::string& r) { return RawConnection::status_of(r); }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const std::string kHost = "Host: 127.0.0.1\r\n";
const std::string kJson = "Content-Type: application/json\r\n";

class HttpFramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions o;
    o.service = "test";
    o.max_body_bytes = 4096;
    o.http.request_timeout = std::chrono::seconds(10);
    server_ = std::make_unique<http::Server>(o, metrics_);
    server_->post("/v1/echo", [this](const http::Request& req) {
      ++posts_;
      return http::json_response(200, {{"body", req.body}});
    });
    server_->get("/v1/items/{item_id}", [](const http::Request& req) { return http::json_response(200, {{"id", req.params[0]}}); });
    ASSERT_TRUE(server_->start().ok());
    port_ = server_->port();
  }
  void TearDown() override { server_->stop(); }
  static std::string post(const std::string& body, const std::string& extra = {}) {
    return "POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  // A refused request: a problem+json 400 (or `expected`), Connection: close,
  // the connection closed after it and nothing after it answered or run.
  void expect_refused_and_closed(const std::string& request, int expected = 400) {
    Client c(port_);
    ASSERT_TRUE(c.send(request + "GET /v1/items/smuggled HTTP/1.1\r\n" + kHost + "\r\n"));
    const auto started = std::chrono::steady_clock::now();
    auto responses = split_responses(c.read_all());
    ASSERT_EQ(responses.size(), 1u) << request;
    EXPECT_EQ(status(responses[0]), expected) << request << "\n" << responses[0];
    EXPECT_EQ(RawConnection::header_of(responses[0], "Content-Type"), "application/problem+json") << responses[0];
    EXPECT_EQ(RawConnection::header_of(responses[0], "Connection"), "close") << responses[0];
    EXPECT_TRUE(c.closed) << "the connection must close after a message of unknown length: " << request;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900)) << "answer at once: " << request;
    EXPECT_EQ(posts_.load(), 0) << request;
  }

  MetricsRegistry metrics_;
  std::unique_ptr<http::Server> server_;
  int port_ = 0;
  std::atomic<int> posts_{0};
};

TEST_F(HttpFramingTest, PipelinedRequestsAreAnsweredInOrder) {
  Client c(port_);
  ASSERT_TRUE(c.send("GET /v1/items/first HTTP/1.1\r\n" + kHost + "\r\n" + "GET /v1/items/second HTTP/1.1\r\n" + kHost +
                     "\r\n" + "GET /v1/items/third HTTP/1.1\r\n" + kHost + "Connection: close\r\n\r\n"));
  auto responses = split_responses(c.read_all());
  ASSERT_EQ(responses.size(), 3u) << "every pipelined request gets its response (RFC 9112 9.3.2)";
  EXPECT_NE(responses[0].find("\"id\":\"first\""), std::string::npos) << responses[0];
  EXPECT_NE(responses[1].find("\"id\":\"second\""), std::string::npos) << responses[1];
  EXPECT_NE(responses[2].find("\"id\":\"third\""), std::string::npos) << responses[2];
  EXPECT_TRUE(c.closed) << "closed after the request that asked for it";
}

TEST_F(HttpFramingTest, AKeepAliveConnectionServesManyRequests) {
  Client c(port_);
  std::string requests;
  for (int i = 0; i < 40; ++i)
    requests += "GET /v1/items/n" + std::to_string(i) + " HTTP/1.1\r\n" + kHost + (i == 39 ? "Connection: close\r\n" : "") + "\r\n";
  ASSERT_TRUE(c.send(requests));
  auto responses = split_responses(c.read_all());
  ASSERT_EQ(responses.size(), 40u) << "httplib's default closed the connection after 5";
  for (int i = 0; i < 39; ++i) EXPECT_NE(RawConnection::header_of(responses[i], "Connection"), "close") << i;
  EXPECT_NE(responses[39].find("\"id\":\"n39\""), std::string::npos);
}

TEST_F(HttpFramingTest, PipelinedPostsWithBodiesAreAnsweredInOrder) {
  Client c(port_);
  ASSERT_TRUE(c.send(post("{\"n\":1}") + post("{\"n\":2}") + post("{\"n\":3}", "Connection: close\r\n")));
  auto responses = split_responses(c.read_all());
  ASSERT_EQ(responses.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(status(responses[i]), 200) << responses[i];
    EXPECT_NE(responses[i].find("{\\\"n\\\":" + std::to_string(i + 1) + "}"), std::string::npos) << responses[i];
  }
  EXPECT_EQ(posts_.load(), 3);
}

TEST_F(HttpFramingTest, AHalfClosedClientStillGetsItsResponse) {
  {  // `nc -N`: the request, then shutdown(SHUT_WR)
    Client c(port_);
    ASSERT_TRUE(c.send(post("{\"run\":1}", "Connection: close\r\n"), /*half_close=*/true));
    auto r = c.read_all();
    EXPECT_EQ(status(r), 200) << "the handler ran; its answer must reach the client:\n" << r;
    EXPECT_NE(r.find("{\\\"run\\\":1}"), std::string::npos) << r;
    EXPECT_TRUE(c.closed);
  }
  {  // keep-alive asked for, then half-closed: answered, then closed at once
    Client c(port_);
    ASSERT_TRUE(c.send("GET /v1/items/x HTTP/1.1\r\n" + kHost + "\r\n", /*half_close=*/true));
    const auto started = std::chrono::steady_clock::now();
    auto r = c.read_all();
    EXPECT_EQ(status(r), 200) << r;
    EXPECT_TRUE(c.closed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  }
  {  // two pipelined requests and the half-close in one go
    Client c(port_);
    ASSERT_TRUE(c.send(post("{\"n\":1}") + post("{\"n\":2}"), /*half_close=*/true));
    auto responses = split_responses(c.read_all());
    ASSERT_EQ(responses.size(), 2u);
    EXPECT_EQ(status(responses[1]), 200) << responses[1];
  }
  EXPECT_EQ(posts_.load(), 3);
}

TEST_F(HttpFramingTest, DifferingContentLengthsAre400AndClose) {
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length: 2\r\nContent-Length: 20\r\n\r\n{}");
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length: 0\r\nContent-Length: 2\r\n\r\n{}");
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length: 2, 20\r\n\r\n{}");
  // The same value twice is one length (RFC 9112 6.3 allows reading it so).
  Client same(port_);
  ASSERT_TRUE(same.send("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length: 2\r\nContent-Length: 2\r\n" +
                        "Connection: close\r\n\r\n{}"));
  EXPECT_EQ(status(same.read_all()), 200);
}

TEST_F(HttpFramingTest, ContentLengthWithTransferEncodingIs400AndClose) {
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson +
                            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson +
                            "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n");
}

TEST_F(HttpFramingTest, AContentLengthThatIsNotANumberIs400) {
  for (const char* length : {"-1", "+2", "2x", "0x2", "2 2"}) {
    SCOPED_TRACE(length);
    expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length: " + length + "\r\n\r\n{}");
  }
  // Still 413 when a valid length is over the limit, however large.
  EXPECT_EQ(status(raw_request(port_, "POST /v1/echo HTTP/1.1\r\n" + kHost + kJson +
                                          "Content-Length: 99999999999999999999999\r\n\r\n{}")), 413);
}

// httplib 0.11 drops a header field whose value is empty: a POST with
// `Content-Length:` had no length, and its body was read as the next request.
TEST_F(HttpFramingTest, AnEmptyContentLengthOrTransferEncodingIs400AndClose) {
  for (const char* value : {"", " ", "\t"}) {
    SCOPED_TRACE(std::string("Content-Length:") + value);
    expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length:" + value + "\r\n\r\n{}");
  }
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding:\r\n\r\n0\r\n\r\n");
}

// httplib 0.11 percent-decodes every header field value: `Content-Length: %32`
// was 2, `%31%38` 18. A length is digits as sent, a coding its name as sent.
TEST_F(HttpFramingTest, ALengthOrCodingIsReadAsSentNotPercentDecoded) {
  for (const char* length : {"%32", "%31%38", "2%2C 2"}) {
    SCOPED_TRACE(length);
    expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Content-Length: " + length + "\r\n\r\n{}");
  }
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding: %63hunked\r\n\r\n0\r\n\r\n", 501);
}

// RFC 9112 5.1, 5.2 and 2.2: a field line is `name:value` with the name a token
// and no whitespace before the colon, and every line of a head ends in CRLF.
// httplib 0.11 kept `Content-Length : 2` under another name (the request had no
// length, and its body became the next request) and skipped the lines it could
// not parse (a folded line, one without a colon or ending in a bare LF), which
// a proxy in front may read otherwise. Each is refused at once.
TEST_F(HttpFramingTest, MalformedHeaderFieldLinesAre400AndClose) {
  const std::string head = "POST /v1/echo HTTP/1.1\r\n" + kHost + kJson;
  for (const std::string& request : {
           head + "Content-Length : 2\r\n\r\n{}",
           head + "Content-Length\t: 2\r\n\r\n{}",
           head + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
           head + "Content-Length: 2\r\nX-Folded: a\r\n b\r\n\r\n{}",
           head + "Content-Length: 2\r\nX-Folded: a\r\n\tb\r\n\r\n{}",
           "POST /v1/echo HTTP/1.1\r\n Content-Length: 2\r\n" + kHost + kJson + "\r\n{}",
           head + "Content-Length: 2\r\nX-No-Colon\r\n\r\n{}",
           head + "Content-Length: 2\r\nGET /v1/items/inner HTTP/1.1\r\n\r\n{}",
           head + "Content-Length: 2\r\n: no name\r\n\r\n{}",
           head + "Content-Length: 2\r\nX(Bad): 1\r\n\r\n{}",
           head + "Content-Length: 2\r\nX-Bare-Lf: 1\n\r\n{}",
           head + "Content-Length: 2\r\n\n{}",
           head + "X-Bare-Cr: a\rb\r\nContent-Length: 2\r\n\r\n{}",
           head + std::string("X-Nul: a\0b\r\n", 12) + "Content-Length: 2\r\n\r\n{}",
       }) {
    SCOPED_TRACE(request);
    expect_refused_and_closed(request);
  }
  auto r = raw_request(port_, "GET /v1/items/x HTTP/1.1\r\n" + kHost + "Content-Length : 0\r\n\r\n");
  EXPECT_EQ(status(r), 400) << r;
  EXPECT_NE(r.find("whitespace between a header field's name and its colon"), std::string::npos) << r;
  // Whitespace around a value is no part of it, and a field may be empty.
  auto ok = raw_request(port_, "POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "X-Empty:\r\nContent-Length:\t2 \t\r\n" +
                                   "Connection: close\r\n\r\n{}");
  EXPECT_EQ(status(ok), 200) << ok;
}

// httplib 0.11 refuses a header field line over 8 KiB with a bare 400, and a
// request line over 8 KiB with 414 (CPPHTTPLIB_HEADER_MAX_LENGTH and
// CPPHTTPLIB_REQUEST_URI_MAX_LENGTH are compiled into Debian's
// libcpp-httplib.so: a #define cannot raise them). The answers say which bound.
TEST_F(HttpFramingTest, AFieldLineOver8KiBIs431AndARequestLineOver8KiBIs414) {
  const std::string name = "X-Long: ";
  const auto field_line = [&](std::size_t size) { return name + std::string(size - name.size() - 2, 'a') + "\r\n"; };
  auto at_bound = raw_request(port_, "GET /v1/items/x HTTP/1.1\r\n" + kHost + field_line(8192) + "Connection: close\r\n\r\n");
  EXPECT_EQ(status(at_bound), 200) << "8192 bytes with the CRLF: " << at_bound.substr(0, 300);
  const std::string over = "GET /v1/items/x HTTP/1.1\r\n" + kHost + field_line(8193) + "\r\n";
  expect_refused_and_closed(over, 431);
  auto r = raw_request(port_, over);
  EXPECT_NE(r.find("a header field line may have at most 8192 bytes"), std::string::npos) << r;

  const auto request_line = [](std::size_t size) {  // "GET /v1/items/<id> HTTP/1.1\r\n"
    return "GET /v1/items/" + std::string(size - 25, 'i') + " HTTP/1.1\r\n";
  };
  auto line_ok = raw_request(port_, request_line(8192) + kHost + "Connection: close\r\n\r\n");
  EXPECT_EQ(status(line_ok), 200) << line_ok.substr(0, 300);
  expect_refused_and_closed(request_line(8193) + kHost + "\r\n", 414);
  auto long_line = raw_request(port_, request_line(8193) + kHost + "\r\n");
  EXPECT_NE(long_line.find("the request line may have at most 8192 bytes"), std::string::npos) << long_line;
}

// A request without a body but with Expect: 100-continue: its handler ran in
// httplib's expectation check, whose answer had no Content-Length (and said
// keep-alive), so the next response ran on after its body.
TEST_F(HttpFramingTest, ExpectContinueWithoutABodyGetsAFramedAnswer) {
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    SCOPED_TRACE(method);
    Client c(port_);
    ASSERT_TRUE(c.send(std::string(method) + " /v1/items/first HTTP/1.1\r\n" + kHost + "Expect: 100-continue\r\n\r\n" +
                       "GET /v1/items/second HTTP/1.1\r\n" + kHost + "Connection: close\r\n\r\n"));
    std::string raw = c.read_all();
    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
    if (raw.rfind(interim, 0) == 0) raw.erase(0, interim.size());  // allowed before the answer
    if (std::string(method) == "HEAD") {  // no body: what follows the head is the next response
      const auto end = raw.find("\r\n\r\n");
      ASSERT_NE(end, std::string::npos) << raw;
      EXPECT_EQ(RawConnection::header_of(raw, "Content-Length"), "14") << raw;
      raw.erase(0, end + 4);
    } else {
      auto responses = split_responses(raw);
      ASSERT_GE(responses.size(), 1u) << raw;
      EXPECT_FALSE(RawConnection::header_of(responses[0], "Content-Length").empty()) << responses[0];
      if (std::string(method) == "GET") {
        EXPECT_NE(responses[0].find("\"id\":\"first\""), std::string::npos) << responses[0];
      }
      raw.erase(0, responses[0].size());
    }
    auto rest = split_responses(raw);
    ASSERT_EQ(rest.size(), 1u) << raw;
    EXPECT_NE(rest[0].find("\"id\":\"second\""), std::string::npos) << rest[0];
    EXPECT_TRUE(c.closed);
  }
}

// Every response after which the connection ends says Connection: close, and
// nothing about keep-alive: HTTP/1.0 requests (httplib closes after them) and
// a close option in any case (RFC 9110 7.6.1: options are case-insensitive).
TEST_F(HttpFramingTest, AResponseAfterWhichTheConnectionEndsSaysConnectionClose) {
  for (const std::string& request : {std::string("GET /v1/items/x HTTP/1.0\r\n\r\n"), "GET /v1/items/x HTTP/1.0\r\n" + kHost + "\r\n",
                                     "GET /v1/items/x HTTP/1.1\r\n" + kHost + "Connection: Close\r\n\r\n",
                                     "GET /v1/items/x HTTP/1.1\r\n" + kHost + "Connection: TE, CLOSE\r\n\r\n"}) {
    SCOPED_TRACE(request);
    Client c(port_);
    ASSERT_TRUE(c.send(request + "GET /v1/items/next HTTP/1.1\r\n" + kHost + "\r\n"));
    auto responses = split_responses(c.read_all());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(status(responses[0]), 200) << responses[0];
    const auto head = responses[0].substr(0, responses[0].find("\r\n\r\n") + 2);
    EXPECT_EQ(count_of(head, "\r\nConnection: close\r\n"), 1u) << head;
    EXPECT_EQ(count_of(head, "\r\nKeep-Alive:"), 0u) << head;
    EXPECT_TRUE(c.closed);
  }
}

TEST_F(HttpFramingTest, UnknownTransferCodingsAre501AndBadChunkSizes400AtOnce) {
  for (const char* coding : {"gzip, chunked", "identity", "chunked, gzip"}) {
    SCOPED_TRACE(coding);
    expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding: " + coding + "\r\n\r\n0\r\n\r\n",
                              501);
  }
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n");
  for (const char* size : {"-5", "+2", " 2", "0x2", "zz", "2\n{}"}) {
    SCOPED_TRACE(size);
    expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding: chunked\r\n\r\n" + size +
                              "\r\n{}\r\n0\r\n\r\n");
  }
  // A size over the body limit, however many digits, is 413 before its data.
  expect_refused_and_closed("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding: chunked\r\n\r\n" +
                            "FFFFFFFFFFFFFFFFFFFF\r\nab", 413);
  // Chunk extensions, upper-case hex and trailers are valid.
  Client ok(port_);
  ASSERT_TRUE(ok.send("POST /v1/echo HTTP/1.1\r\n" + kHost + kJson + "Transfer-Encoding: Chunked\r\n\r\n" +
                      "2;name=value\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n" + "GET /v1/items/next HTTP/1.1\r\n" + kHost +
                      "Connection: close\r\n\r\n"));
  auto responses = split_responses(ok.read_all());
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(status(responses[0]), 200) << responses[0];
  EXPECT_NE(responses[1].find("\"id\":\"next\""), std::string::npos) << responses[1];
}

TEST_F(HttpFramingTest, Http11RequestsNeedExactlyOneHost) {
  auto none = raw_request(port_, "GET /v1/items/x HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status(none), 400) << none;
  EXPECT_EQ(RawConnection::header_of(none, "Content-Type"), "application/problem+json");
  auto two = raw_request(port_, "GET /v1/items/x HTTP/1.1\r\n" + kHost + "Host: evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status(two), 400) << two;
  auto http10 = raw_request(port_, "GET /v1/items/x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status(http10), 200) << "HTTP/1.0 has no Host requirement\n" << http10;
}

TEST_F(HttpFramingTest, RefusalsCarryEachHeaderOnce) {
  // httplib's own refusals (an unparsable request line, a URI over its limit)
  // and ours, with and without the client's Connection: close.
  for (const std::string& request :
       {std::string("GARBAGE\r\n\r\n"), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + kHost + "\r\n",
        "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + kHost + "Connection: close\r\n\r\n",
        "PUT /v1/items/x HTTP/1.1\r\n" + kHost + "Content-Length: 5\r\nConnection: close\r\n\r\nhello"}) {
    Client c(port_);
    ASSERT_TRUE(c.send(request));
    auto r = c.read_all();
    auto head = r.substr(0, r.find("\r\n\r\n") + 2);
    EXPECT_GE(status(r), 400) << r;
    EXPECT_EQ(count_of(head, "\r\nContent-Type:"), 1u) << head;
    EXPECT_EQ(count_of(head, "\r\nConnection: close\r\n"), 1u) << head;
    EXPECT_EQ(count_of(head, "\r\nKeep-Alive:"), 0u) << "Keep-Alive contradicts Connection: close\n" << head;
    EXPECT_TRUE(c.closed) << request.substr(0, 40);
  }
}

// A request head (request line and header fields) is at most 64 KiB and 100
// fields: httplib 0.11 bounds each line (after reading it) but not their
// number, so one connection could make the server store header fields without end.
constexpr std::size_t kMaxHead = 64 * 1024;

// `count` header lines of `line_size` bytes each ("X-Fill-<n>: aaa...\r\n").
std::string fill_headers(std::size_t count, std::size_t line_size = 16) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "X-Fill-" + std::to_string(i) + ": ";
    out += name + std::string(line_size - name.size() - 2, 'a') + "\r\n";
  }
  return out;
}

// A GET of /v1/items/<id> whose head is exactly `head_size` bytes, blank line
// included, padded with lines of at most 4 KB (httplib refuses lines over 8 KiB).
std::string get_with_head_of(std::size_t head_size, const std::string& id, const std::string& extra = {}) {
  std::string head = "GET /v1/items/" + id + " HTTP/1.1\r\n" + kHost + extra;
  const std::string name = "X-Pad: ";
  while (head.size() + 2 < head_size) {
    const std::size_t left = head_size - head.size() - 2;  // before the blank line
    // The last line takes what is left; the one before leaves it at least a minimal line.
    const std::size_t line = left <= 4000 ? left : std::min<std::size_t>(4000, left - 20);
    head += name + std::string(line - name.size() - 2, 'p') + "\r\n";
  }
  return head + "\r\n";
}

TEST_F(HttpFramingTest, TenThousandHeaderFieldsAre431AndClose) {
  const std::string headers = fill_headers(10000);  // 160,000 bytes of 16-byte lines
  expect_refused_and_closed("GET /v1/items/x HTTP/1.1\r\n" + kHost + headers + "\r\n", 431);
  expect_refused_and_closed(post("{}", headers), 431);
  // Answered at the bound, without waiting for the rest or the request deadline.
  Client endless(port_);
  ASSERT_TRUE(endless.send("GET /v1/items/x HTTP/1.1\r\n" + kHost + headers));
  const auto started = std::chrono::steady_clock::now();
  auto r = endless.read_all();
  EXPECT_EQ(status(r), 431) << r.substr(0, 300);
  EXPECT_NE(r.find("at most 65536 bytes and 100 fields"), std::string::npos) << r;
  EXPECT_TRUE(endless.closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
}

TEST_F(HttpFramingTest, ALongRequestLineOrOneEndlessHeaderLineIs431) {
  // httplib reads a whole line before it checks its length (8 KiB).
  expect_refused_and_closed("GET /v1/items/" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\n" + kHost + "\r\n", 431);
  expect_refused_and_closed("GET /v1/items/x HTTP/1.1\r\n" + kHost + "X-Long: " + std::string(100 * 1024, 'a') + "\r\n\r\n",
                            431);
  // Lines ending in a bare LF (which httplib skipped) are refused at the first
  // (MalformedHeaderFieldLinesAre400AndClose).
  std::string bare;
  for (int i = 0; i < 10000; ++i) bare += "X-Bare: 1\n";
  expect_refused_and_closed("GET /v1/items/x HTTP/1.1\r\n" + kHost + bare + "\r\n", 400);
}

TEST_F(HttpFramingTest, AHeadOfExactlyTheBoundIsServedOneByteMoreIs431) {
  const std::string at_bound = get_with_head_of(kMaxHead, "at", "Connection: close\r\n");
  ASSERT_EQ(at_bound.size(), kMaxHead);
  auto ok = raw_request(port_, at_bound);
  EXPECT_EQ(status(ok), 200) << ok.substr(0, 300);
  EXPECT_NE(ok.find("\"id\":\"at\""), std::string::npos) << ok.substr(0, 300);
  expect_refused_and_closed(get_with_head_of(kMaxHead + 1, "over"), 431);
}

TEST_F(HttpFramingTest, AHundredHeaderFieldsAreServedOneMoreIs431) {
  // Host, 98 fields of 600 bytes (58.8 KB) and Connection: 100 fields.
  Client c(port_);
  ASSERT_TRUE(c.send("GET /v1/items/many HTTP/1.1\r\n" + kHost + fill_headers(98, 600) + "Connection: close\r\n\r\n"));
  auto r = c.read_all();
  EXPECT_EQ(status(r), 200) << "100 header fields, 59 KB: " << r.substr(0, 300);
  EXPECT_NE(r.find("\"id\":\"many\""), std::string::npos) << r.substr(0, 300);
  expect_refused_and_closed("GET /v1/items/x HTTP/1.1\r\n" + kHost + fill_headers(99) + "Connection: close\r\n\r\n", 431);
}

TEST_F(HttpFramingTest, EachPipelinedRequestHasAHeadBoundOfItsOwnAndBodiesDoNotCount) {
  // Five heads of 60 KiB (300 KiB together), then a POST whose head and body
  // together pass the bound: every one is served.
  std::string requests;
  for (int i = 0; i < 5; ++i) requests += get_with_head_of(60 * 1024, "p" + std::to_string(i));
  const std::string body = "{\"pad\":\"" + std::string(4000, 'b') + "\"}";
  requests += post(body, fill_headers(90, 680) + "Connection: close\r\n");  // a head of 61.3 KB
  Client c(port_);
  ASSERT_TRUE(c.send(requests));
  auto responses = split_responses(c.read_all());
  ASSERT_EQ(responses.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(status(responses[i]), 200) << i << "\n" << responses[i].substr(0, 300);
    EXPECT_NE(responses[i].find("\"id\":\"p" + std::to_string(i) + "\""), std::string::npos) << responses[i].substr(0, 300);
  }
  EXPECT_EQ(status(responses[5]), 200) << responses[5].substr(0, 300);
  EXPECT_EQ(posts_.load(), 1);
}

TEST_F(HttpFramingTest, InventedMethodsShareOneMetricsLabel) {
  for (int i = 0; i < 100; ++i) {
    auto r = raw_request(port_, "BREW" + std::to_string(i) + " /v1/items/x HTTP/1.1\r\n" + kHost + "\r\n");
    ASSERT_EQ(status(r), 501) << r;
  }
  ASSERT_EQ(status(raw_request(port_, "GET /v1/items/x HTTP/1.1\r\n" + kHost + "\r\n")), 200);
  // A request is counted once its answer is written: the client may read it first.
  std::string text;
  EXPECT_TRUE(testing::wait_until([&] {
    text = metrics_.render();
    return text.find("method=\"GET\"") != std::string::npos;
  })) << text;
  EXPECT_EQ(text.find("method=\"BREW"), std::string::npos) << "each invented method became a series of its own";
  EXPECT_EQ(count_of(text, "method=\"other\""), 1u) << text;
}

TEST(HttpFramingRules, ALengthIsClearOrTheRequestIsRefused) {
  using http::framing::check;
  EXPECT_FALSE(check({}, {}));
  EXPECT_FALSE(check({"20"}, {}));
  EXPECT_FALSE(check({"2", "2"}, {})) << "the same value twice";
  EXPECT_FALSE(check({"2, 02"}, {})) << "a list of one number";
  EXPECT_FALSE(check({}, {"chunked"}));
  EXPECT_FALSE(check({}, {"Chunked"})) << "codings are case-insensitive";
  EXPECT_FALSE(check({"99999999999999999999999"}, {})) << "valid, and over any limit (413 later)";
  EXPECT_EQ(check({"2", "20"}, {})->status, 400);
  EXPECT_EQ(check({"2, 20"}, {})->status, 400);
  EXPECT_EQ(check({"2"}, {"chunked"})->status, 400);
  for (std::string_view bad : {"-1", "+1", "1.0", "0x1", "", " "}) EXPECT_EQ(check({bad}, {})->status, 400) << bad;
  EXPECT_EQ(check({}, {"gzip, chunked"})->status, 501);
  EXPECT_EQ(check({}, {"identity"})->status, 501);
  EXPECT_EQ(check({}, {"chunked", "chunked"})->status, 400);
  EXPECT_EQ(check({}, {""})->status, 400);
}

// A chunked body in a buffer: what read_chunked makes of it.
http::framing::ChunkedBody chunked(const std::string& wire, std::string& body, std::size_t limit = 100) {
  httplib::detail::BufferStream in;
  in.write(wire.data(), wire.size());
  body.clear();
  return http::framing::read_chunked(in, limit, body);
}

TEST(HttpFramingRules, ChunkedBodiesAreReadStrictly) {
  using http::framing::ChunkedBody;
  std::string body;
  EXPECT_EQ(chunked("2\r\n{}\r\n0\r\n\r\n", body), ChunkedBody::complete);
  EXPECT_EQ(body, "{}");
  EXPECT_EQ(chunked("1;a=b\r\n{\r\nA ; c\r\n}012345678\r\n000\r\nX-T: 1\r\n\r\n", body), ChunkedBody::complete);
  EXPECT_EQ(body, "{}012345678");
  EXPECT_EQ(chunked("65\r\n", body), ChunkedBody::too_large) << "101 bytes over a limit of 100";
  EXPECT_EQ(chunked("FFFFFFFFFFFFFFFFFFFFFFFF\r\n", body), ChunkedBody::too_large);
  for (std::string bad : {"-5\r\n{}\r\n0\r\n\r\n", "+2\r\n{}\r\n0\r\n\r\n", " 2\r\n{}\r\n0\r\n\r\n",
                          "0x2\r\n{}\r\n0\r\n\r\n", "2 x\r\n{}\r\n0\r\n\r\n", "2\n{}\r\n0\r\n\r\n",
                          "2\r\n{}x\r\n0\r\n\r\n", "2\r\n{}\r\n0\r\n", "2\r\n{", "\r\n"}) {
    EXPECT_EQ(chunked(bad, body), ChunkedBody::malformed) << bad;
  }
}

}  // namespace
}  // namespace etl

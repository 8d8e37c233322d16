// The outbound HTTP client: a stop request ends a call in progress (a slow
// Spotify answer must not hold a shutdown), and a call without one runs to the end;
// bodies over the limit are refused (at the headers when their length is declared);
// a time per KiB of a declared body sets the deadline; an invalid Content-Length
// discards the response; calls made at once keep their connections for the next
// ones.
#include "etl/http_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace etl {
namespace {

using namespace std::chrono_literals;

// An httplib server on a loopback port, serving what `add_routes` installs.
class LocalServer {
 public:
  explicit LocalServer(const std::function<void(httplib::Server&)>& add_routes) {
    add_routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  std::string url(const char* path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// Answers after `delay`.
class SlowServer : public LocalServer {
 public:
  explicit SlowServer(std::chrono::milliseconds delay)
      : LocalServer([delay](httplib::Server& server) {
          server.Get("/slow", [delay](const httplib::Request&, httplib::Response& res) {
            std::this_thread::sleep_for(delay);
            res.set_content("late", "text/plain");
          });
        }) {}
  std::string url() const { return LocalServer::url("/slow"); }
};

TEST(HttpClient, AStopRequestEndsACallInProgress) {
  SlowServer server(3s);
  http::Client client;
  std::stop_source stop;
  http::ClientRequest request;
  request.url = server.url();
  request.stop = stop.get_token();
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  auto response = client.send(request);
  const auto took = std::chrono::steady_clock::now() - started;
  stopper.join();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::cancelled) << response.error().message;
  EXPECT_LT(took, 2s) << "not the server's 3 s";
}

TEST(HttpClient, ACallThatIsNotStoppedRunsToItsAnswer) {
  SlowServer server(300ms);
  http::Client client;
  std::stop_source stop;  // never requested
  http::ClientRequest request;
  request.url = server.url();
  request.stop = stop.get_token();
  auto response = client.send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "late");
}

// Declares `size` bytes (Content-Length) and sends them 1 KiB at a time, `pace`
// between chunks, and once `stall` after the first; /chunked sends `size` bytes
// without a declared length.
class BodyServer : public LocalServer {
 public:
  BodyServer(std::size_t size, std::chrono::milliseconds stall, std::chrono::milliseconds pace = 0ms)
      : LocalServer([=](httplib::Server& server) {
          auto provide = [size, stall, pace](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            if (offset == 1024) std::this_thread::sleep_for(stall);
            if (offset > 0) std::this_thread::sleep_for(pace);
            const std::string chunk(std::min<std::size_t>(1024, size - offset), 'x');
            return sink.write(chunk.data(), chunk.size());
          };
          server.Get("/declared", [=](const httplib::Request&, httplib::Response& res) {
            res.set_content_provider(size, "application/octet-stream", provide);
          });
          server.Get("/chunked", [=](const httplib::Request&, httplib::Response& res) {
            res.set_chunked_content_provider("application/octet-stream",
                                             [size](std::size_t offset, httplib::DataSink& sink) {
                                               if (offset >= size) return sink.done(), true;
                                               const std::string chunk(std::min<std::size_t>(1024, size - offset), 'x');
                                               return sink.write(chunk.data(), chunk.size());
                                             });
          });
        }) {}
};

// The declared length over the limit ends the call at the headers: it does not
// wait for the body the server holds back.
TEST(HttpClient, ADeclaredBodyOverTheLimitIsRefusedAtTheHeaders) {
  BodyServer server(10 << 20, 2s);
  http::Client client;
  http::ClientRequest request;
  request.url = server.url("/declared");
  request.max_response_bytes = 1 << 20;
  const auto started = std::chrono::steady_clock::now();
  auto response = client.send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::too_large);
  EXPECT_NE(response.error().message.find("declares 10485760 bytes"), std::string::npos) << response.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "not the server's 2 s stall";
  // A HEAD's length describes no body: nothing to refuse.
  request.method = "HEAD";
  auto head = client.send(request);
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->header("content-length"), "10485760");
}

TEST(HttpClient, AnUndeclaredBodyIsRefusedOnceItPassesTheLimit) {
  BodyServer server(64 << 10, 0ms);
  http::Client client;
  http::ClientRequest request;
  request.url = server.url("/chunked");
  request.max_response_bytes = 16 << 10;
  auto response = client.send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::too_large);
  EXPECT_NE(response.error().message.find("exceeds 16384 bytes"), std::string::npos) << response.error().message;
  request.max_response_bytes = 64 << 10;
  auto whole = client.send(request);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole->body.size(), 64u << 10);
}

// With a time per KiB the deadline is the timeout plus the declared body's share:
// a body slower than the timeout alone arrives, a stalled one times out at that
// deadline, not at what the largest allowed body would take, and an answer
// whose headers do not come times out at the timeout.
TEST(HttpClient, ADeclaredLengthSetsTheDeadline) {
  http::Client client;
  http::ClientRequest request;
  request.timeout = 100ms;
  request.timeout_per_kib = 20ms;  // 20 KiB declared: 500 ms in all; 1 GiB allowed would be 6 h
  BodyServer paced(20 << 10, 0ms, 10ms);  // about 200 ms
  request.url = paced.url("/declared");
  auto whole = client.send(request);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole->body.size(), 20u << 10);

  BodyServer stalled(20 << 10, 2500ms);
  request.url = stalled.url("/declared");
  const auto started = std::chrono::steady_clock::now();
  auto response = client.send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::timeout) << response.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2200ms) << "not the server's 2.5 s stall";

  // No headers yet, no length: the timeout alone, not the largest body's time.
  SlowServer silent(2s);
  request.url = silent.url();
  const auto asked = std::chrono::steady_clock::now();
  auto late = client.send(request);
  ASSERT_FALSE(late.ok()) << "answered after " << late->body;
  EXPECT_EQ(late.error().code, Errc::timeout) << late.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 1800ms) << "not the server's 2 s";
}

// Answers every connection with the same bytes, whatever was asked, and closes it:
// for answers no HTTP library would send.
class CannedServer {
 public:
  explicit CannedServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/x"; }

 private:
  void serve() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      (void)::send(client, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }
  std::string answer_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A Content-Length that is not one decimal number frames no body (RFC 9112 §6.3):
// the response is discarded with an error, at once. libcurl alone
// reads "1e3" as 1 and "5, 7" as 5, and the call returned a cut body as if whole.
TEST(HttpClient, AResponseWithAnInvalidContentLengthIsDiscarded) {
  http::Client client;
  http::ClientRequest request;
  request.timeout = 2s;
  request.timeout_per_kib = 1ms;
  request.max_response_bytes = 1 << 20;
  auto answer = [](const std::string& headers) { return "HTTP/1.1 200 OK\r\n" + headers + "\r\nhello"; };
  for (const char* headers : {"Content-Length: 1e3\r\n", "Content-Length: 5, 7\r\n", "Content-Length: abc\r\n",
                              "Content-Length: -5\r\n", "Content-Length: +5\r\n", "Content-Length:\r\n",
                              "Content-Length: 5\r\nContent-Length: 9\r\n"}) {
    CannedServer server(answer(headers));
    request.url = server.url();
    const auto started = std::chrono::steady_clock::now();
    auto response = client.send(request);
    if (response.ok()) {
      ADD_FAILURE() << headers << " answered " << response->status << " with \"" << response->body << "\"";
      continue;
    }
    EXPECT_EQ(response.error().code, Errc::unavailable) << headers << response.error().message;
    // Some (abc, -5, none) libcurl refuses itself, before our header check.
    const std::string& why = response.error().message;
    EXPECT_TRUE(why.find("invalid Content-Length") != std::string::npos || why.find("Weird server reply") != std::string::npos)
        << headers << why;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << headers;
  }
  // The same length repeated frames the body as one would.
  for (const char* headers : {"Content-Length: 5, 5\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n"}) {
    CannedServer server(answer(headers));
    request.url = server.url();
    auto response = client.send(request);
    ASSERT_TRUE(response.ok()) << headers << response.error().message;
    EXPECT_EQ(response->body, "hello");
  }
  // A length past 2^64 - 1 declares more than any limit: refused at the headers.
  CannedServer huge(answer("Content-Length: 18446744073709551616\r\n"));
  request.url = huge.url();
  auto refused = client.send(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::too_large) << refused.error().message;
}


// A store's calls run on as many threads as its service allows at once
// (ETL_TRANSFORM_CONCURRENCY up to 256), and each call's connection stays with
// its handle. The pool kept at most 16 idle handles, so past 16 threads every
// round of calls closed the extra connections and opened new ones: a TCP (and,
// on S3, a TLS) handshake per request. Now it keeps as many as were ever busy at
// once, and 32 threads making 10 calls each need about 32 connections.
TEST(HttpClient, CallsMadeAtOnceKeepTheirConnectionsForTheNextOnes) {
  constexpr int kThreads = 32, kCalls = 10;
  std::mutex mutex;
  std::set<int> ports;  // one per connection the server accepted
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kThreads + 8); };  // a kept-alive connection holds a thread
  server.set_keep_alive_max_count(1000);
  std::atomic<int> listening{-1};
  server.set_socket_options([&](int fd) { listening = fd; });
  server.Get("/n", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mutex);
      ports.insert(req.remote_port);
    }
    std::this_thread::sleep_for(20ms);  // the calls overlap
    res.set_content("ok", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  ::listen(listening, 128);  // httplib's backlog of 5 would hold most connects for a SYN retry of 1 s
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(1ms);

  std::atomic<int> failures{0};
  {
    http::Client client;
    std::barrier round(kThreads);  // as a batch's step: every call of a round ends before the next round starts
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&] {
        http::ClientRequest request;
        request.url = "http://127.0.0.1:" + std::to_string(port) + "/n";
        request.timeout = 10s;
        for (int i = 0; i < kCalls; ++i) {
          auto response = client.send(request);
          if (!response.ok() || response->status != 200) failures.fetch_add(1);
          round.arrive_and_wait();
        }
      });
    for (auto& t : threads) t.join();
  }  // the client's connections close: the server's threads are not left waiting on them
  server.stop();
  serving.join();

  EXPECT_EQ(failures.load(), 0);
  std::lock_guard lock(mutex);
  EXPECT_LE(ports.size(), static_cast<std::size_t>(kThreads + 4)) << "connections for " << kThreads * kCalls << " calls";
}

}  // namespace
}  // namespace etl

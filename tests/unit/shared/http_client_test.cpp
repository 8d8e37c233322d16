// The outbound HTTP client: a stop request ends a call in progress (a slow
// Spotify answer must not hold a shutdown), and a call without one runs to the end.
#include "etl/http_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

namespace etl {
namespace {

using namespace std::chrono_literals;

// Answers after `delay`.
class SlowServer {
 public:
  explicit SlowServer(std::chrono::milliseconds delay) {
    server_.Get("/slow", [delay](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(delay);
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~SlowServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/slow"; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
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

}  // namespace
}  // namespace etl

// Small helpers shared by the tests: temporary folders, waiting on a condition
// (never on a bare sleep), and an HTTP client for calling services.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "etl/http_client.h"

namespace etl::testing {

// A fresh folder under $TMPDIR, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "spotify-etl-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string url() const { return "file://" + path_.string(); }
  std::string url(const std::string& sub) const { return "file://" + (path_ / sub).string(); }

 private:
  std::filesystem::path path_;
};

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                       std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string location;  // the Location header
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One call over real HTTP; `token` adds a bearer header.
inline HttpResult call(const std::string& method, const std::string& url, const std::string& body = {},
                       const std::string& token = {}, const std::string& accept = {}) {
  static etl::http::Client client;
  etl::http::ClientRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  if (!accept.empty()) req.headers.emplace_back("Accept", accept);
  auto res = client.send(req);
  if (!res) return HttpResult{0, res.error().message, "", ""};
  return HttpResult{res->status, res->body, res->header("content-type"), res->header("location")};
}

}  // namespace etl::testing

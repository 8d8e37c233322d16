// A fake AWS JSON 1.1 endpoint (Glue / Athena) on a real HTTP server (httplib):
// every request is recorded (target, headers, body); answers come from a handler
// per X-Amz-Target; faults (ThrottlingException, 500s, ...) are injected by a
// predicate before the handler runs.
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/config.h"

namespace etl::testing {

struct AwsRequest {
  std::string target;                          // "AmazonAthena.StartQueryExecution"
  std::string op;                              // "StartQueryExecution"
  std::map<std::string, std::string> headers;  // names lower-cased
  nlohmann::json body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct AwsAnswer {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

inline AwsAnswer aws_error(int status, const std::string& type, const std::string& message) {
  return {status, {{"__type", "com.amazonaws.fake#" + type}, {"message", message}}};
}

class FakeAws {
 public:
  using Handler = std::function<AwsAnswer(const AwsRequest&)>;
  using FaultRule = std::function<std::optional<AwsAnswer>(const AwsRequest&)>;

  FakeAws() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("the fake AWS endpoint could not bind a port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeAws() {
    server_.stop();
    thread_.join();
  }
  FakeAws(const FakeAws&) = delete;
  FakeAws& operator=(const FakeAws&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  AwsConfig aws_config() const {
    AwsConfig aws;
    aws.region = "us-east-1";
    aws.access_key_id = "AKIDFAKE";
    aws.secret_access_key = "fake/secret+key";
    aws.endpoint_url = url();
    return aws;
  }

  void on(const std::string& op, Handler handler) {
    std::lock_guard lock(mutex_);
    handlers_[op] = std::move(handler);
  }
  void set_fault(FaultRule rule) {
    std::lock_guard lock(mutex_);
    fault_ = std::move(rule);
  }
  std::vector<AwsRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count(const std::string& op) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : requests_) n += r.op == op;
    return n;
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    AwsRequest r;
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = v;
    }
    r.target = r.header("x-amz-target");
    r.op = r.target.substr(r.target.find('.') + 1);
    r.body = nlohmann::json::parse(req.body, nullptr, false);
    Handler handler;
    FaultRule fault;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
      fault = fault_;
      auto it = handlers_.find(r.op);
      if (it != handlers_.end()) handler = it->second;
    }
    AwsAnswer answer = aws_error(400, "UnknownOperationException", "no handler for " + r.op);
    if (auto injected = fault ? fault(r) : std::nullopt) answer = *injected;
    else if (handler) answer = handler(r);
    res.status = answer.status;
    res.set_content(answer.body.dump(), "application/x-amz-json-1.1");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<std::string, Handler> handlers_;
  FaultRule fault_;
  std::vector<AwsRequest> requests_;
};

}  // namespace etl::testing

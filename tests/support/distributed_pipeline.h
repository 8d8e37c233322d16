// The pipeline as separate processes (`extractor`, `transformer`, `cataloger`)
// over a real Kafka broker and MinIO, for the distributed integration tests:
// each Pipeline has its own topics, raw prefix and transformed folder, so tests
// sharing the servers never see each other's events or objects.
#pragma once

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "etl/config.h"
#include "etl/object_store.h"
#include "fake_spotify.h"
#include "private_servers.h"
#include "test_support.h"

namespace etl::testing {

inline std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline std::string random_suffix() {
  std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng() % 1000000000ull);
}

// Where a test's Kafka broker and MinIO are: the ETL_TEST_* variables of scripts/README.md.
struct TestServers {
  std::string kafka_bootstrap;
  std::string s3_endpoint, s3_access_key, s3_secret_key, s3_region, s3_bucket;

  static TestServers from(const std::map<std::string, std::string>& vars) {
    auto get = [&](const char* name) {
      auto it = vars.find(name);
      return it == vars.end() ? std::string() : it->second;
    };
    return {get("ETL_TEST_KAFKA_BOOTSTRAP"), get("ETL_TEST_S3_ENDPOINT"), get("ETL_TEST_S3_ACCESS_KEY"),
            get("ETL_TEST_S3_SECRET_KEY"),   get("ETL_TEST_S3_REGION"),   get("ETL_TEST_S3_BUCKET")};
  }
  // The servers this test process was given (scripts/test.sh loads the shared envfile).
  static TestServers from_environment() {
    std::map<std::string, std::string> vars;
    for (const char* name : {"ETL_TEST_KAFKA_BOOTSTRAP", "ETL_TEST_S3_ENDPOINT", "ETL_TEST_S3_ACCESS_KEY",
                             "ETL_TEST_S3_SECRET_KEY", "ETL_TEST_S3_REGION", "ETL_TEST_S3_BUCKET"})
      vars[name] = env_or_empty(name);
    return from(vars);
  }

  bool has_kafka_and_s3() const { return !kafka_bootstrap.empty() && !s3_endpoint.empty(); }

  AwsConfig aws() const {
    AwsConfig aws;
    aws.region = s3_region;
    aws.access_key_id = s3_access_key;
    aws.secret_access_key = s3_secret_key;
    aws.endpoint_url_s3 = s3_endpoint;
    return aws;
  }
};

struct PipelineOptions {
  std::string raw_topic;  // empty: a topic of its own
  // The processes, each a service binary; "transformer.2" is a second `transformer`.
  std::vector<std::string> processes = {"extractor", "transformer", "cataloger"};
  std::map<std::string, std::string> env;  // added to (and overriding) every process's environment
};

// One pipeline: its processes share topics (unique per pipeline) and stores.
class Pipeline {
 public:
  Pipeline(const TempDir& dir, const fakespotify::FakeSpotifyServer& spotify, std::string raw_topic = {})
      : Pipeline(dir, spotify, TestServers::from_environment(), options_with_topic(std::move(raw_topic))) {}

  Pipeline(const TempDir& dir, const fakespotify::FakeSpotifyServer& spotify, const TestServers& servers,
           const PipelineOptions& options)
      : servers_(servers) {
    suffix_ = random_suffix();
    raw_prefix_ = "e2e-" + suffix_ + "/raw";
    env_ = {{"ETL_BUS", "kafka"},
            {"ETL_KAFKA_BOOTSTRAP_SERVERS", servers.kafka_bootstrap},
            {"ETL_TOPIC_RAW", options.raw_topic.empty() ? "spotify.raw." + suffix_ : options.raw_topic},
            {"ETL_TOPIC_TRANSFORMED", "spotify.transformed." + suffix_},
            {"ETL_TOPIC_DLQ", "spotify.dlq." + suffix_},
            {"ETL_RAW_URL", "s3://" + servers.s3_bucket + "/" + raw_prefix_},
            // The cataloger's DuckDB reads transformed files from a local folder (a shared volume).
            {"ETL_TRANSFORMED_URL", dir.url("transformed-" + suffix_)},
            {"AWS_ENDPOINT_URL_S3", servers.s3_endpoint},
            {"AWS_ACCESS_KEY_ID", servers.s3_access_key},
            {"AWS_SECRET_ACCESS_KEY", servers.s3_secret_key},
            {"AWS_REGION", servers.s3_region},
            {"SPOTIFY_API_URL", spotify.api_url()},
            {"SPOTIFY_ACCOUNTS_URL", spotify.accounts_url()},
            {"SPOTIFY_CLIENT_ID", fakespotify::FakeSpotifyOptions{}.client_id},
            {"SPOTIFY_CLIENT_SECRET", fakespotify::FakeSpotifyOptions{}.client_secret},
            {"ETL_KAFKA_SESSION_TIMEOUT_MS", "10000"},
            {"ETL_LOG_LEVEL", "warn"}};
    for (const auto& [k, v] : options.env) env_[k] = v;
    transformed_dir_ = (dir.path() / ("transformed-" + suffix_)).string();
    for (const std::string& name : options.processes) {
      const std::string binary = name.substr(0, name.find('.'));
      std::string var = binary == "extractor"     ? "ETL_EXTRACTOR_ADDR"
                        : binary == "transformer" ? "ETL_TRANSFORMER_ADDR"
                                                  : "ETL_CATALOGER_ADDR";
      int port = free_port();
      auto env = env_;
      env[var] = "127.0.0.1:" + std::to_string(port);
      urls_[name] = "http://127.0.0.1:" + std::to_string(port);
      processes_[name] = std::make_unique<ChildProcess>(std::string(ETL_BIN_DIR) + "/" + binary,
                                                        std::vector<std::string>{}, env,
                                                        (dir.path() / (name + "-" + suffix_ + ".log")).string());
    }
  }

  // SIGTERM lets each consumer leave its group at once; a SIGKILLed member would
  // hold the shared groups' rebalances until its session times out.
  ~Pipeline() {
    for (auto& [name, p] : processes_) p->kill(SIGTERM);
    for (auto& [name, p] : processes_) p->wait_exit(std::chrono::seconds(10));
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Starts every process and waits until each answers /readyz with 200.
  bool start() {
    for (auto& [name, p] : processes_)
      if (!p->start()) return false;
    return wait_until([&] {
      for (const auto& [name, url] : urls_)
        if (call("GET", url + "/readyz").status != 200) return false;
      return true;
    }, std::chrono::seconds(60), std::chrono::milliseconds(100));
  }

  std::string logs() const {
    std::string out;
    for (const auto& [name, p] : processes_) out += "--- " + name + "\n" + p->log();
    return out;
  }

  const std::string& url(const std::string& process) const { return urls_.at(process); }
  ChildProcess& process(const std::string& name) { return *processes_.at(name); }
  // The services' environment (without their listen addresses).
  const std::map<std::string, std::string>& env() const { return env_; }
  const std::string& raw_prefix() const { return raw_prefix_; }
  // The local folder ETL_TRANSFORMED_URL names.
  const std::string& transformed_dir() const { return transformed_dir_; }
  const TestServers& servers() const { return servers_; }

  // The raw store as the services see it (the same bucket and prefix).
  Result<std::unique_ptr<ObjectStore>> raw_store() const { return open_object_store(env_.at("ETL_RAW_URL"), servers_.aws()); }

  // The single number a one-row, one-column query answers through the cataloger; -1 on any failure.
  long long count(const std::string& sql) {
    auto r = call("POST", url("cataloger") + "/v1/query", nlohmann::json{{"sql", sql}}.dump());
    auto body = r.json();
    if (r.status != 200 || !body.is_object() || body["rows"].size() != 1) return -1;
    return body["rows"][0][0].get<long long>();
  }

 private:
  static PipelineOptions options_with_topic(std::string raw_topic) {
    PipelineOptions options;
    options.raw_topic = std::move(raw_topic);
    return options;
  }

  TestServers servers_;
  std::string suffix_, raw_prefix_, transformed_dir_;
  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> urls_;
  std::map<std::string, std::unique_ptr<ChildProcess>> processes_;
};

}  // namespace etl::testing

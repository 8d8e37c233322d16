// The real S3 server of the test scripts (MinIO from scripts/test-servers.sh), read
// from ETL_TEST_S3_* only: never from the AWS_* variables of whoever runs the tests.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>

#include "etl/config.h"

namespace etl::testing {

struct S3TestServer {
  AwsConfig aws;
  std::string bucket;
};

inline std::optional<S3TestServer> s3_test_server() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  S3TestServer server;
  server.aws.endpoint_url_s3 = env("ETL_TEST_S3_ENDPOINT");
  server.aws.access_key_id = env("ETL_TEST_S3_ACCESS_KEY");
  server.aws.secret_access_key = env("ETL_TEST_S3_SECRET_KEY");
  server.aws.region = env("ETL_TEST_S3_REGION").empty() ? "us-east-1" : env("ETL_TEST_S3_REGION");
  server.bucket = env("ETL_TEST_S3_BUCKET");
  if (server.aws.endpoint_url_s3.empty() || server.bucket.empty() || server.aws.access_key_id.empty() ||
      server.aws.secret_access_key.empty())
    return std::nullopt;
  return server;
}

// "<what>-<pid>-<time>-<random>-<n>": a prefix no other test or run shares.
inline std::string unique_s3_prefix(const std::string& what) {
  static std::atomic<int> counter{0};
  static const std::string run = [] {
    std::random_device rd;
    return std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::system_clock::now().time_since_epoch() / std::chrono::milliseconds(1)) + "-" +
           std::to_string(rd() % 100000);
  }();
  return what + "-" + run + "-" + std::to_string(counter++);
}

}  // namespace etl::testing

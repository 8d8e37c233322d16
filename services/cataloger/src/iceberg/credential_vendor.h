// Vended credentials for the Iceberg REST catalog (ETL_ICEBERG_VENDED_CREDENTIALS=sts):
// a client that loads a table with `X-Iceberg-Access-Delegation: vended-credentials`
// gets short-lived S3 credentials that read that table's prefix and nothing else,
// so readers need no S3 keys of their own. They come from STS AssumeRole of
// ETL_ICEBERG_VENDED_ROLE_ARN, signed with the cataloger's own credentials, with
// a session policy (`read_policy`) that allows GetObject under the table's prefix
// and ListBucket of that prefix only: never a write, never another table.
//
// Each table's credentials are reused until two thirds of their lifetime has
// passed, and only while kMinLeftToHandOut is left, so a flood of loads costs at
// most one STS call per table and period.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "etl/aws_credentials.h"
#include "etl/config.h"
#include "etl/result.h"

namespace etl::cataloger::iceberg {

// The least life credentials are handed out with (clients that refresh renew
// theirs a few minutes before expiry: Iceberg Java 5 minutes).
inline constexpr std::chrono::minutes kMinLeftToHandOut{10};

// The session policy: read `bucket`/`table_prefix` (which ends with '/').
std::string read_policy(const std::string& bucket, const std::string& table_prefix);

// The keys Iceberg clients read from a LoadTableResult's config (PyIceberg's and
// Iceberg Java's names), for credentials valid under `endpoint` ("" = AWS itself).
nlohmann::json client_config(const aws::ExpiringCredentials& credentials, const std::string& region,
                             const std::string& endpoint);

class CredentialVendor final {
 public:
  using Exchange = std::function<Result<aws::ExpiringCredentials>(const aws::AssumeRoleOptions&)>;

  // invalid_argument when the transformed store is not s3:// or the cataloger has
  // no AWS credentials to sign with. `exchange` replaces the STS call (tests).
  static Result<std::unique_ptr<CredentialVendor>> open(const Config& config, Exchange exchange = {});

  // The LoadTableResult fields for `table`: {"config": {...}, "storage-credentials":
  // [{"prefix": "s3://bucket/<prefix>/<table>/", "config": {...}}]}. unavailable or
  // unauthorized (with STS's reason) when no credentials can be had.
  Result<nlohmann::json> vend(const std::string& table);

 private:
  CredentialVendor() = default;
  struct Cached {
    aws::ExpiringCredentials credentials;
    std::chrono::system_clock::time_point renew_at;
  };

  std::string bucket_;
  std::string prefix_;    // "" or "<prefix>/"
  std::string region_;
  std::string endpoint_;  // the S3 endpoint clients are told ("" on AWS)
  aws::AssumeRoleOptions base_;
  std::shared_ptr<aws::CredentialsProvider> signer_;
  Exchange exchange_;
  std::mutex mutex_;  // held across an STS call: one exchange at a time
  std::map<std::string, Cached> cache_;
};

}  // namespace etl::cataloger::iceberg

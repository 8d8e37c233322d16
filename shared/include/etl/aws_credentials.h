// Where the AWS clients (the S3 store, Glue, Athena) get the credentials they sign
// with, decided as the AWS SDKs decide it: static keys (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) win; without them, a web identity
// (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, which EKS injects for IRSA) is
// exchanged for temporary credentials with STS AssumeRoleWithWebIdentity, and
// exchanged again before they expire, so long-running services outlive any one
// set. Instance profiles, ECS container credentials, SSO and ~/.aws files are out
// of scope.
//
// Errors never hold a secret, an access key id or the web identity token.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "etl/config.h"
#include "etl/http_client.h"
#include "etl/result.h"
#include "etl/sigv4.h"

namespace etl::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  CredentialsProvider(const CredentialsProvider&) = delete;
  CredentialsProvider& operator=(const CredentialsProvider&) = delete;

  // The credentials to sign one request with; ask again for the next request (cheap
  // while cached). Safe from many threads. Errors: unauthorized when the identity is
  // refused or unusable (STS 4xx, an unreadable token file), unavailable / timeout
  // when STS cannot be reached or keeps failing.
  virtual Result<AwsCredentials> credentials() = 0;
  // For logs and messages: "static keys", "web identity (role ..., STS at ...)".
  virtual std::string describe() const = 0;

 protected:
  CredentialsProvider() = default;
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials credentials) : credentials_(std::move(credentials)) {}
  Result<AwsCredentials> credentials() override { return credentials_; }
  std::string describe() const override { return "static keys"; }

 private:
  const AwsCredentials credentials_;
};

// Temporary credentials and the moment they stop working.
struct ExpiringCredentials {
  AwsCredentials credentials;
  std::chrono::system_clock::time_point expiration;
};

struct WebIdentityOptions {
  std::string role_arn;      // AWS_ROLE_ARN
  std::string token_file;    // AWS_WEB_IDENTITY_TOKEN_FILE: read again on every exchange (kubelet rotates it)
  std::string session_name;  // AWS_ROLE_SESSION_NAME; "" = "spotify-etl-<ms since the epoch>"
  std::string sts_endpoint;  // http(s)://host[:port][/path]: sts_endpoint_url(), or a test server
  std::chrono::seconds refresh_ahead{300};       // exchange again this long before expiry (at most half the lifetime)
  std::chrono::seconds retry_after_failure{10};  // while the old credentials hold, the pause between failed exchanges
  int max_attempts = 3;                          // per exchange: 5xx, throttling, IdP trouble, network errors
  std::chrono::milliseconds retry_base{200};     // first backoff (jittered), doubled per attempt
  std::chrono::milliseconds retry_cap{2000};     // longest single backoff
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  std::function<std::chrono::system_clock::time_point()> clock;  // empty: the system clock (tests set one)
};

// STS AssumeRoleWithWebIdentity (an unsigned Query API call) with the token from
// the file, cached. Refresh policy: cached credentials are handed out until
// `refresh_ahead` before their expiry; from then on the first caller exchanges
// the token again while other callers keep signing with the current credentials;
// if that exchange fails and the current credentials have not expired, they are
// kept (the failure is logged, the next try waits `retry_after_failure`). Only
// without usable credentials does a caller wait for STS, and an exchange that
// failed while it waited is its answer too (no pile-up on a broken STS).
class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  // invalid_argument without a role, a token file, or with a malformed endpoint.
  // Makes no call: the first credentials() does.
  static Result<std::shared_ptr<WebIdentityCredentialsProvider>> create(WebIdentityOptions options);

  Result<AwsCredentials> credentials() override;
  std::string describe() const override;

  const std::string& role_arn() const { return options_.role_arn; }
  const std::string& session_name() const { return options_.session_name; }
  const std::string& endpoint() const { return endpoint_; }  // scheme://host[:port][/path]

 private:
  explicit WebIdentityCredentialsProvider(WebIdentityOptions options);
  std::chrono::system_clock::time_point now() const;
  Result<ExpiringCredentials> exchange();
  Error failure(std::string what, Errc code, int attempts) const;

  WebIdentityOptions options_;
  std::string endpoint_;
  http::Client client_;

  std::mutex refresh_mutex_;  // one exchange at a time; held while STS is called
  std::mutex mutex_;          // guards what follows; never held while STS is called
  std::optional<ExpiringCredentials> cached_;  // secret: never logged
  std::chrono::system_clock::time_point refresh_at_{};
  std::chrono::system_clock::time_point next_try_{};  // after a failed refresh with usable credentials
  std::uint64_t exchanges_ = 0;                       // finished exchanges, good or bad
  std::optional<Error> last_error_;                   // of the latest exchange, if it failed
};

// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint
// https://sts.<region>.amazonaws.com (".com.cn" in China).
std::string sts_endpoint_url(const AwsConfig& aws);
// Which AWS_* variable names the STS endpoint, for messages.
std::string sts_endpoint_variable(const AwsConfig& aws);

// Static keys are set (both the key id and the secret).
bool has_static_keys(const AwsConfig& aws);
// No static keys, but a role and a token file: credentials come from STS.
bool uses_web_identity(const AwsConfig& aws);

// The provider for `aws`: static keys when set, else web identity when configured,
// else nullptr (no credentials at all). Web identity providers are shared by every
// client of the process with the same role, token file, session name and endpoint,
// so the S3 stores, Glue and Athena hold one STS session between them.
// invalid_argument for a malformed STS endpoint.
Result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(const AwsConfig& aws);

// <AssumeRoleWithWebIdentityResponse>'s credentials; bad_data when the document is
// malformed or lacks a key id, secret, session token or a parseable expiration.
Result<ExpiringCredentials> parse_assume_role_with_web_identity(std::string_view body);

// STS AssumeRole, signed with the caller's own credentials: short-lived
// credentials of `role_arn`, cut down by the session `policy` (they may do only
// what both the role and the policy allow). For handing a reader access to one
// table's prefix and nothing else (vended credentials).
struct AssumeRoleOptions {
  std::string role_arn;
  std::string session_name;             // 2-64 characters of [A-Za-z0-9+=,.@_-]
  std::string policy;                   // a session policy (IAM JSON); "" = the role's own rights
  std::chrono::seconds duration{900};   // 900 s (STS's least) to the role's maximum
  std::string sts_endpoint;             // sts_endpoint_url()
  std::string region;                   // signing region
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
};
// unauthorized when STS refuses (AccessDenied, a malformed policy), unavailable /
// timeout when it cannot be reached or answers 5xx. One attempt: callers cache.
Result<ExpiringCredentials> assume_role(CredentialsProvider& signer, const AssumeRoleOptions& options);
// <AssumeRoleResponse>'s credentials; bad_data when malformed or incomplete.
Result<ExpiringCredentials> parse_assume_role(std::string_view body);

// An STS <ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>.
struct StsError {
  std::string code;     // "InvalidIdentityToken", "AccessDenied", ...
  std::string message;  // as sent (callers bound it and drop line breaks)
};
std::optional<StsError> parse_sts_error(std::string_view body);

}  // namespace etl::aws

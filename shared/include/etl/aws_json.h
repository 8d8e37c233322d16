// A small client for AWS's JSON 1.1 protocol (Glue, Athena): every operation is
// `POST /` with `Content-Type: application/x-amz-json-1.1` and
// `X-Amz-Target: <prefix>.<Operation>`, signed with SigV4. Throttling, 5xx and
// transport failures are retried with exponential backoff and jitter; what is
// left is a value: the AWS error type (`__type` without its `namespace#`) and
// message, never a credential.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "etl/aws_credentials.h"
#include "etl/config.h"
#include "etl/http_client.h"
#include "etl/result.h"
#include "etl/sigv4.h"

namespace etl::aws {

// Which JSON 1.1 service a client talks to.
struct JsonService {
  std::string signing_name;   // "glue" | "athena": the SigV4 service and the default host's first label
  std::string target_prefix;  // "AWSGlue" | "AmazonAthena": X-Amz-Target is "<prefix>.<Op>"
  std::string display;        // "Glue" | "Athena", for messages
};
JsonService glue_service();
JsonService athena_service();

struct JsonClientOptions {
  int max_attempts = 5;                          // per call, first try included
  std::chrono::milliseconds retry_base{200};     // first backoff (before jitter)
  std::chrono::milliseconds retry_cap{5000};     // longest single backoff
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};
};

// An AWS error reply, as the protocol carries it.
struct ErrorReply {
  std::string type;     // "EntityNotFoundException" (namespace and ':' suffix stripped); "" when none
  std::string message;  // `message` or `Message`, single line, bounded
};

// Reads `__type` / `message` / `Message` from the body, else the `x-amzn-ErrorType` header.
ErrorReply parse_error_reply(std::string_view body, std::string_view error_type_header);
// Worth another try: 429, 5xx, and the throttling / transient types
// (ThrottlingException, TooManyRequestsException, InternalServiceException, ...).
bool is_retryable(int status, std::string_view type);
// What a final AWS error means to our callers: throttling -> rate_limited,
// EntityNotFound / ResourceNotFound -> not_found, AlreadyExists / CrawlerRunning /
// ConcurrentModification -> conflict, credential trouble -> unauthorized,
// AccessDenied -> forbidden, bad input (400) -> invalid_argument, 5xx -> unavailable.
Errc errc_for(int status, std::string_view type);
// "https://glue.<region>.amazonaws.com", or the endpoint override of the service
// (AWS_ENDPOINT_URL_GLUE / _ATHENA), else AWS_ENDPOINT_URL.
std::string endpoint_url_for(const AwsConfig& aws, const JsonService& service);

// One call's outcome once retries are over: the body on success, or the AWS error.
struct Reply {
  int status = 0;
  nlohmann::json body;  // the parsed body (an object; {} when empty)
  ErrorReply error;     // set when status is not 2xx
  int attempts = 1;
  bool ok() const { return status >= 200 && status < 300; }
};

class JsonClient final {
 public:
  // invalid_argument for a malformed endpoint URL (the service's or STS's);
  // unauthorized without credentials (neither static keys nor a web identity).
  // Credentials come from aws::make_credentials_provider and are asked for at
  // every attempt, so temporary ones are renewed under a long-lived client.
  static Result<std::unique_ptr<JsonClient>> create(const AwsConfig& aws, JsonService service,
                                                    JsonClientOptions options = {});
  JsonClient(const JsonClient&) = delete;
  JsonClient& operator=(const JsonClient&) = delete;

  // Sends `op` with `body`, retrying what is retryable. AWS errors come back in the
  // Reply (so callers can branch on `error.type`); transport failures that outlive
  // the retries come back as an Error (unavailable / timeout).
  Result<Reply> send(std::string_view op, const nlohmann::json& body);
  // send(), with any AWS error turned into an Error: "<Service> <Op>: <Type>: <message>".
  Result<nlohmann::json> call(std::string_view op, const nlohmann::json& body);
  // The Error for a failed reply (also what call() returns).
  Error to_error(std::string_view op, const Reply& reply) const;

  const std::string& endpoint() const { return endpoint_; }  // scheme://host[/base], never credentials
  const JsonService& service() const { return service_; }

 private:
  JsonClient() = default;

  JsonService service_;
  JsonClientOptions options_;
  std::shared_ptr<CredentialsProvider> credentials_;  // never null once created
  std::string region_;
  std::string endpoint_;  // scheme://host[:port][/base]
  std::string host_;      // as sent in the Host header
  std::string path_;      // "/" or "/base/"
  http::Client client_;
};

}  // namespace etl::aws

#include "etl/aws_json.h"

#include "aws_endpoint.h"

#include <algorithm>
#include <random>
#include <thread>

#include "etl/log.h"
#include "s3_protocol.h"

namespace etl::aws {
namespace {

using std::chrono::milliseconds;

double unit_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Text from the server, bounded and on one line in our messages.
std::string clean(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 400)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (text.size() > 400) out += "...";
  return out;
}

// "com.amazonaws.glue#EntityNotFoundException" and
// "EntityNotFoundException:http://internal.amazon.com/..." -> "EntityNotFoundException".
std::string bare_type(std::string_view type) {
  if (auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
  if (auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return std::string(type);
}

bool one_of(std::string_view type, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), type) != names.end();
}

}  // namespace

JsonService glue_service() { return {"glue", "AWSGlue", "Glue"}; }
JsonService athena_service() { return {"athena", "AmazonAthena", "Athena"}; }

ErrorReply parse_error_reply(std::string_view body, std::string_view error_type_header) {
  ErrorReply out;
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object()) {
    for (const char* key : {"__type", "code", "Code"})
      if (auto it = doc.find(key); it != doc.end() && it->is_string()) {
        out.type = bare_type(it->get_ref<const std::string&>());
        break;
      }
    for (const char* key : {"message", "Message", "errorMessage"})
      if (auto it = doc.find(key); it != doc.end() && it->is_string()) {
        out.message = clean(it->get_ref<const std::string&>());
        break;
      }
  }
  if (out.type.empty() && !error_type_header.empty()) out.type = bare_type(error_type_header);
  return out;
}

bool is_retryable(int status, std::string_view type) {
  if (status == 429 || status >= 500) return true;
  return one_of(type, {"ThrottlingException", "TooManyRequestsException", "Throttling", "ThrottledException",
                       "RequestLimitExceeded", "ProvisionedThroughputExceededException", "RequestThrottledException",
                       "SlowDown", "InternalServiceException", "InternalServerException", "InternalFailure",
                       "ServiceUnavailable", "ServiceUnavailableException", "OperationTimeoutException",
                       "RequestTimeout", "RequestTimeoutException"});
}

Errc errc_for(int status, std::string_view type) {
  if (status == 429 || one_of(type, {"ThrottlingException", "TooManyRequestsException", "Throttling",
                                     "ThrottledException", "RequestLimitExceeded", "RequestThrottledException",
                                     "ProvisionedThroughputExceededException", "SlowDown"}))
    return Errc::rate_limited;
  if (one_of(type, {"EntityNotFoundException", "ResourceNotFoundException", "CrawlerNotFoundException"}) ||
      status == 404)
    return Errc::not_found;
  if (one_of(type, {"AlreadyExistsException", "ConcurrentModificationException", "CrawlerRunningException",
                    "CrawlerStoppingException", "ConcurrentRunsExceededException", "ResourceInUseException"}) ||
      status == 409)
    return Errc::conflict;
  if (one_of(type, {"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
                    "IncompleteSignatureException", "MissingAuthenticationToken", "ExpiredTokenException",
                    "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"}) ||
      status == 401)
    return Errc::unauthorized;
  if (one_of(type, {"AccessDeniedException", "AccessDenied"}) || status == 403) return Errc::forbidden;
  if (status >= 500 || one_of(type, {"InternalServiceException", "InternalServerException", "ServiceUnavailable",
                                     "ServiceUnavailableException", "OperationTimeoutException"}))
    return Errc::unavailable;
  if (status == 413) return Errc::too_large;
  return Errc::invalid_argument;
}

std::string endpoint_url_for(const AwsConfig& aws, const JsonService& service) {
  const std::string& specific = service.signing_name == "glue" ? aws.endpoint_url_glue : aws.endpoint_url_athena;
  if (!specific.empty()) return specific;
  if (!aws.endpoint_url.empty()) return aws.endpoint_url;
  std::string host = service.signing_name + "." + aws.region + ".amazonaws.com";
  if (aws.region.starts_with("cn-")) host += ".cn";
  return "https://" + host;
}

Result<std::unique_ptr<JsonClient>> JsonClient::create(const AwsConfig& aws, JsonService service,
                                                       JsonClientOptions options) {
  auto credentials = make_credentials_provider(aws);
  if (!credentials) return std::move(credentials).error();
  if (!*credentials)
    return make_error(Errc::unauthorized, "no AWS credentials for " + service.display +
                                              ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN and "
                                              "AWS_WEB_IDENTITY_TOKEN_FILE (web identity, as IRSA sets them; instance "
                                              "profiles are not supported)");
  if (aws.region.empty()) return make_error(Errc::invalid_argument, "AWS_REGION is required for " + service.display);
  if (options.max_attempts < 1) return make_error(Errc::invalid_argument, "max_attempts must be at least 1");
  std::string variable = !(service.signing_name == "glue" ? aws.endpoint_url_glue : aws.endpoint_url_athena).empty()
                             ? "AWS_ENDPOINT_URL_" + std::string(service.signing_name == "glue" ? "GLUE" : "ATHENA")
                             : "AWS_ENDPOINT_URL";
  auto parsed = parse_endpoint_url(endpoint_url_for(aws, service), variable);
  if (!parsed) return std::move(parsed).error();
  std::unique_ptr<JsonClient> client(new JsonClient());
  client->service_ = std::move(service);
  client->options_ = options;
  client->credentials_ = std::move(credentials).value();
  client->region_ = aws.region;
  client->host_ = parsed->host;
  client->path_ = parsed->base_path + "/";
  client->endpoint_ = parsed->scheme + "://" + parsed->host + parsed->base_path;
  return client;
}

Result<Reply> JsonClient::send(std::string_view op, const nlohmann::json& body) {
  const std::string payload = body.is_null() ? std::string("{}") : body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string target = service_.target_prefix + "." + std::string(op);
  const HeaderList own = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", target}};
  http::ClientRequest request;
  request.method = "POST";
  request.url = endpoint_ + "/";
  request.body = payload;
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.request_timeout;
  request.max_response_bytes = 256ull << 20;
  SigningRequest signing{"POST", host_, path_, {}, own, sha256_hex(payload)};

  for (int attempt = 1;; ++attempt) {
    // Asked per attempt: temporary credentials may be renewed between two tries.
    auto credentials = credentials_->credentials();
    if (!credentials) return std::move(credentials).error();
    request.headers = own;
    request.headers.emplace_back("Host", host_);
    try {
      for (auto& header : sigv4_sign(signing, *credentials, region_, service_.signing_name,
                                     std::chrono::system_clock::now(), false))
        request.headers.push_back(std::move(header));
    } catch (const std::exception& e) {
      return make_error(Errc::internal, "signing a " + service_.display + " request failed: " + e.what());
    }
    auto sent = client_.send(request);
    std::string trouble;
    if (sent.ok()) {
      Reply reply;
      reply.status = sent->status;
      reply.attempts = attempt;
      if (reply.ok()) {
        reply.body = sent->body.empty() ? nlohmann::json::object() : nlohmann::json::parse(sent->body, nullptr, false);
        if (reply.body.is_discarded() || !reply.body.is_object())
          return make_error(Errc::unavailable, service_.display + " " + std::string(op) + " at " + endpoint_ +
                                                   " answered HTTP " + std::to_string(reply.status) +
                                                   " with a body that is not a JSON object");
        return reply;
      }
      reply.error = parse_error_reply(sent->body, sent->header("x-amzn-errortype"));
      reply.body = nlohmann::json::object();
      if (!is_retryable(reply.status, reply.error.type) || attempt >= options_.max_attempts) return reply;
      trouble = "HTTP " + std::to_string(reply.status) + (reply.error.type.empty() ? "" : " " + reply.error.type);
    } else {
      // Refused, reset, DNS, a timed-out request: JSON 1.1 reads are idempotent and
      // the writes we send either are (CreateDatabase, StartCrawler) or carry an
      // idempotency token (StartQueryExecution's ClientRequestToken).
      const Errc code = sent.error().code;
      if ((code != Errc::unavailable && code != Errc::timeout) || attempt >= options_.max_attempts) {
        Error error = std::move(sent).error();
        error.message = service_.display + " " + std::string(op) + " at " + endpoint_ + ": " + error.message;
        if (attempt > 1) error.message += " (after " + std::to_string(attempt) + " attempts)";
        return error;
      }
      trouble = sent.error().message;
    }
    const auto delay = s3::backoff_delay(attempt, options_.retry_base, options_.retry_cap, unit_random());
    log::warn("AWS request failed, retrying", {{"service", service_.display},
                                               {"op", op},
                                               {"attempt", attempt},
                                               {"of", options_.max_attempts},
                                               {"delay_ms", delay.count()},
                                               {"error", trouble}});
    std::this_thread::sleep_for(delay);
  }
}

Error JsonClient::to_error(std::string_view op, const Reply& reply) const {
  std::string message = service_.display + " " + std::string(op) + ": ";
  message += reply.error.type.empty() ? "HTTP " + std::to_string(reply.status) : reply.error.type;
  if (!reply.error.message.empty()) message += ": " + reply.error.message;
  if (reply.attempts > 1) message += " (after " + std::to_string(reply.attempts) + " attempts)";
  return make_error(errc_for(reply.status, reply.error.type), std::move(message));
}

Result<nlohmann::json> JsonClient::call(std::string_view op, const nlohmann::json& body) {
  auto reply = send(op, body);
  if (!reply) return std::move(reply).error();
  if (!reply->ok()) return to_error(op, *reply);
  return std::move(reply->body);
}

}  // namespace etl::aws

#include "etl/aws_credentials.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "aws_endpoint.h"
#include "etl/log.h"
#include "s3_protocol.h"
#include "s3_xml.h"

namespace etl::aws {
namespace {

using namespace std::chrono;

constexpr std::uintmax_t kMaxTokenBytes = 1u << 20;  // STS takes 20,000 characters; a projected token is ~1 KB
constexpr std::uint64_t kMaxReplyBytes = 1u << 20;

double unit_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Text from STS, on one line and bounded, with the token cut out should it ever be echoed.
std::string clean(std::string text, const std::string& token) {
  if (!token.empty())
    for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at))
      text.replace(at, token.size(), "<token>");
  std::string out;
  for (char c : std::string_view(text).substr(0, 300))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (text.size() > 300) out += "...";
  return out;
}

// STS or the identity provider is having trouble: worth waiting out.
bool is_transient(int status, std::string_view code) {
  if (status == 429 || status >= 500) return true;
  for (std::string_view c : {"IDPCommunicationError", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                             "ServiceUnavailable", "InternalFailure"})
    if (code == c) return true;
  return false;
}

// Worth another attempt in the same exchange. InvalidIdentityToken too, as the SDKs
// do: STS may not have the identity provider's newest signing keys yet. If it
// persists, the token is wrong (audience, issuer, trust): unauthorized.
bool is_retryable(int status, std::string_view code) {
  return is_transient(status, code) || code == "InvalidIdentityToken";
}

std::string trim(std::string s) {
  auto space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.back())) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

std::string default_session_name() {
  return "spotify-etl-" + std::to_string(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// "2026-11-21T10:00:00Z", for logs.
std::string iso8601(system_clock::time_point t) {
  std::string d = amz_date(t);  // 20261121T100000Z
  return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + "T" + d.substr(9, 2) + ":" + d.substr(11, 2) +
         ":" + d.substr(13, 2) + "Z";
}

}  // namespace

// ---- documents ------------------------------------------------------------------

namespace {

// The <Credentials> of an AssumeRole* answer whose root is <`root`> and result <`result`>.
Result<ExpiringCredentials> parse_credentials(std::string_view body, const std::string& root, const std::string& result) {
  auto doc = s3::parse_xml(body);
  if (!doc.ok()) return make_error(Errc::bad_data, "the STS answer is not XML: " + doc.error().message);
  if (doc->name != root)
    return make_error(Errc::bad_data, "the STS answer is <" + clean(doc->name, "") + ">, not <" + root + ">");
  const s3::XmlElement* found = doc->child(result);
  const s3::XmlElement* creds = found ? found->child("Credentials") : nullptr;
  if (creds == nullptr) return make_error(Errc::bad_data, "the STS answer has no Credentials");
  ExpiringCredentials out;
  out.credentials.access_key_id = trim(creds->child_text("AccessKeyId"));
  out.credentials.secret_access_key = trim(creds->child_text("SecretAccessKey"));
  out.credentials.session_token = trim(creds->child_text("SessionToken"));
  const std::string expiration = trim(creds->child_text("Expiration"));
  for (const auto& [name, value] : {std::pair{"AccessKeyId", &out.credentials.access_key_id},
                                    std::pair{"SecretAccessKey", &out.credentials.secret_access_key},
                                    std::pair{"SessionToken", &out.credentials.session_token}})
    if (value->empty()) return make_error(Errc::bad_data, std::string("the STS answer has no ") + name);
  auto when = s3::parse_iso8601(expiration);
  if (!when) return make_error(Errc::bad_data, "the STS answer's Expiration '" + clean(expiration, "") +
                                                   "' is not an ISO 8601 UTC time");
  out.expiration = *when;
  return out;
}

}  // namespace

Result<ExpiringCredentials> parse_assume_role_with_web_identity(std::string_view body) {
  return parse_credentials(body, "AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult");
}

Result<ExpiringCredentials> parse_assume_role(std::string_view body) {
  return parse_credentials(body, "AssumeRoleResponse", "AssumeRoleResult");
}

std::optional<StsError> parse_sts_error(std::string_view body) {
  auto doc = s3::parse_xml(body);
  if (!doc.ok()) return std::nullopt;
  const s3::XmlElement* error = doc->name == "Error" ? &*doc : doc->child("Error");
  if (error == nullptr) return std::nullopt;
  return StsError{trim(error->child_text("Code")), error->child_text("Message")};
}

// ---- configuration ---------------------------------------------------------------

std::string sts_endpoint_url(const AwsConfig& aws) {
  if (!aws.endpoint_url_sts.empty()) return aws.endpoint_url_sts;
  if (!aws.endpoint_url.empty()) return aws.endpoint_url;
  const std::string region = aws.region.empty() ? "us-east-1" : aws.region;
  return "https://sts." + region + ".amazonaws.com" + (region.starts_with("cn-") ? ".cn" : "");
}

std::string sts_endpoint_variable(const AwsConfig& aws) {
  if (!aws.endpoint_url_sts.empty()) return "AWS_ENDPOINT_URL_STS";
  if (!aws.endpoint_url.empty()) return "AWS_ENDPOINT_URL";
  return "AWS_REGION";
}

bool has_static_keys(const AwsConfig& aws) { return !aws.access_key_id.empty() && !aws.secret_access_key.empty(); }

bool uses_web_identity(const AwsConfig& aws) {
  return !has_static_keys(aws) && !aws.role_arn.empty() && !aws.web_identity_token_file.empty();
}

Result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(const AwsConfig& aws) {
  if (has_static_keys(aws))
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(
        AwsCredentials{aws.access_key_id, aws.secret_access_key, aws.session_token}));
  if (!uses_web_identity(aws)) return std::shared_ptr<CredentialsProvider>();

  WebIdentityOptions options;
  options.role_arn = aws.role_arn;
  options.token_file = aws.web_identity_token_file;
  options.session_name = aws.role_session_name;
  options.sts_endpoint = sts_endpoint_url(aws);
  if (auto parsed = parse_endpoint_url(options.sts_endpoint, sts_endpoint_variable(aws)); !parsed)
    return std::move(parsed).error();

  // One provider per identity in the process; it lives as long as a client holds it.
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<WebIdentityCredentialsProvider>> registry;
  const std::string key = options.role_arn + '\n' + options.token_file + '\n' + options.session_name + '\n' +
                          options.sts_endpoint;
  std::lock_guard lock(registry_mutex);
  if (auto shared = registry[key].lock()) return std::shared_ptr<CredentialsProvider>(std::move(shared));
  auto created = WebIdentityCredentialsProvider::create(std::move(options));
  if (!created) return std::move(created).error();
  registry[key] = *created;
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  return std::shared_ptr<CredentialsProvider>(std::move(created).value());
}

// ---- web identity ------------------------------------------------------------------

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(WebIdentityOptions options)
    : options_(std::move(options)) {}

Result<std::shared_ptr<WebIdentityCredentialsProvider>> WebIdentityCredentialsProvider::create(
    WebIdentityOptions options) {
  if (options.role_arn.empty())
    return make_error(Errc::invalid_argument, "web identity credentials need a role (AWS_ROLE_ARN)");
  if (options.token_file.empty())
    return make_error(Errc::invalid_argument, "web identity credentials need a token file (AWS_WEB_IDENTITY_TOKEN_FILE)");
  if (options.max_attempts < 1) return make_error(Errc::invalid_argument, "max_attempts must be at least 1");
  auto parsed = parse_endpoint_url(options.sts_endpoint, "the STS endpoint");
  if (!parsed) return std::move(parsed).error();
  if (options.session_name.empty()) options.session_name = default_session_name();
  std::shared_ptr<WebIdentityCredentialsProvider> provider(new WebIdentityCredentialsProvider(std::move(options)));
  provider->endpoint_ = parsed->scheme + "://" + parsed->host + parsed->base_path;
  return provider;
}

std::string WebIdentityCredentialsProvider::describe() const {
  return "web identity (role " + options_.role_arn + ", STS at " + endpoint_ + ")";
}

system_clock::time_point WebIdentityCredentialsProvider::now() const {
  return options_.clock ? options_.clock() : system_clock::now();
}

Error WebIdentityCredentialsProvider::failure(std::string what, Errc code, int attempts) const {
  std::string message = "cannot get AWS credentials for role " + options_.role_arn + " from STS at " + endpoint_ +
                        ": " + std::move(what);
  if (attempts > 1) message += " (after " + std::to_string(attempts) + " attempts)";
  return make_error(code, std::move(message));
}

Result<ExpiringCredentials> WebIdentityCredentialsProvider::exchange() {
  // Read on every exchange: kubelet replaces the projected token well before it expires.
  std::string token;
  {
    std::ifstream in(options_.token_file, std::ios::binary);
    if (!in)
      return failure("cannot read the web identity token file " + options_.token_file +
                         " (AWS_WEB_IDENTITY_TOKEN_FILE): " + std::strerror(errno),
                     Errc::unauthorized, 1);
    token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad())
      return failure("cannot read the web identity token file " + options_.token_file + " (AWS_WEB_IDENTITY_TOKEN_FILE)",
                     Errc::unauthorized, 1);
  }
  if (token.size() > kMaxTokenBytes)
    return failure("the web identity token file " + options_.token_file + " is larger than 1 MiB", Errc::unauthorized, 1);
  token = trim(std::move(token));
  if (token.empty())
    return failure("the web identity token file " + options_.token_file + " is empty", Errc::unauthorized, 1);

  http::ClientRequest request;
  request.method = "POST";
  request.url = endpoint_ + "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = http::query_string({{"Action", "AssumeRoleWithWebIdentity"},
                                     {"Version", "2011-06-15"},
                                     {"RoleArn", options_.role_arn},
                                     {"RoleSessionName", options_.session_name},
                                     {"WebIdentityToken", token}});
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.request_timeout;
  request.max_response_bytes = kMaxReplyBytes;

  for (int attempt = 1;; ++attempt) {
    auto sent = client_.send(request);
    std::string trouble;
    Errc code = Errc::unavailable;
    if (!sent.ok()) {
      // Refused, reset, DNS, timeout: the call changes nothing, so it is safe to repeat.
      code = sent.error().code;
      trouble = sent.error().message;
      if ((code != Errc::unavailable && code != Errc::timeout) || attempt >= options_.max_attempts)
        return failure(std::move(trouble), code, attempt);
    } else if (sent->status >= 200 && sent->status < 300) {
      auto parsed = parse_assume_role_with_web_identity(sent->body);
      if (!parsed) return failure(parsed.error().message, Errc::unavailable, attempt);
      return parsed;
    } else {
      const auto error = parse_sts_error(sent->body);
      const std::string sts_code = error ? clean(error->code, token) : std::string();
      trouble = "HTTP " + std::to_string(sent->status) + (sts_code.empty() ? "" : " " + sts_code);
      if (error && !error->message.empty()) trouble += ": " + clean(error->message, token);
      // What will not pass on a later call either (a refused token, a trust policy
      // that does not name this service account) is unauthorized; the rest waits.
      code = is_transient(sent->status, sts_code) ? Errc::unavailable : Errc::unauthorized;
      if (!is_retryable(sent->status, sts_code) || attempt >= options_.max_attempts)
        return failure(std::move(trouble), code, attempt);
    }
    const auto delay = s3::backoff_delay(attempt, options_.retry_base, options_.retry_cap, unit_random());
    log::warn("STS AssumeRoleWithWebIdentity failed, retrying", {{"role", options_.role_arn},
                                                                 {"endpoint", endpoint_},
                                                                 {"attempt", attempt},
                                                                 {"of", options_.max_attempts},
                                                                 {"delay_ms", delay.count()},
                                                                 {"error", trouble}});
    std::this_thread::sleep_for(delay);
  }
}

Result<AwsCredentials> WebIdentityCredentialsProvider::credentials() {
  std::optional<AwsCredentials> current;  // still valid, though due for a refresh
  std::uint64_t seen = 0;
  {
    std::lock_guard lock(mutex_);
    const auto t = now();
    if (cached_ && t < refresh_at_) return cached_->credentials;
    if (cached_ && t < cached_->expiration) {
      if (t < next_try_) return cached_->credentials;
      current = cached_->credentials;
    }
    seen = exchanges_;
  }

  std::unique_lock refresh(refresh_mutex_, std::defer_lock);
  if (current) {
    if (!refresh.try_lock()) return *current;  // another caller is refreshing: keep signing with these
  } else {
    refresh.lock();
  }
  {
    std::lock_guard lock(mutex_);
    const auto t = now();
    if (cached_ && t < refresh_at_) return cached_->credentials;  // refreshed while we waited
    if (exchanges_ != seen) {
      if (cached_ && t < cached_->expiration) return cached_->credentials;
      if (last_error_) return *last_error_;  // failed while we waited: that is our answer too
    }
  }

  auto fetched = exchange();
  std::lock_guard lock(mutex_);
  ++exchanges_;
  const auto t = now();
  if (fetched.ok() && fetched->expiration <= t)
    fetched = failure("STS answered with credentials that expired at " + iso8601(fetched->expiration) +
                          " (is this machine's clock right?)",
                      Errc::unavailable, 1);
  if (fetched.ok()) {
    const auto lifetime = fetched->expiration - t;
    refresh_at_ = fetched->expiration - std::min<system_clock::duration>(options_.refresh_ahead, lifetime / 2);
    cached_ = std::move(fetched).value();
    next_try_ = {};
    last_error_.reset();
    log::info("AWS credentials from web identity",
              {{"role", options_.role_arn}, {"session", options_.session_name}, {"endpoint", endpoint_},
               {"expires", iso8601(cached_->expiration)}});
    return cached_->credentials;
  }
  last_error_ = fetched.error();
  if (cached_ && t < cached_->expiration) {
    next_try_ = t + options_.retry_after_failure;
    log::warn("refreshing AWS credentials failed; the current ones are used until they expire",
              {{"role", options_.role_arn}, {"expires", iso8601(cached_->expiration)},
               {"error", fetched.error().message}});
    return cached_->credentials;
  }
  return std::move(fetched).error();
}

Result<ExpiringCredentials> assume_role(CredentialsProvider& signer, const AssumeRoleOptions& options) {
  auto endpoint = parse_endpoint_url(options.sts_endpoint, "the STS endpoint");
  if (!endpoint) return std::move(endpoint).error();
  auto credentials = signer.credentials();
  if (!credentials) return std::move(credentials).error();
  std::vector<std::pair<std::string, std::string>> form = {
      {"Action", "AssumeRole"}, {"Version", "2011-06-15"}, {"RoleArn", options.role_arn},
      {"RoleSessionName", options.session_name}, {"DurationSeconds", std::to_string(options.duration.count())}};
  if (!options.policy.empty()) form.emplace_back("Policy", options.policy);
  http::ClientRequest request;
  request.method = "POST";
  request.url = endpoint->scheme + "://" + endpoint->host + endpoint->base_path + "/";
  request.body = http::query_string(form);
  request.connect_timeout = options.connect_timeout;
  request.timeout = options.request_timeout;
  request.max_response_bytes = kMaxReplyBytes;
  const HeaderList own = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  SigningRequest signing{"POST", endpoint->host, endpoint->base_path + "/", {}, own, sha256_hex(request.body)};
  request.headers = own;
  request.headers.emplace_back("Host", endpoint->host);
  try {
    for (auto& header : sigv4_sign(signing, *credentials, options.region, "sts", system_clock::now(), false))
      request.headers.push_back(std::move(header));
  } catch (const std::exception& e) {
    return make_error(Errc::internal, std::string("signing an STS request failed: ") + e.what());
  }
  const std::string where = "STS AssumeRole of " + options.role_arn + " at " + options.sts_endpoint + ": ";
  http::Client client;
  auto sent = client.send(request);
  if (!sent) return make_error(sent.error().code, where + sent.error().message);
  if (sent->status >= 200 && sent->status < 300) {
    auto parsed = parse_assume_role(sent->body);
    if (!parsed) return make_error(Errc::unavailable, where + parsed.error().message);
    return parsed;
  }
  const auto error = parse_sts_error(sent->body);
  std::string trouble = "HTTP " + std::to_string(sent->status);
  if (error && !error->code.empty()) trouble += " " + clean(error->code, "");
  if (error && !error->message.empty()) trouble += ": " + clean(error->message, "");
  return make_error(is_transient(sent->status, error ? error->code : "") ? Errc::unavailable : Errc::unauthorized,
                    where + trouble);
}

}  // namespace etl::aws

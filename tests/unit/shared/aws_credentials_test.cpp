// Where AWS credentials come from (etl/aws_credentials.h): static keys, or a web
// identity exchanged with STS AssumeRoleWithWebIdentity (IRSA). Against a fake STS
// on a real HTTP server: the documents, the wire call, caching and refresh ahead of
// expiry, the token file read again at each refresh, failures (kept credentials,
// one-line errors without secrets), sharing between clients, and the S3 store and
// the Glue client signing with what the provider hands out. The last suite runs the
// exchange against moto's real STS and uses the credentials on moto's S3; it is
// skipped when ETL_TEST_MOTO_ENDPOINT is unset (scripts/test-servers.sh sets it).
//
// Over 400 lines on purpose: every credential source is tested against the one fake STS
// defined here, so each case reads next to what it fakes.
#include "etl/aws_credentials.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "etl/aws_json.h"
#include "s3_fake.h"
#include "s3_object_store.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// ---- a fake STS ----------------------------------------------------------------------------

struct StsCall {
  std::map<std::string, std::string> form;     // the decoded form fields
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string field(const std::string& name) const {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct StsAnswer {
  int status = 200;
  std::string body;
};

// "2026-11-21T10:00:00Z"
std::string iso(system_clock::time_point t) {
  const std::string d = amz_date(t);
  return d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + "T" + d.substr(9, 2) + ":" + d.substr(11, 2) +
         ":" + d.substr(13, 2) + "Z";
}

StsAnswer issued(const std::string& key, const std::string& secret, const std::string& session,
                 system_clock::time_point expiration) {
  return {200,
          "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
          "  <AssumeRoleWithWebIdentityResult>\n"
          "    <SubjectFromWebIdentityToken>system:serviceaccount:spotify-etl:x</SubjectFromWebIdentityToken>\n"
          "    <Credentials>\n"
          "      <SessionToken>" + session + "</SessionToken>\n"
          "      <SecretAccessKey>" + secret + "</SecretAccessKey>\n"
          "      <Expiration>" + iso(expiration) + "</Expiration>\n"
          "      <AccessKeyId>" + key + "</AccessKeyId>\n"
          "    </Credentials>\n"
          "  </AssumeRoleWithWebIdentityResult>\n"
          "  <ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata>\n"
          "</AssumeRoleWithWebIdentityResponse>\n"};
}

StsAnswer sts_error(int status, const std::string& code, const std::string& message) {
  return {status, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" +
                      code + "</Code><Message>" + s3::escape_xml(message) +
                      "</Message></Error><RequestId>fake-2</RequestId></ErrorResponse>"};
}

// Answers AssumeRoleWithWebIdentity with `handler` (the n-th call gets n, from 1);
// JSON 1.1 requests (X-Amz-Target) are recorded apart and answered {}, so a Glue
// client can point here too.
class FakeSts {
 public:
  using Handler = std::function<StsAnswer(const StsCall&, int n)>;

  FakeSts() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("the fake STS could not bind a port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeSts() {
    server_.stop();
    thread_.join();
  }
  FakeSts(const FakeSts&) = delete;
  FakeSts& operator=(const FakeSts&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void answer_with(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  std::vector<StsCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  std::vector<StsCall> json_calls() const {
    std::lock_guard lock(mutex_);
    return json_calls_;
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    StsCall call;
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      call.headers[name] = v;
    }
    if (!call.header("x-amz-target").empty()) {
      std::lock_guard lock(mutex_);
      json_calls_.push_back(call);
      res.set_content("{}", "application/x-amz-json-1.1");
      return;
    }
    std::string_view rest = req.body;
    while (!rest.empty()) {
      auto amp = rest.find('&');
      auto pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      call.form[http::url_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : http::url_decode(pair.substr(eq + 1), true);
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    Handler handler;
    int n = 0;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(call);
      n = static_cast<int>(calls_.size());
      handler = handler_;
    }
    StsAnswer answer = handler ? handler(call, n) : sts_error(500, "InternalFailure", "no handler");
    res.status = answer.status;
    res.set_content(answer.body, "text/xml");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  Handler handler_;
  std::vector<StsCall> calls_;
  std::vector<StsCall> json_calls_;
};

// A file that is gone with the test.
class TokenFile {
 public:
  explicit TokenFile(const std::string& content) {
    static std::atomic<int> n{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("etl-web-identity-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".jwt"))
                .string();
    write(content);
  }
  ~TokenFile() { std::filesystem::remove(path_); }
  void write(const std::string& content) const { std::ofstream(path_, std::ios::binary | std::ios::trunc) << content; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A clock the test moves by hand.
struct FakeClock {
  system_clock::time_point t = system_clock::now();
  std::mutex mutex;
  system_clock::time_point now() {
    std::lock_guard lock(mutex);
    return t;
  }
  void advance(system_clock::duration d) {
    std::lock_guard lock(mutex);
    t += d;
  }
};

constexpr const char* kRole = "arn:aws:iam::123456789012:role/spotify-etl-transformer";
constexpr const char* kToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl";

aws::WebIdentityOptions options_for(const FakeSts& sts, const TokenFile& token, FakeClock* clock = nullptr) {
  aws::WebIdentityOptions o;
  o.role_arn = kRole;
  o.token_file = token.path();
  o.session_name = "unit-test";
  o.sts_endpoint = sts.url();
  o.retry_base = 1ms;
  o.retry_cap = 5ms;
  if (clock) o.clock = [clock] { return clock->now(); };
  return o;
}

std::shared_ptr<aws::WebIdentityCredentialsProvider> provider_for(const aws::WebIdentityOptions& o) {
  auto p = aws::WebIdentityCredentialsProvider::create(o);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? std::move(p).value() : nullptr;
}

// ---- documents and configuration --------------------------------------------------------------

TEST(AwsCredentials, AssumeRoleWithWebIdentityAnswerIsParsed) {
  // AWS's documented example, with a fraction on the expiration as some servers send it.
  const std::string body = R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>
    <Audience>client.5498841531868486423.1548@apps.example.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2014-10-24T23:00:23.500Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <SourceIdentity>SourceIdentityValue</SourceIdentity>
    <Provider>www.amazon.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";
  auto parsed = aws::parse_assume_role_with_web_identity(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->credentials.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(parsed->credentials.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  EXPECT_EQ(parsed->credentials.session_token, "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
  EXPECT_EQ(iso(parsed->expiration), "2014-10-24T23:00:23Z");
  EXPECT_EQ(parsed->expiration.time_since_epoch() % std::chrono::seconds(1), std::chrono::milliseconds(500));
}

TEST(AwsCredentials, IncompleteOrForeignAnswersAreBadData) {
  const auto exp = system_clock::now() + 1h;
  std::string body = issued("AKID", "secret", "session", exp).body;
  auto without = [&](const std::string& element) {
    std::string b = body;
    auto start = b.find("<" + element + ">");
    auto end = b.find("</" + element + ">");
    return b.erase(start, end + element.size() + 3 - start);
  };
  for (const char* element : {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}) {
    auto parsed = aws::parse_assume_role_with_web_identity(without(element));
    ASSERT_FALSE(parsed.ok()) << "an answer without " << element << " was accepted";
    EXPECT_EQ(parsed.error().code, Errc::bad_data);
    EXPECT_NE(parsed.error().message.find(element), std::string::npos) << parsed.error().message;
  }
  std::string bad_time = body;
  bad_time.replace(bad_time.find(iso(exp)), iso(exp).size(), "tomorrow");
  EXPECT_EQ(aws::parse_assume_role_with_web_identity(bad_time).error().code, Errc::bad_data);
  EXPECT_EQ(aws::parse_assume_role_with_web_identity("{\"Credentials\":{}}").error().code, Errc::bad_data);
  EXPECT_EQ(aws::parse_assume_role_with_web_identity(sts_error(400, "X", "y").body).error().code, Errc::bad_data);
  auto secret_free = aws::parse_assume_role_with_web_identity(without("AccessKeyId"));
  EXPECT_EQ(secret_free.error().message.find("secret"), std::string::npos)
      << "a parse error must not quote the document: " << secret_free.error().message;
}

TEST(AwsCredentials, AssumeRoleAnswerIsParsedAndOtherAnswersAreNot) {
  // AWS's documented AssumeRole example.
  const std::string body = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==</SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>)";
  auto parsed = aws::parse_assume_role(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(parsed->credentials.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  EXPECT_TRUE(parsed->credentials.session_token.starts_with("AQoDYXdzEPT//"));
  EXPECT_EQ(iso(parsed->expiration), "2019-11-09T13:34:41Z");
  EXPECT_EQ(aws::parse_assume_role(issued("AKID", "secret", "session", system_clock::now() + 1h).body).error().code,
            Errc::bad_data)
      << "a web identity answer is not an AssumeRole answer";
  EXPECT_EQ(aws::parse_assume_role("").error().code, Errc::bad_data);
}

TEST(AwsCredentials, StsErrorDocumentsAreParsed) {
  auto e = aws::parse_sts_error(sts_error(400, "InvalidIdentityToken", "Token is expired").body);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "InvalidIdentityToken");
  EXPECT_EQ(e->message, "Token is expired");
  EXPECT_FALSE(aws::parse_sts_error("<html>Bad Gateway</html>").has_value());
  EXPECT_FALSE(aws::parse_sts_error("").has_value());
}

TEST(AwsCredentials, StsEndpointFollowsTheOverrideOrder) {
  AwsConfig aws;
  aws.region = "eu-west-1";
  EXPECT_EQ(aws::sts_endpoint_url(aws), "https://sts.eu-west-1.amazonaws.com") << "regional, as EKS configures IRSA";
  aws.region = "cn-north-1";
  EXPECT_EQ(aws::sts_endpoint_url(aws), "https://sts.cn-north-1.amazonaws.com.cn");
  aws.endpoint_url = "http://127.0.0.1:5000";
  EXPECT_EQ(aws::sts_endpoint_url(aws), "http://127.0.0.1:5000");
  aws.endpoint_url_s3 = "http://minio:9000";
  EXPECT_EQ(aws::sts_endpoint_url(aws), "http://127.0.0.1:5000") << "the S3 override is S3's only";
  aws.endpoint_url_sts = "http://sts.local:1";
  EXPECT_EQ(aws::sts_endpoint_url(aws), "http://sts.local:1");
  EXPECT_EQ(aws::sts_endpoint_variable(aws), "AWS_ENDPOINT_URL_STS");
}

TEST(AwsCredentials, StaticKeysWinOverAWebIdentity) {
  AwsConfig aws;
  aws.role_arn = kRole;
  aws.web_identity_token_file = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
  aws.access_key_id = "AKIDSTATIC";
  aws.secret_access_key = "static-secret";
  auto p = aws::make_credentials_provider(aws);
  ASSERT_TRUE(p.ok() && *p);
  EXPECT_EQ((*p)->describe(), "static keys");
  EXPECT_EQ((*p)->credentials()->access_key_id, "AKIDSTATIC");
  EXPECT_FALSE(aws::uses_web_identity(aws));

  aws.access_key_id.clear();
  aws.secret_access_key.clear();
  EXPECT_TRUE(aws::uses_web_identity(aws));
  p = aws::make_credentials_provider(aws);
  ASSERT_TRUE(p.ok() && *p);
  EXPECT_NE((*p)->describe().find(std::string("web identity (role ") + kRole), std::string::npos) << (*p)->describe();
  EXPECT_NE((*p)->describe().find("https://sts.us-east-1.amazonaws.com"), std::string::npos) << (*p)->describe();

  aws.web_identity_token_file.clear();
  p = aws::make_credentials_provider(aws);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, nullptr) << "a role without a token file is no identity";

  aws.web_identity_token_file = "/t";
  aws.endpoint_url_sts = "http://user:pw@sts.local";
  p = aws::make_credentials_provider(aws);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::invalid_argument);
  EXPECT_NE(p.error().message.find("AWS_ENDPOINT_URL_STS"), std::string::npos) << p.error().message;
}

TEST(AwsCredentials, OneProviderPerIdentityIsSharedByTheClientsOfAProcess) {
  AwsConfig aws;
  aws.role_arn = kRole;
  aws.web_identity_token_file = "/var/run/token-for-sharing";
  aws.endpoint_url_sts = "http://127.0.0.1:9";
  auto a = aws::make_credentials_provider(aws).value();
  auto b = aws::make_credentials_provider(aws).value();
  EXPECT_EQ(a, b) << "two clients of one role should share one STS session";
  aws.role_session_name = "other-session";
  auto c = aws::make_credentials_provider(aws).value();
  EXPECT_NE(a, c);
}

// ---- the exchange ---------------------------------------------------------------------------

TEST(WebIdentity, ExchangeIsAnUnsignedQueryCallCarryingTheTokenFromTheFile) {
  FakeSts sts;
  sts.answer_with([](const StsCall&, int) { return issued("ASIAFAKE1", "secret-1", "session-1", system_clock::now() + 1h); });
  TokenFile token(std::string(kToken) + "\n");
  auto provider = provider_for(options_for(sts, token));
  auto creds = provider->credentials();
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "ASIAFAKE1");
  EXPECT_EQ(creds->secret_access_key, "secret-1");
  EXPECT_EQ(creds->session_token, "session-1");

  ASSERT_EQ(sts.count(), 1u);
  const StsCall call = sts.calls().front();
  EXPECT_EQ(call.field("Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(call.field("Version"), "2011-06-15");
  EXPECT_EQ(call.field("RoleArn"), kRole);
  EXPECT_EQ(call.field("RoleSessionName"), "unit-test");
  EXPECT_EQ(call.field("WebIdentityToken"), kToken) << "the file's content, without the trailing newline";
  EXPECT_EQ(call.header("authorization"), "") << "AssumeRoleWithWebIdentity is not signed";
  EXPECT_NE(call.header("content-type").find("application/x-www-form-urlencoded"), std::string::npos);
}

TEST(WebIdentity, SessionNameIsGeneratedWhenUnset) {
  FakeSts sts;
  sts.answer_with([](const StsCall&, int) { return issued("K", "S", "T", system_clock::now() + 1h); });
  TokenFile token(kToken);
  auto o = options_for(sts, token);
  o.session_name.clear();
  auto provider = provider_for(o);
  ASSERT_TRUE(provider->credentials().ok());
  const std::string name = sts.calls().at(0).field("RoleSessionName");
  EXPECT_TRUE(name.starts_with("spotify-etl-")) << name;
  EXPECT_LE(name.size(), 64u);
  EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos) << name;
  EXPECT_EQ(provider->session_name(), name);
}

TEST(WebIdentity, CredentialsAreCachedUntilFiveMinutesBeforeExpiry) {
  FakeClock clock;
  FakeSts sts;
  sts.answer_with([&](const StsCall&, int n) {
    return issued("ASIAFAKE" + std::to_string(n), "secret", "session", clock.now() + 1h);
  });
  TokenFile token(kToken);
  auto provider = provider_for(options_for(sts, token, &clock));
  EXPECT_EQ(provider->credentials()->access_key_id, "ASIAFAKE1");
  clock.advance(54min);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(provider->credentials()->access_key_id, "ASIAFAKE1");
  EXPECT_EQ(sts.count(), 1u) << "credentials an hour long are exchanged once, not per request";
  clock.advance(61s);  // 55:01 into the hour: inside the five minutes before expiry
  EXPECT_EQ(provider->credentials()->access_key_id, "ASIAFAKE2");
  EXPECT_EQ(sts.count(), 2u);
  clock.advance(54min);
  EXPECT_EQ(provider->credentials()->access_key_id, "ASIAFAKE2");
  EXPECT_EQ(sts.count(), 2u) << "the new credentials' own expiry sets the next refresh";
}

TEST(WebIdentity, ShortLivedCredentialsAreRefreshedAtHalfTheirLifetime) {
  FakeClock clock;
  FakeSts sts;
  sts.answer_with([&](const StsCall&, int n) { return issued("K" + std::to_string(n), "S", "T", clock.now() + 4min); });
  TokenFile token(kToken);
  auto provider = provider_for(options_for(sts, token, &clock));
  EXPECT_EQ(provider->credentials()->access_key_id, "K1");
  clock.advance(119s);
  EXPECT_EQ(provider->credentials()->access_key_id, "K1") << "a 4-minute set must not be renewed on every call";
  clock.advance(2s);
  EXPECT_EQ(provider->credentials()->access_key_id, "K2");
}

TEST(WebIdentity, TokenFileIsReadAgainAtEveryRefresh) {
  FakeClock clock;
  FakeSts sts;
  sts.answer_with([&](const StsCall&, int) { return issued("K", "S", "T", clock.now() + 1h); });
  TokenFile token("first-token");
  auto provider = provider_for(options_for(sts, token, &clock));
  ASSERT_TRUE(provider->credentials().ok());
  token.write("second-token");  // kubelet rotated the projected token
  clock.advance(56min);
  ASSERT_TRUE(provider->credentials().ok());
  ASSERT_EQ(sts.count(), 2u);
  EXPECT_EQ(sts.calls()[0].field("WebIdentityToken"), "first-token");
  EXPECT_EQ(sts.calls()[1].field("WebIdentityToken"), "second-token");
}

TEST(WebIdentity, FailedRefreshKeepsTheCurrentCredentialsUntilTheyExpire) {
  FakeClock clock;
  FakeSts sts;
  std::atomic<bool> sts_down{false};
  sts.answer_with([&](const StsCall&, int n) {
    if (sts_down) return sts_error(503, "ServiceUnavailable", "try later");
    return issued("K" + std::to_string(n), "S", "T", clock.now() + 1h);
  });
  TokenFile token(kToken);
  auto o = options_for(sts, token, &clock);
  o.max_attempts = 1;
  auto provider = provider_for(o);
  ASSERT_EQ(provider->credentials()->access_key_id, "K1");

  sts_down = true;
  clock.advance(56min);
  auto kept = provider->credentials();
  ASSERT_TRUE(kept.ok()) << "credentials valid for 4 more minutes must not be dropped: " << kept.error().message;
  EXPECT_EQ(kept->access_key_id, "K1");
  EXPECT_EQ(sts.count(), 2u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(provider->credentials().ok());
  EXPECT_EQ(sts.count(), 2u) << "after a failed refresh, STS is left alone for retry_after_failure";
  clock.advance(11s);
  EXPECT_EQ(provider->credentials()->access_key_id, "K1");
  EXPECT_EQ(sts.count(), 3u) << "the refresh is tried again after retry_after_failure";

  clock.advance(4min);  // past the expiry, STS still down
  auto gone = provider->credentials();
  ASSERT_FALSE(gone.ok()) << "expired credentials must not be handed out";
  EXPECT_EQ(gone.error().code, Errc::unavailable) << gone.error().message;

  sts_down = false;
  EXPECT_TRUE(provider->credentials().ok()) << "STS is back: credentials again";
}

TEST(WebIdentity, RefusalIsOneLineNamingRoleAndEndpointWithoutTokenOrSecret) {
  FakeSts sts;
  sts.answer_with([](const StsCall& call, int) {
    // A server that echoes what it got must not make us print the token.
    return sts_error(403, "AccessDenied",
                     "Not authorized to perform sts:AssumeRoleWithWebIdentity\nfor token " + call.field("WebIdentityToken"));
  });
  TokenFile token(kToken);
  auto provider = provider_for(options_for(sts, token));
  auto got = provider->credentials();
  ASSERT_FALSE(got.ok());
  const std::string& m = got.error().message;
  EXPECT_EQ(got.error().code, Errc::unauthorized) << m;
  EXPECT_NE(m.find(kRole), std::string::npos) << m;
  EXPECT_NE(m.find(sts.url()), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 403 AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"),
            std::string::npos) << m;
  EXPECT_EQ(m.find(kToken), std::string::npos) << "the web identity token leaked: " << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "not one line: " << m;
  EXPECT_EQ(sts.count(), 1u) << "a refusal is final, not retried";
}

TEST(WebIdentity, TransientStsFailuresAreRetried) {
  FakeSts sts;
  sts.answer_with([](const StsCall&, int n) {
    if (n == 1) return sts_error(500, "InternalFailure", "oops");
    if (n == 2) return sts_error(400, "IDPCommunicationError", "the IdP did not answer");
    return issued("K", "S", "T", system_clock::now() + 1h);
  });
  TokenFile token(kToken);
  auto provider = provider_for(options_for(sts, token));
  auto got = provider->credentials();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(sts.count(), 3u);

  FakeSts throttled;
  throttled.answer_with([](const StsCall&, int) { return sts_error(400, "Throttling", "Rate exceeded"); });
  auto p2 = provider_for(options_for(throttled, token));
  auto failed = p2->credentials();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::unavailable) << "throttling is worth waiting out: " << failed.error().message;
  EXPECT_NE(failed.error().message.find("Throttling: Rate exceeded (after 3 attempts)"), std::string::npos)
      << failed.error().message;
}

TEST(WebIdentity, MissingOrEmptyTokenFileIsUnauthorizedAndNeverReachesSts) {
  FakeSts sts;
  sts.answer_with([](const StsCall&, int) { return issued("K", "S", "T", system_clock::now() + 1h); });
  TokenFile token("");
  auto o = options_for(sts, token);
  auto empty = provider_for(o)->credentials();
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::unauthorized);
  EXPECT_NE(empty.error().message.find(token.path() + " is empty"), std::string::npos) << empty.error().message;

  o.token_file = token.path() + ".missing";
  auto missing = provider_for(o)->credentials();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::unauthorized);
  EXPECT_NE(missing.error().message.find(o.token_file), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find(kRole), std::string::npos) << missing.error().message;
  EXPECT_EQ(sts.count(), 0u);
}

TEST(WebIdentity, UnreachableStsIsUnavailable) {
  std::string dead;
  {
    FakeSts gone;
    dead = gone.url();
  }
  TokenFile token(kToken);
  auto o = aws::WebIdentityOptions{};
  o.role_arn = kRole;
  o.token_file = token.path();
  o.sts_endpoint = dead;
  o.retry_base = 1ms;
  o.retry_cap = 2ms;
  auto got = provider_for(o)->credentials();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::unavailable) << got.error().message;
  EXPECT_NE(got.error().message.find(dead), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("after 3 attempts"), std::string::npos) << got.error().message;
}

TEST(WebIdentity, AlreadyExpiredAnswerIsAnErrorPointingAtTheClock) {
  FakeSts sts;
  sts.answer_with([](const StsCall&, int) { return issued("K", "S", "T", system_clock::now() - 1min); });
  TokenFile token(kToken);
  auto got = provider_for(options_for(sts, token))->credentials();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("clock"), std::string::npos) << got.error().message;
}

TEST(WebIdentity, CallersDoNotWaitForARefreshWhileTheCurrentCredentialsHold) {
  FakeClock clock;
  FakeSts sts;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  sts.answer_with([&](const StsCall&, int n) {
    if (n == 2) released.wait();  // the refresh hangs until the test lets it go
    return issued("K" + std::to_string(n), "S", "T", clock.now() + 1h);
  });
  TokenFile token(kToken);
  auto provider = provider_for(options_for(sts, token, &clock));
  ASSERT_EQ(provider->credentials()->access_key_id, "K1");
  clock.advance(56min);
  auto refresher = std::async(std::launch::async, [&] { return provider->credentials(); });
  while (sts.count() < 2) std::this_thread::sleep_for(1ms);
  auto other = std::async(std::launch::async, [&] { return provider->credentials(); });
  const bool answered = other.wait_for(5s) == std::future_status::ready;
  release.set_value();
  ASSERT_TRUE(answered) << "a caller waited on a refresh although the current credentials still hold";
  EXPECT_EQ(other.get()->access_key_id, "K1");
  EXPECT_EQ(refresher.get()->access_key_id, "K2");
  EXPECT_EQ(provider->credentials()->access_key_id, "K2");
}

TEST(WebIdentity, ConcurrentFirstCallersShareOneExchangeAndItsFailure) {
  FakeSts sts;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> fail{true};
  sts.answer_with([&](const StsCall&, int) {
    released.wait();
    return fail ? sts_error(403, "AccessDenied", "no") : issued("K", "S", "T", system_clock::now() + 1h);
  });
  TokenFile token(kToken);
  auto provider = provider_for(options_for(sts, token));
  auto run = [&] {
    const std::size_t before = sts.count();
    std::vector<std::future<Result<AwsCredentials>>> callers;
    for (int i = 0; i < 6; ++i)
      callers.push_back(std::async(std::launch::async, [&] { return provider->credentials(); }));
    while (sts.count() == before) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(200ms);  // let the other callers queue up behind the exchange
    return callers;
  };
  auto failing = run();
  release.set_value();
  for (auto& f : failing) {
    auto r = f.get();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("AccessDenied"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(sts.count(), 1u) << "callers that waited for a failed exchange must not each call STS again";
  fail = false;
  auto ok = run();
  for (auto& f : ok) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(sts.count(), 2u) << "concurrent first callers share one exchange";
}

// ---- the clients sign with what the provider hands out ------------------------------------

TEST(WebIdentity, S3StoreSignsWithStsCredentialsAndKeepsWorkingAcrossExpiry) {
  const AwsCredentials issued_creds{"ASIAFAKEWEB", "web-secret", "websession"};
  testing::FakeS3 s3("fake-bucket", issued_creds);
  FakeSts sts;
  // Two seconds long: refreshed after one (half the lifetime), so the test sees a refresh.
  sts.answer_with([&](const StsCall&, int) {
    return issued(issued_creds.access_key_id, issued_creds.secret_access_key, issued_creds.session_token,
                  system_clock::now() + 2s);
  });
  TokenFile token(kToken);
  AwsConfig aws;
  aws.endpoint_url_s3 = s3.endpoint();
  aws.endpoint_url_sts = sts.url();
  aws.role_arn = kRole;
  aws.web_identity_token_file = token.path();
  auto store = open_s3_object_store("s3://fake-bucket/root", aws);
  ASSERT_TRUE(store.ok()) << "a custom endpoint with a web identity and no keys: " << store.error().message;
  EXPECT_EQ(sts.count(), 0u) << "opening a store makes no STS call";
  ASSERT_TRUE((*store)->put("a.json", "{}").ok());
  ASSERT_TRUE((*store)->get("a.json").ok());
  ASSERT_TRUE((*store)->ping().ok());
  const std::size_t exchanged = sts.count();  // 1, unless this machine is slow enough to see a refresh already
  EXPECT_GE(exchanged, 1u);
  std::this_thread::sleep_for(1100ms);
  auto later = (*store)->head("a.json");
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_GT(sts.count(), exchanged) << "the store asks the provider per request, which refreshed";
  for (const auto& r : s3.requests()) {
    EXPECT_EQ(r.signature_problem, "") << r.method << " " << r.path;
    EXPECT_EQ(r.header("x-amz-security-token"), "websession") << r.method << " " << r.path;
  }
}

TEST(WebIdentity, S3StoreReportsStsTroubleAsItsError) {
  testing::FakeS3 s3;
  FakeSts sts;
  sts.answer_with([](const StsCall&, int) { return sts_error(400, "InvalidIdentityToken", "Incorrect token audience"); });
  TokenFile token(kToken);
  AwsConfig aws;
  aws.endpoint_url_s3 = s3.endpoint();
  aws.endpoint_url_sts = sts.url();
  aws.role_arn = kRole;
  aws.web_identity_token_file = token.path();
  auto store = open_s3_object_store("s3://fake-bucket", aws).value();
  auto got = store->get("k.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::unauthorized) << got.error().message;
  EXPECT_NE(got.error().message.find("InvalidIdentityToken: Incorrect token audience"), std::string::npos)
      << got.error().message;
  EXPECT_TRUE(s3.requests().empty()) << "nothing unsigned goes to S3";
}

TEST(WebIdentity, WithoutAnyCredentialsS3AnswersUnauthorizedNamingBothWays) {
  AwsConfig aws;  // the AWS endpoint: no network call is made without credentials
  auto store = open_s3_object_store("s3://some-bucket", aws);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto got = (*store)->ping();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::unauthorized);
  EXPECT_NE(got.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos) << got.error().message;

  aws.endpoint_url_s3 = "http://127.0.0.1:9";
  auto refused = open_s3_object_store("s3://some-bucket", aws);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
}

TEST(WebIdentity, GlueClientSignsWithRefreshedCredentials) {
  FakeSts sts;  // answers the Glue calls too
  sts.answer_with([](const StsCall&, int n) {
    return issued("ASIAGLUE" + std::to_string(n), "S", "session" + std::to_string(n), system_clock::now() + 2s);
  });
  TokenFile token(kToken);
  AwsConfig aws;
  aws.endpoint_url = sts.url();
  aws.role_arn = kRole;
  aws.web_identity_token_file = token.path();
  aws.role_session_name = "glue-test";
  auto glue = aws::JsonClient::create(aws, aws::glue_service());
  ASSERT_TRUE(glue.ok()) << glue.error().message;
  ASSERT_TRUE((*glue)->call("GetDatabase", {{"Name", "spotify"}}).ok());
  std::this_thread::sleep_for(1100ms);
  ASSERT_TRUE((*glue)->call("GetDatabase", {{"Name", "spotify"}}).ok());
  const auto calls = sts.json_calls();
  ASSERT_EQ(calls.size(), 2u);
  // Which issued set signed a call: n of ASIAGLUE<n>, with session<n> as its token.
  auto issued_set = [](const StsCall& call) {
    const std::string head = "AWS4-HMAC-SHA256 Credential=ASIAGLUE";
    const std::string auth = call.header("authorization");
    EXPECT_TRUE(auth.starts_with(head)) << auth;
    const std::string n = auth.substr(head.size(), auth.find('/') - head.size());
    EXPECT_EQ(call.header("x-amz-security-token"), "session" + n) << "key and session token of different sets";
    return n;
  };
  EXPECT_NE(issued_set(calls[0]), issued_set(calls[1])) << "the second call was not signed with refreshed credentials";

  aws.role_arn.clear();
  auto none = aws::JsonClient::create(aws, aws::glue_service());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::unauthorized);
  EXPECT_NE(none.error().message.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos) << none.error().message;
}

// ---- moto's real STS ------------------------------------------------------------------------

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class WebIdentityMoto : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = env_or_empty("ETL_TEST_MOTO_ENDPOINT");
    if (endpoint_.empty()) GTEST_SKIP() << "ETL_TEST_MOTO_ENDPOINT is unset: start moto with scripts/test-servers.sh";
    region_ = env_or_empty("ETL_TEST_MOTO_REGION").empty() ? "us-east-1" : env_or_empty("ETL_TEST_MOTO_REGION");
  }

  // A request signed with `creds` (the way a real AWS client sends it).
  Result<http::ClientResponse> signed_call(const AwsCredentials& creds, const std::string& service,
                                           const std::string& method, const std::string& path,
                                           const std::string& body, HeaderList headers = {}) {
    auto parsed_host = endpoint_.substr(endpoint_.find("://") + 3);
    SigningRequest s{method, parsed_host, path, {}, headers, sha256_hex(body)};
    http::ClientRequest request;
    request.method = method;
    request.url = endpoint_ + path;
    request.body = body;
    request.headers = headers;
    request.headers.emplace_back("Host", parsed_host);
    for (auto& h : sigv4_sign(s, creds, region_, service, system_clock::now(), service == "s3"))
      request.headers.push_back(std::move(h));
    return client_.send(request);
  }

  std::string endpoint_, region_;
  http::Client client_;
};

TEST_F(WebIdentityMoto, WebIdentityCredentialsAreTheAssumedRolesAndWorkOnS3) {
  const std::string role = "arn:aws:iam::123456789012:role/spotify-etl-irsa-test";
  const std::string session = "irsa-test-" + std::to_string(::getpid());
  TokenFile token(kToken);
  AwsConfig aws;
  aws.region = region_;
  aws.endpoint_url = endpoint_;  // STS and S3 at moto, as AWS_ENDPOINT_URL would put them
  aws.role_arn = role;
  aws.web_identity_token_file = token.path();
  aws.role_session_name = session;

  auto provider = aws::make_credentials_provider(aws);
  ASSERT_TRUE(provider.ok() && *provider) << (provider.ok() ? "no provider" : provider.error().message);
  auto creds = (*provider)->credentials();
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_FALSE(creds->access_key_id.empty());
  EXPECT_FALSE(creds->secret_access_key.empty());
  EXPECT_FALSE(creds->session_token.empty());

  // STS itself says who these credentials are: the assumed role, with our session name.
  auto who = signed_call(*creds, "sts", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                         {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
  ASSERT_TRUE(who.ok()) << who.error().message;
  ASSERT_EQ(who->status, 200) << who->body;
  EXPECT_NE(who->body.find("assumed-role/spotify-etl-irsa-test/" + session), std::string::npos) << who->body;

  // A real S3 round trip on credentials from the web identity only.
  const std::string bucket = "etl-irsa-" + std::to_string(::getpid()) + "-" +
                             std::to_string(system_clock::now().time_since_epoch() / 1ms);
  auto made = signed_call(*creds, "s3", "PUT", "/" + bucket, "");
  ASSERT_TRUE(made.ok()) << made.error().message;
  ASSERT_EQ(made->status, 200) << made->body;
  auto store = open_s3_object_store("s3://" + bucket + "/irsa", aws);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->put("to_be_processed/a.json", "{\"irsa\":true}").ok());
  auto back = (*store)->get("to_be_processed/a.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "{\"irsa\":true}");
  auto listed = (*store)->list("to_be_processed/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*store)->remove("to_be_processed/a.json").ok());
  (void)signed_call(*creds, "s3", "DELETE", "/" + bucket, "");
}

}  // namespace
}  // namespace etl

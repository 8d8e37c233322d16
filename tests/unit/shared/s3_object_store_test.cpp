// The S3 backend against a fake S3 (s3_fake.h): what goes on the wire (signatures,
// payload hashes, key encoding), retries and their limits, error meanings, multipart
// uploads, pagination and moves. The same backend runs the conformance suite
// against MinIO in object_store_test.cpp, and s3_minio_test.cpp adds MinIO-only checks.
//
// Over 400 lines on purpose: the cases share one fake S3 and its record of the wire
// requests.
#include "s3_object_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "s3_fake.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using testing::Fault;
using testing::FakeS3;
using testing::RecordedRequest;

S3Options fast_retries() {
  S3Options o;
  o.retry_base = 1ms;
  o.retry_cap = 5ms;
  return o;
}

std::unique_ptr<ObjectStore> open(const FakeS3& fake, const std::string& prefix = "root",
                                  S3Options options = fast_retries(), AwsConfig aws = {}) {
  if (aws.endpoint_url_s3.empty()) aws = fake.aws();
  auto store = open_s3_object_store("s3://" + fake.bucket() + (prefix.empty() ? "" : "/" + prefix), aws, options);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<RecordedRequest> matching(const FakeS3& fake, const std::string& method, const std::string& query = {}) {
  std::vector<RecordedRequest> out;
  for (auto& r : fake.requests())
    if (r.method == method && (query.empty() || r.has_query(query))) out.push_back(r);
  return out;
}

// "AWS4-HMAC-SHA256 Credential=AKIDFAKE/<yyyymmdd>/us-east-1/s3/aws4_request,
//  SignedHeaders=<sorted lower-case names, host among them>, Signature=<64 hex>"
// (std::regex would do, but trips GCC 12's -Wmaybe-uninitialized under the sanitizers).
bool has_sigv4_shape(const std::string& auth) {
  const std::string head = "AWS4-HMAC-SHA256 Credential=AKIDFAKE/";
  const std::string scope = "/us-east-1/s3/aws4_request, SignedHeaders=";
  if (auth.rfind(head, 0) != 0 || auth.size() < head.size() + 8 + scope.size()) return false;
  const std::string date = auth.substr(head.size(), 8);
  if (!std::all_of(date.begin(), date.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (auth.compare(head.size() + 8, scope.size(), scope) != 0) return false;
  const auto names_at = head.size() + 8 + scope.size();
  const auto sig_at = auth.find(", Signature=", names_at);
  if (sig_at == std::string::npos) return false;
  const std::string names = auth.substr(names_at, sig_at - names_at), signature = auth.substr(sig_at + 12);
  std::vector<std::string> list;
  for (std::size_t start = 0; start <= names.size();) {
    auto end = std::min(names.find(';', start), names.size());
    list.push_back(names.substr(start, end - start));
    start = end + 1;
  }
  const bool names_ok = std::is_sorted(list.begin(), list.end()) &&
                        std::find(list.begin(), list.end(), "host") != list.end() &&
                        std::all_of(list.begin(), list.end(), [](const std::string& n) {
                          return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                          });
                        });
  return names_ok && signature.size() == 64 &&
         std::all_of(signature.begin(), signature.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(S3ObjectStore, EveryRequestIsSignedWithSigV4AndCarriesThePayloadHash) {
  FakeS3 fake;
  auto store = open(fake);
  ASSERT_TRUE(store->put("to_be_processed/a.json", "{\"x\":1}").ok());
  ASSERT_TRUE(store->get("to_be_processed/a.json").ok());
  ASSERT_TRUE(store->get("to_be_processed/a.json", 100).ok());
  ASSERT_TRUE(store->list("to_be_processed/").ok());
  ASSERT_TRUE(store->move("to_be_processed/a.json", "processed/a.json").ok());
  ASSERT_TRUE(store->remove("processed/a.json").ok());
  ASSERT_TRUE(store->ping().ok());
  auto requests = fake.requests();
  ASSERT_GE(requests.size(), 8u);
  for (const auto& r : requests) {
    EXPECT_TRUE(has_sigv4_shape(r.header("authorization"))) << r.method << " " << r.path << ": "
                                                             << r.header("authorization");
    for (const char* signed_name : {";x-amz-content-sha256;", ";x-amz-date,"})
      EXPECT_NE(r.header("authorization").find(signed_name), std::string::npos) << signed_name << " is signed";
    EXPECT_EQ(r.signature_problem, "") << r.method << " " << r.path;
    EXPECT_EQ(r.header("x-amz-content-sha256"), sha256_hex(r.body)) << r.method << " " << r.path;
    EXPECT_EQ(r.header("x-amz-security-token"), "") << "no session token configured";
  }
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/fake-bucket/root/to_be_processed/a.json");
  EXPECT_EQ(requests[0].header("content-type"), "application/json");
}

TEST(S3ObjectStore, SessionTokensAreSentAsSecurityToken) {
  FakeS3 fake("fake-bucket", {"ASIAFAKE", "temporary-secret", "the-session-token"});
  auto store = open(fake);
  ASSERT_TRUE(store->put("k.json", "{}").ok());
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("x-amz-security-token"), "the-session-token");
  EXPECT_EQ(requests[0].signature_problem, "");
  EXPECT_NE(requests[0].header("authorization").find("x-amz-security-token"), std::string::npos)
      << "the token is signed";
}

TEST(S3ObjectStore, KeysAreUriEncodedOnTheWireAndRoundTrip) {
  FakeS3 fake;
  auto store = open(fake, "my root");
  const std::string key = "to_be_processed/a b+c(\xC3\xBC)=&%.json";
  ASSERT_TRUE(store->put(key, "payload").ok());
  auto put = matching(fake, "PUT");
  ASSERT_EQ(put.size(), 1u);
  EXPECT_EQ(put[0].path, "/fake-bucket/my%20root/to_be_processed/a%20b%2Bc%28%C3%BC%29%3D%26%25.json");
  EXPECT_EQ(put[0].signature_problem, "");
  EXPECT_EQ(fake.objects().count("my root/" + key), 1u);
  EXPECT_EQ(*store->get(key), "payload");
  auto listed = store->list("to_be_processed/a b");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, key) << "listing keys are url-decoded ('+' is a space, %2B a plus)";
  ASSERT_TRUE(store->move(key, "processed/b c+d.json").ok());
  EXPECT_EQ(fake.objects().count("my root/processed/b c+d.json"), 1u);
}

TEST(S3ObjectStore, PutReturnsTheUnquotedEtagAndSize) {
  FakeS3 fake;
  auto store = open(fake);
  auto info = store->put("k.json", "hello");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->key, "k.json");
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->etag, sha256_hex("hello").substr(0, 32));
  auto head = store->head("k.json");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->etag, info->etag);
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->last_modified, std::chrono::sys_days{std::chrono::March / 3 / 2026} + std::chrono::hours(10));
}

TEST(S3ObjectStore, SlowDownAndServerErrorsAreRetriedUntilTheyPass) {
  FakeS3 fake;
  std::atomic<int> seen{0};
  fake.fail_when([&](const RecordedRequest& r) -> std::optional<Fault> {
    if (r.method != "PUT") return std::nullopt;
    int n = ++seen;
    if (n == 1) return Fault{503, "SlowDown"};
    if (n == 2) return Fault{500, "InternalError"};
    if (n == 3) return Fault{400, "RequestTimeout"};
    return std::nullopt;
  });
  auto store = open(fake);
  auto info = store->put("k.json", "x");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(matching(fake, "PUT").size(), 4u);
  EXPECT_EQ(fake.objects().at("root/k.json"), "x");
}

TEST(S3ObjectStore, RetriesAreBoundedThenUnavailable) {
  FakeS3 fake;
  fake.fail_when([](const RecordedRequest&) { return std::optional<Fault>(Fault{503, "SlowDown"}); });
  auto store = open(fake);
  auto got = store->get("k.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::unavailable);
  EXPECT_NE(got.error().message.find("SlowDown"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("after 5 attempts"), std::string::npos) << got.error().message;
  EXPECT_EQ(fake.requests().size(), 5u);
}

TEST(S3ObjectStore, ClientErrorsAreNotRetried) {
  FakeS3 fake;
  fake.fail_when([](const RecordedRequest&) { return std::optional<Fault>(Fault{403, "AccessDenied"}); });
  auto store = open(fake);
  auto put = store->put("k.json", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Errc::unauthorized);
  EXPECT_NE(put.error().message.find("AccessDenied"), std::string::npos);
  EXPECT_EQ(fake.requests().size(), 1u);
}

TEST(S3ObjectStore, WrongCredentialsAreUnauthorizedSayWhichAndNeverShowTheSecret) {
  FakeS3 fake;
  AwsConfig wrong_key = fake.aws();
  wrong_key.access_key_id = "AKIDWRONG";
  auto by_key = open(fake, "root", fast_retries(), wrong_key)->ping();
  ASSERT_FALSE(by_key.ok());
  EXPECT_EQ(by_key.error().code, Errc::unauthorized);
  EXPECT_NE(by_key.error().message.find("InvalidAccessKeyId"), std::string::npos) << by_key.error().message;
  EXPECT_NE(by_key.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);

  AwsConfig wrong_secret = fake.aws();
  wrong_secret.secret_access_key = "not-the-secret-s3cr3t";
  auto by_secret = open(fake, "root", fast_retries(), wrong_secret)->get("k.json");
  ASSERT_FALSE(by_secret.ok());
  EXPECT_EQ(by_secret.error().code, Errc::unauthorized);
  EXPECT_NE(by_secret.error().message.find("SignatureDoesNotMatch"), std::string::npos) << by_secret.error().message;
  for (const auto& message : {by_key.error().message, by_secret.error().message}) {
    EXPECT_EQ(message.find("not-the-secret-s3cr3t"), std::string::npos);
    EXPECT_EQ(message.find(fake.aws().secret_access_key), std::string::npos);
    EXPECT_EQ(message.find("AKIDWRONG"), std::string::npos) << "access key ids stay out of messages too";
  }
}

TEST(S3ObjectStore, AMissingBucketIsUnavailableWithAClearMessage) {
  FakeS3 fake;
  auto store = open_s3_object_store("s3://no-such-bucket/x", fake.aws(), fast_retries());
  ASSERT_TRUE(store.ok());
  auto ping = (*store)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, Errc::unavailable);
  EXPECT_NE(ping.error().message.find("bucket no-such-bucket does not exist at " + fake.endpoint()), std::string::npos)
      << ping.error().message;
  auto put = (*store)->put("k.json", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Errc::unavailable);
  EXPECT_TRUE((*store)->remove("k.json").error().code == Errc::unavailable) << "an absent bucket is not an absent key";
}

TEST(S3ObjectStore, PingErrorsNameTheEndpointAndCode) {
  FakeS3 fake;
  fake.fail_when([](const RecordedRequest&) { return std::optional<Fault>(Fault{403, "AccessDenied"}); });
  auto ping = open(fake)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_NE(ping.error().message.find(fake.endpoint()), std::string::npos) << ping.error().message;
  EXPECT_NE(ping.error().message.find("AccessDenied"), std::string::npos) << ping.error().message;
}

TEST(S3ObjectStore, UnreachableEndpointsAreRetriedThenUnavailable) {
  std::string dead_endpoint;
  {
    FakeS3 gone;
    dead_endpoint = gone.endpoint();
  }
  AwsConfig aws;
  aws.endpoint_url_s3 = dead_endpoint;
  aws.access_key_id = "AKIDFAKE";
  aws.secret_access_key = "secret";
  auto store = open_s3_object_store("s3://fake-bucket", aws, fast_retries());
  ASSERT_TRUE(store.ok());
  auto head = (*store)->head("k.json");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, Errc::unavailable);
  EXPECT_NE(head.error().message.find("after 5 attempts"), std::string::npos) << head.error().message;
}

TEST(S3ObjectStore, SlowAnswersAreTimeouts) {
  FakeS3 fake;
  fake.fail_when([](const RecordedRequest&) {
    Fault slow{200, "", false, 700ms};
    return std::optional<Fault>(slow);
  });
  S3Options options = fast_retries();
  options.request_timeout = 150ms;
  auto got = open(fake, "root", options)->head("k.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::timeout) << got.error().message;
  EXPECT_EQ(fake.requests().size(), 1u) << "a timeout is final";
}

// One GET, no HEAD first: an object over the limit is refused at the answer's
// Content-Length (the message says what it declared), a small one read whole.
TEST(S3ObjectStore, GetOverTheLimitIsRefusedAtItsHeadersInOneRequest) {
  FakeS3 fake;
  auto store = open(fake);
  ASSERT_TRUE(store->put("big.json", std::string(300 << 10, 'x')).ok());
  ASSERT_TRUE(store->put("small.json", std::string(2048, 'x')).ok());
  fake.clear_requests();
  auto got = store->get("big.json", 100 << 10);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::too_large);
  EXPECT_NE(got.error().message.find("declares 307200 bytes"), std::string::npos) << got.error().message;
  EXPECT_EQ(matching(fake, "GET").size(), 1u);
  EXPECT_TRUE(matching(fake, "HEAD").empty());
  // Under the room kept for an error's body, the bytes are read and then refused.
  auto over = store->get("small.json", 1024);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::too_large) << over.error().message;
  auto missing = store->get("none.json", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto small = store->get("small.json", 4096);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->size(), 2048u);
  auto exact = store->get("big.json", 300 << 10);
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(exact->size(), 300u << 10);
  EXPECT_TRUE(matching(fake, "HEAD").empty());
}

TEST(S3ObjectStore, BodiesOverTheThresholdGoUpInPartsAndComplete) {
  FakeS3 fake;
  S3Options options = fast_retries();
  options.multipart_threshold = 1000;
  options.part_size = 1024;
  auto store = open(fake, "root", options);
  std::string data;
  for (int i = 0; i < 2600; ++i) data += static_cast<char>('a' + i % 26);
  auto info = store->put("songs_data/dt=2026-03-03/x.parquet", data);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, data.size());
  EXPECT_TRUE(info->etag.ends_with("-3")) << info->etag;
  EXPECT_EQ(info->etag.find('"'), std::string::npos);
  EXPECT_EQ(fake.objects().at("root/songs_data/dt=2026-03-03/x.parquet"), data);
  EXPECT_EQ(matching(fake, "POST", "uploads").size(), 1u);
  auto parts = matching(fake, "PUT", "partNumber");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].query_value("partNumber"), "1");
  EXPECT_EQ(parts[0].body.size(), 1024u);
  EXPECT_EQ(parts[2].query_value("partNumber"), "3");
  EXPECT_EQ(parts[2].body.size(), 552u);
  EXPECT_EQ(matching(fake, "POST", "uploadId").size(), 1u);
  EXPECT_EQ(fake.open_uploads(), 0u);
  for (const auto& r : fake.requests()) EXPECT_EQ(r.signature_problem, "") << r.method << " " << r.path;
  EXPECT_EQ(*store->get("songs_data/dt=2026-03-03/x.parquet"), data);
}

TEST(S3ObjectStore, PutIfAbsentOnAStoreWithoutConditionalWritesFallsBackToAPlainPut) {
  FakeS3 fake;
  fake.fail_when([](const RecordedRequest& r) -> std::optional<Fault> {
    if (!r.header("if-none-match").empty()) return Fault{501, "NotImplemented"};
    return std::nullopt;
  });
  auto store = open(fake, "root", fast_retries());
  auto first = store->put_if_absent("m.json", "one");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(fake.objects().at("root/m.json"), "one");
  EXPECT_TRUE(store->put_if_absent("m.json", "two").ok()) << "plain puts from then on";
  EXPECT_EQ(fake.objects().at("root/m.json"), "two");
  std::size_t conditional = 0;
  for (const auto& r : fake.requests())
    if (!r.header("if-none-match").empty()) ++conditional;
  EXPECT_EQ(conditional, 1u) << "asked once, then remembered";
}

TEST(S3ObjectStore, AFailedPartAbortsTheUploadAndLeavesThePreviousObject) {
  FakeS3 fake;
  fake.put_raw("root/k.bin", "previous");
  fake.fail_when([](const RecordedRequest& r) -> std::optional<Fault> {
    if (r.query_value("partNumber") == "2") return Fault{403, "AccessDenied"};
    return std::nullopt;
  });
  S3Options options = fast_retries();
  options.multipart_threshold = 100;
  options.part_size = 100;
  auto put = open(fake, "root", options)->put("k.bin", std::string(350, 'z'));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Errc::unauthorized);
  EXPECT_EQ(matching(fake, "DELETE", "uploadId").size(), 1u) << "the upload was aborted";
  EXPECT_EQ(fake.open_uploads(), 0u);
  EXPECT_EQ(fake.objects().at("root/k.bin"), "previous");
  EXPECT_TRUE(matching(fake, "POST", "uploadId").empty()) << "never completed";
}

TEST(S3ObjectStore, ACompleteThatFailsInsideA200IsRetried) {
  FakeS3 fake;
  std::atomic<int> completes{0};
  fake.fail_when([&](const RecordedRequest& r) -> std::optional<Fault> {
    if (r.method == "POST" && r.has_query("uploadId") && ++completes == 1) return Fault{200, "InternalError", true};
    return std::nullopt;
  });
  S3Options options = fast_retries();
  options.multipart_threshold = 100;
  options.part_size = 100;
  auto store = open(fake, "root", options);
  auto put = store->put("k.bin", std::string(250, 'q'));
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(completes.load(), 2);
  EXPECT_EQ(fake.objects().at("root/k.bin"), std::string(250, 'q'));
}

TEST(S3ObjectStore, ACompleteWhoseAnswerWasLostIsRecognisedOnItsRetry) {
  FakeS3 fake;
  std::atomic<int> completes{0};
  fake.fail_when([&](const RecordedRequest& r) -> std::optional<Fault> {
    if (r.method == "POST" && r.has_query("uploadId") && ++completes == 1) {
      Fault lost{502, "", false};
      lost.after_applying = true;
      return lost;
    }
    return std::nullopt;
  });
  S3Options options = fast_retries();
  options.multipart_threshold = 100;
  options.part_size = 100;
  auto put = open(fake, "root", options)->put("k.bin", std::string(250, 'q'));
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(completes.load(), 2) << "the retry found no upload (NoSuchUpload), and the object in place";
  EXPECT_TRUE(put->etag.ends_with("-3")) << put->etag;
  EXPECT_EQ(fake.objects().at("root/k.bin"), std::string(250, 'q'));
}

TEST(S3ObjectStore, AMoveWhoseSourceIsGoneButTargetIsThereAlreadyHappened) {
  FakeS3 fake;
  auto store = open(fake);
  fake.put_raw("root/processed/m.json", "m");
  EXPECT_TRUE(store->move("to_be_processed/m.json", "processed/m.json").ok());
  auto neither = store->move("to_be_processed/none.json", "processed/none.json");
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.error().code, Errc::not_found);
  EXPECT_NE(neither.error().message.find("to_be_processed/none.json"), std::string::npos) << neither.error().message;
}

TEST(S3ObjectStore, ACopyThatFailsInsideA200IsAFailureAndTheSourceStays) {
  FakeS3 fake;
  auto store = open(fake);
  ASSERT_TRUE(store->put("to_be_processed/m.json", "m").ok());
  fake.fail_when([](const RecordedRequest& r) -> std::optional<Fault> {
    if (!r.header("x-amz-copy-source").empty()) return Fault{200, "AccessDenied", true};
    return std::nullopt;
  });
  auto moved = store->move("to_be_processed/m.json", "processed/m.json");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, Errc::unauthorized);
  EXPECT_TRUE(matching(fake, "DELETE").empty()) << "nothing is deleted after a failed copy";
  EXPECT_EQ(fake.objects().count("root/to_be_processed/m.json"), 1u);
}

TEST(S3ObjectStore, MoveCopiesWithAnEncodedSourceThenDeletes) {
  FakeS3 fake;
  auto store = open(fake);
  ASSERT_TRUE(store->put("to_be_processed/a b.json", "m").ok());
  fake.clear_requests();
  auto moved = store->move("to_be_processed/a b.json", "processed/a b.json");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/fake-bucket/root/processed/a%20b.json");
  // On the wire "/fake-bucket/root/to_be_processed/a%20b.json"; httplib decodes header values.
  EXPECT_EQ(requests[0].header("x-amz-copy-source"), "/fake-bucket/root/to_be_processed/a b.json");
  EXPECT_EQ(requests[0].signature_problem, "");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[1].path, "/fake-bucket/root/to_be_processed/a%20b.json");
  EXPECT_EQ(fake.objects().count("root/processed/a b.json"), 1u);
  EXPECT_EQ(fake.objects().count("root/to_be_processed/a b.json"), 0u);
}

TEST(S3ObjectStore, AMoveOntoItselfKeepsTheObject) {
  FakeS3 fake;
  auto store = open(fake);
  ASSERT_TRUE(store->put("k.json", "x").ok());
  EXPECT_TRUE(store->move("k.json", "k.json").ok());
  EXPECT_EQ(fake.objects().count("root/k.json"), 1u);
  EXPECT_EQ(store->move("none.json", "none.json").error().code, Errc::not_found);
}

std::vector<std::pair<std::string, std::string>> pending_to_processed(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> moves;
  for (const auto& n : names) moves.emplace_back("to_be_processed/" + n, "processed/" + n);
  return moves;
}

const ObjectStore::ForEach kInTurn = [](std::size_t n, const std::function<void(std::size_t)>& body) {
  for (std::size_t i = 0; i < n; ++i) body(i);
};

TEST(S3ObjectStore, MoveAllCopiesEachThenDeletesTheSourcesInOneRequest) {
  FakeS3 fake;
  auto store = open(fake);
  for (const char* n : {"a.json", "b.json", "c d.json"}) ASSERT_TRUE(store->put(std::string("to_be_processed/") + n, n).ok());
  fake.clear_requests();
  auto moved = store->move_all(pending_to_processed({"a.json", "b.json", "c d.json"}), kInTurn);
  ASSERT_EQ(moved.size(), 3u);
  for (auto& m : moved) EXPECT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(matching(fake, "PUT").size(), 3u) << "one copy each";
  EXPECT_TRUE(matching(fake, "DELETE").empty());
  auto deletes = matching(fake, "POST", "delete");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].path, "/fake-bucket");
  EXPECT_EQ(deletes[0].signature_problem, "");  // Content-MD5 signed, and checked by the fake
  for (const char* n : {"a.json", "b.json", "c d.json"}) {
    EXPECT_EQ(fake.objects().count(std::string("root/processed/") + n), 1u) << n;
    EXPECT_EQ(fake.objects().count(std::string("root/to_be_processed/") + n), 0u) << n;
  }
}

TEST(S3ObjectStore, MoveAllAnswersForEachPairAndAFailedPairKeepsItsSource) {
  FakeS3 fake;
  auto store = open(fake);
  for (const char* n : {"ok.json", "copy-refused.json", "delete-refused.json"})
    ASSERT_TRUE(store->put(std::string("to_be_processed/") + n, n).ok());
  fake.put_raw("root/processed/done.json", "done");  // moved before: its source is gone
  fake.refuse_delete("root/to_be_processed/delete-refused.json");
  fake.fail_when([](const RecordedRequest& r) -> std::optional<Fault> {
    if (r.header("x-amz-copy-source").find("copy-refused") != std::string::npos) return Fault{403, "AccessDenied"};
    return std::nullopt;
  });
  auto moved = store->move_all(
      pending_to_processed({"ok.json", "copy-refused.json", "delete-refused.json", "done.json", "none.json"}), kInTurn);
  ASSERT_EQ(moved.size(), 5u);
  EXPECT_TRUE(moved[0].ok());
  ASSERT_FALSE(moved[1].ok());
  EXPECT_EQ(moved[1].error().code, Errc::unauthorized);
  ASSERT_FALSE(moved[2].ok());
  EXPECT_EQ(moved[2].error().code, Errc::unauthorized);
  EXPECT_NE(moved[2].error().message.find("to_be_processed/delete-refused.json"), std::string::npos)
      << moved[2].error().message;
  EXPECT_TRUE(moved[3].ok()) << "a pair moved before is a success";
  ASSERT_FALSE(moved[4].ok());
  EXPECT_EQ(moved[4].error().code, Errc::not_found);
  const auto objects = fake.objects();
  EXPECT_EQ(objects.count("root/to_be_processed/ok.json"), 0u);
  EXPECT_EQ(objects.count("root/to_be_processed/copy-refused.json"), 1u);
  EXPECT_EQ(objects.count("root/processed/copy-refused.json"), 0u);
  EXPECT_EQ(objects.count("root/to_be_processed/delete-refused.json"), 1u) << "the source stays: nothing is lost";
  auto deletes = matching(fake, "POST", "delete");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].body.find("copy-refused"), std::string::npos) << "a source whose copy failed is never deleted";
  EXPECT_EQ(deletes[0].body.find("done.json"), std::string::npos);
}

TEST(S3ObjectStore, RemoveAllSendsAThousandKeysARequestAndRetriesAFailedOne) {
  FakeS3 fake;
  auto store = open(fake);
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) {
    keys.push_back("old/k" + std::to_string(i));
    fake.put_raw("root/" + keys.back(), "x");
  }
  keys.push_back("old/never-there");
  int failures = 1;
  fake.fail_when([&failures](const RecordedRequest& r) -> std::optional<Fault> {
    if (r.has_query("delete") && failures-- > 0) return Fault{503, "SlowDown"};
    return std::nullopt;
  });
  auto removed = store->remove_all(keys);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_TRUE(fake.objects().empty());
  EXPECT_EQ(matching(fake, "POST", "delete").size(), 3u) << "1,000 + 501 keys, the first request once more";
  EXPECT_TRUE(store->remove_all({}).ok());
  EXPECT_EQ(store->remove_all({"../x"}).error().code, Errc::invalid_argument);
}

TEST(S3ObjectStore, ListingFollowsContinuationTokensAndMakesKeysRelative) {
  FakeS3 fake;
  fake.set_list_page_size(2);
  fake.put_raw("root/to_be_processed/", "");  // a console-made "folder"
  fake.put_raw("other/to_be_processed/x.json", "not ours");
  for (const char* k : {"e", "c", "a", "d", "b"}) fake.put_raw(std::string("root/to_be_processed/") + k + ".json", k);
  auto store = open(fake);
  auto listed = store->list("to_be_processed/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> keys;
  for (const auto& o : *listed) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"to_be_processed/a.json", "to_be_processed/b.json", "to_be_processed/c.json",
                                            "to_be_processed/d.json", "to_be_processed/e.json"}));
  EXPECT_EQ((*listed)[0].size, 1u);
  EXPECT_EQ((*listed)[0].etag, sha256_hex("a").substr(0, 32));
  auto lists = matching(fake, "GET", "list-type");
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[0].query_value("prefix"), "root/to_be_processed/");
  EXPECT_FALSE(lists[0].has_query("continuation-token"));
  EXPECT_EQ(lists[1].query_value("continuation-token"), "root/to_be_processed/a.json") << "the folder marker came first";
  auto everything = store->list("");
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->size(), 5u) << "the folder marker and other prefixes are not objects of this store";
}

TEST(S3ObjectStore, EventKeysCarryThePrefix) {
  FakeS3 fake;
  auto store = open(fake, "raw/area");
  EXPECT_EQ(store->bucket(), "fake-bucket");
  EXPECT_EQ(store->event_key("to_be_processed/x.json"), "raw/area/to_be_processed/x.json");
  EXPECT_EQ(store->relative_key("fake-bucket", "raw/area/to_be_processed/x.json"), "to_be_processed/x.json");
  EXPECT_FALSE(store->relative_key("fake-bucket", "raw/areaX/to_be_processed/x.json").has_value());
  EXPECT_FALSE(store->relative_key("fake-bucket", "raw/area/").has_value());
  EXPECT_FALSE(store->relative_key("other", "raw/area/x.json").has_value());
  auto bare = open(fake, "");
  EXPECT_EQ(bare->event_key("x.json"), "x.json");
  EXPECT_EQ(bare->relative_key("fake-bucket", "x.json"), "x.json");
  EXPECT_EQ(bare->url(), "s3://fake-bucket");
  EXPECT_EQ(bare->local_path("x.json"), std::nullopt);
}

TEST(S3ObjectStore, OpeningACustomEndpointWithoutKeysIsRefusedClearly) {
  AwsConfig aws;
  aws.endpoint_url_s3 = "http://127.0.0.1:9";
  auto store = open_object_store("s3://bucket/prefix", aws);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::invalid_argument);
  EXPECT_NE(store.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << store.error().message;
}

TEST(S3ObjectStore, AwsWithoutKeysOpensButEveryCallIsUnauthorized) {
  AwsConfig aws;
  aws.region = "eu-west-1";
  auto store = open_object_store("s3://bucket-name/prefix", aws);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto ping = (*store)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, Errc::unauthorized);
  EXPECT_NE(ping.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(S3ObjectStore, ManyThreadsShareOneStore) {
  FakeS3 fake;
  auto store = open(fake);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string key = "t" + std::to_string(t) + "/o" + std::to_string(i) + ".json";
        if (!store->put(key, key).ok()) ++failures;
        auto back = store->get(key);
        if (!back.ok() || *back != key) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->list("")->size(), 80u);
}

}  // namespace
}  // namespace etl

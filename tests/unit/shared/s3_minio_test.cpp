// The S3 backend against a real S3 server (MinIO from scripts/test-servers.sh, found
// through ETL_TEST_S3_*): what a fake cannot prove, such as real multipart limits,
// real signatures with odd keys, real pagination. Skipped when no server is set up.
#include <gtest/gtest.h>

#include <thread>

#include "s3_object_store.h"
#include "s3_test_env.h"

namespace etl {
namespace {

class S3MinioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::s3_test_server();
    if (!server) GTEST_SKIP() << "no S3 test server (ETL_TEST_S3_* unset; scripts/test-servers.sh starts one)";
    server_ = *server;
    store_ = open(server_.aws);
  }
  std::unique_ptr<ObjectStore> open(const AwsConfig& aws, const S3Options& options = {},
                                    const std::string& bucket = {}) {
    auto store = open_s3_object_store(
        "s3://" + (bucket.empty() ? server_.bucket : bucket) + "/" + testing::unique_s3_prefix("minio"), aws, options);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }
  testing::S3TestServer server_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(S3MinioTest, ObjectsAboveTheThresholdGoUpInRealMultipartUploads) {
  S3Options options;
  options.multipart_threshold = 5ull << 20;  // MinIO, like S3, wants parts of 5 MiB but for the last
  options.part_size = 5ull << 20;
  auto store = open(server_.aws, options);
  std::string data(12ull << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) >> 5);
  auto info = store->put("songs_data/dt=2026-03-03/big.parquet", data);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, data.size());
  EXPECT_TRUE(info->etag.ends_with("-3")) << "a 3-part upload's ETag: " << info->etag;
  auto head = store->head("songs_data/dt=2026-03-03/big.parquet");
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, info->etag);
  auto back = store->get("songs_data/dt=2026-03-03/big.parquet", 16ull << 20);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == data) << "the object read back differs from what was written";
  auto refused = store->get("songs_data/dt=2026-03-03/big.parquet", 1ull << 20);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::too_large);
  EXPECT_NE(refused.error().message.find("declares 12582912 bytes"), std::string::npos)
      << "refused at the answer's Content-Length, before the body: " << refused.error().message;
}

TEST_F(S3MinioTest, OddKeysSurviveSigningListingAndMoving) {
  const std::vector<std::string> keys = {"to_be_processed/a b.json", "to_be_processed/plus+sign.json",
                                         "to_be_processed/\xC3\xBCn\xC3\xAF\xE2\x82\xAC.json",
                                         "to_be_processed/dt=2026-03-03/q?&#%~'()!*$,;:@.json"};
  for (const auto& key : keys) {
    auto put = store_->put(key, key);
    ASSERT_TRUE(put.ok()) << key << ": " << put.error().message;
    auto got = store_->get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.error().message;
    EXPECT_EQ(*got, key);
  }
  auto listed = store_->list("to_be_processed/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> names;
  for (const auto& o : *listed) names.push_back(o.key);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(names, sorted);
  for (const auto& key : keys) {
    const std::string to = "processed/" + key.substr(std::string("to_be_processed/").size());
    ASSERT_TRUE(store_->move(key, to).ok()) << key;
    EXPECT_EQ(*store_->get(to), key);
    EXPECT_EQ(store_->head(key).error().code, Errc::not_found);
  }
}

TEST_F(S3MinioTest, ListingPagesPastAThousandKeys) {
  constexpr int kObjects = 1010;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    writers.emplace_back([&, t] {
      for (int i = t; i < kObjects; i += 8) {
        char name[32];
        std::snprintf(name, sizeof name, "many/%05d.json", i);
        if (!store_->put(name, "{}").ok()) ++failures;
      }
    });
  for (auto& w : writers) w.join();
  ASSERT_EQ(failures.load(), 0);
  auto listed = store_->list("many/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), static_cast<std::size_t>(kObjects));
  EXPECT_EQ(listed->front().key, "many/00000.json");
  EXPECT_EQ(listed->back().key, "many/01009.json");
  EXPECT_TRUE(std::is_sorted(listed->begin(), listed->end(),
                             [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }));
}

TEST_F(S3MinioTest, WrongCredentialsAreUnauthorizedAndSayWhich) {
  AwsConfig wrong_secret = server_.aws;
  wrong_secret.secret_access_key = "definitely-not-the-secret";
  auto ping = open(wrong_secret)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, Errc::unauthorized);
  EXPECT_NE(ping.error().message.find("SignatureDoesNotMatch"), std::string::npos) << ping.error().message;
  EXPECT_EQ(ping.error().message.find("definitely-not-the-secret"), std::string::npos);

  AwsConfig wrong_key = server_.aws;
  wrong_key.access_key_id = "no-such-user";
  auto put = open(wrong_key)->put("x.json", "{}");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Errc::unauthorized);
  EXPECT_NE(put.error().message.find("InvalidAccessKeyId"), std::string::npos) << put.error().message;
  EXPECT_EQ(put.error().message.find(server_.aws.secret_access_key), std::string::npos);
}

TEST_F(S3MinioTest, AMissingBucketIsUnavailableAndNamed) {
  auto store = open(server_.aws, {}, "no-such-bucket-here");
  auto ping = store->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, Errc::unavailable);
  EXPECT_NE(ping.error().message.find("bucket no-such-bucket-here does not exist"), std::string::npos)
      << ping.error().message;
  auto get = store->get("x.json");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().code, Errc::unavailable) << get.error().message;
}

TEST_F(S3MinioTest, PutReturnsTheSameEtagAsHeadAndList) {
  auto info = store_->put("e/k.json", "{\"a\":1}");
  ASSERT_TRUE(info.ok()) << info.error().message;
  auto head = store_->head("e/k.json");
  ASSERT_TRUE(head.ok());
  auto listed = store_->list("e/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(info->etag, head->etag);
  EXPECT_EQ(info->etag, (*listed)[0].etag);
  EXPECT_EQ((*listed)[0].size, 7u);
  const auto now = std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(head->last_modified - now), std::chrono::minutes(5));
  EXPECT_LT(std::chrono::abs((*listed)[0].last_modified - now), std::chrono::minutes(5));
}

}  // namespace
}  // namespace etl

// Vended credentials of the Iceberg REST catalog: the session policy, the keys
// clients read, reuse per table, and (on the test MinIO) real STS credentials
// that read one table's prefix and cannot write or read another table.
#include "credential_vendor.h"

#include <gtest/gtest.h>

#include "../shared/s3_test_env.h"
#include "etl/object_store.h"
#include "rest_catalog.h"

namespace etl::cataloger::iceberg {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

aws::ExpiringCredentials issued(const std::string& key, std::chrono::system_clock::time_point expiration) {
  return {{key, "secret-" + key, "token-" + key}, expiration};
}

Config s3_config(const std::string& url) {
  Config config;
  config.transformed_url = url;
  config.iceberg_vended_credentials = "sts";
  config.iceberg_vended_role_arn = "arn:aws:iam::000000000000:role/readers";
  config.aws.endpoint_url_s3 = "http://127.0.0.1:9";
  return config;
}

TEST(CredentialVendor, ThePolicyReadsOneTablePrefixAndNothingElse) {
  auto policy = json::parse(read_policy("lake", "warehouse/songs_data/"));
  ASSERT_EQ(policy["Statement"].size(), 2u);
  for (const auto& statement : policy["Statement"]) {
    EXPECT_EQ(statement["Effect"], "Allow");
    for (const auto& action : statement["Action"])
      EXPECT_TRUE(action == "s3:GetObject" || action == "s3:ListBucket") << action << ": never a write";
  }
  EXPECT_EQ(policy["Statement"][0]["Resource"][0], "arn:aws:s3:::lake/warehouse/songs_data/*");
  EXPECT_EQ(policy["Statement"][1]["Condition"]["StringLike"]["s3:prefix"][0], "warehouse/songs_data/*");
}

TEST(CredentialVendor, ClientConfigUsesTheKeysIcebergClientsRead) {
  auto c = client_config(issued("AK", std::chrono::system_clock::time_point(1700000000s)), "eu-west-1", "http://minio:9000");
  EXPECT_EQ(c["s3.access-key-id"], "AK");
  EXPECT_EQ(c["s3.secret-access-key"], "secret-AK");
  EXPECT_EQ(c["s3.session-token"], "token-AK");
  EXPECT_EQ(c["s3.session-token-expires-at-ms"], "1700000000000");
  EXPECT_EQ(c["s3.region"], "eu-west-1");
  EXPECT_EQ(c["s3.endpoint"], "http://minio:9000");
  EXPECT_EQ(c["s3.path-style-access"], "true");
  EXPECT_FALSE(client_config(issued("AK", {}), "us-east-1", "").contains("s3.endpoint")) << "AWS itself: no endpoint";
}

TEST(CredentialVendor, CredentialsAreReusedPerTableUntilTwoThirdsOfTheirLifeKeepingTenMinutesLeft) {
  int calls = 0;
  std::vector<std::string> policies;
  std::chrono::seconds lifetime = 1h;
  auto vendor = CredentialVendor::open(s3_config("s3://lake/warehouse"), [&](const aws::AssumeRoleOptions& o) {
                  ++calls;
                  policies.push_back(o.policy);
                  EXPECT_EQ(o.role_arn, "arn:aws:iam::000000000000:role/readers");
                  EXPECT_EQ(o.duration, 900s);
                  EXPECT_EQ(o.sts_endpoint, "http://127.0.0.1:9") << "MinIO answers STS on its S3 endpoint";
                  return Result<aws::ExpiringCredentials>(
                      issued("K" + std::to_string(calls), std::chrono::system_clock::now() + lifetime));
                }).value();
  auto first = vendor->vend("songs_data").value();
  EXPECT_EQ(first["config"]["s3.access-key-id"], "K1");
  EXPECT_EQ(first["storage-credentials"][0]["prefix"], "s3://lake/warehouse/songs_data/");
  EXPECT_EQ(first["storage-credentials"][0]["config"], first["config"]);
  EXPECT_EQ(vendor->vend("songs_data").value()["config"]["s3.access-key-id"], "K1") << "reused";
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(vendor->vend("albums_data").value()["config"]["s3.access-key-id"], "K2") << "each table its own";
  EXPECT_NE(policies[1].find("warehouse/albums_data/"), std::string::npos);
  lifetime = -1s;  // already expired: the next load asks STS again
  EXPECT_EQ(vendor->vend("artists_data").value()["config"]["s3.access-key-id"], "K3");
  EXPECT_EQ(vendor->vend("artists_data").value()["config"]["s3.access-key-id"], "K4");
  // Never handed out with less than 10 minutes left, however young: keys that
  // live 9 minutes are asked for anew on each load (two thirds of their life
  // would have reused them for 6), keys that live 15 minutes are reused.
  lifetime = 9min;
  EXPECT_EQ(vendor->vend("tracks_data").value()["config"]["s3.access-key-id"], "K5");
  EXPECT_EQ(vendor->vend("tracks_data").value()["config"]["s3.access-key-id"], "K6");
  lifetime = 15min;
  EXPECT_EQ(vendor->vend("genres_data").value()["config"]["s3.access-key-id"], "K7");
  EXPECT_EQ(vendor->vend("genres_data").value()["config"]["s3.access-key-id"], "K7") << "10 minutes and more left";
}

TEST(CredentialVendor, RefusalsAreErrorsNamingTheTableAndFileStoresAreRefused) {
  auto vendor = CredentialVendor::open(s3_config("s3://lake"), [](const aws::AssumeRoleOptions&) {
                  return Result<aws::ExpiringCredentials>(make_error(Errc::unauthorized, "HTTP 403 AccessDenied"));
                }).value();
  auto refused = vendor->vend("songs_data");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::unauthorized);
  EXPECT_NE(refused.error().message.find("songs_data"), std::string::npos);
  EXPECT_NE(refused.error().message.find("AccessDenied"), std::string::npos);
  EXPECT_FALSE(CredentialVendor::open(s3_config("file:///tmp/x"), [](const aws::AssumeRoleOptions&) {
                 return Result<aws::ExpiringCredentials>(make_error(Errc::internal, "unused"));
               }).ok());
}

// On the test MinIO (STS AssumeRole with a session policy): the vended keys read
// the table's objects, and are refused a write and another table's objects.
TEST(CredentialVendor, MinioCredentialsReadTheTableOnly) {
  auto server = etl::testing::s3_test_server();
  if (!server) GTEST_SKIP() << "no test MinIO (ETL_TEST_S3_*): run under scripts/test.sh";
  const std::string url = "s3://" + server->bucket + "/" + etl::testing::unique_s3_prefix("vend");
  Config config = s3_config(url);
  config.aws = server->aws;
  auto owner = std::shared_ptr<ObjectStore>(open_object_store(url, server->aws).value());
  ASSERT_TRUE(owner->put("songs_data/dt=2026-01-01/a.parquet", "rows").ok());
  ASSERT_TRUE(owner->put("albums_data/dt=2026-01-01/a.parquet", "other rows").ok());
  auto vendor = CredentialVendor::open(config).value();
  auto granted = vendor->vend("songs_data");
  ASSERT_TRUE(granted.ok()) << granted.error().message;
  const json& c = (*granted)["config"];
  AwsConfig as_reader = server->aws;
  as_reader.access_key_id = c["s3.access-key-id"];
  as_reader.secret_access_key = c["s3.secret-access-key"];
  as_reader.session_token = c["s3.session-token"];
  ASSERT_NE(as_reader.access_key_id, server->aws.access_key_id) << "temporary keys, not the cataloger's";
  auto reader = std::shared_ptr<ObjectStore>(open_object_store(url, as_reader).value());
  auto read = reader->get("songs_data/dt=2026-01-01/a.parquet");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "rows");
  EXPECT_FALSE(reader->put("songs_data/dt=2026-01-01/b.parquet", "forged").ok()) << "never a write";
  EXPECT_FALSE(reader->get("albums_data/dt=2026-01-01/a.parquet").ok()) << "never another table";
  EXPECT_EQ(owner->head("songs_data/dt=2026-01-01/b.parquet").error().code, Errc::not_found);
  EXPECT_TRUE(owner->remove("songs_data/dt=2026-01-01/a.parquet").ok());
  EXPECT_TRUE(owner->remove("albums_data/dt=2026-01-01/a.parquet").ok());
}

}  // namespace
}  // namespace etl::cataloger::iceberg

// The pure parts of the S3 backend: URLs, endpoints and addressing, key and query
// encoding, retry classification and error meaning, dates, part sizes.
#include "s3_protocol.h"

#include <gtest/gtest.h>

namespace etl::s3 {
namespace {

using namespace std::chrono;

AwsConfig with_endpoint(std::string endpoint, std::string region = "us-east-1") {
  AwsConfig aws;
  aws.region = std::move(region);
  aws.endpoint_url_s3 = std::move(endpoint);
  return aws;
}

TEST(S3Url, BucketAndPrefixAreSplitAndTrailingSlashesDropped) {
  auto loc = parse_url("s3://my-bucket/raw/area/");
  ASSERT_TRUE(loc.ok()) << loc.error().message;
  EXPECT_EQ(loc->bucket, "my-bucket");
  EXPECT_EQ(loc->prefix, "raw/area");
  auto bare = parse_url("s3://my-bucket");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->prefix, "");
  auto slash = parse_url("s3://my-bucket/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->prefix, "");
}

TEST(S3Url, BadBucketsAndPrefixesAreRefused) {
  for (const char* url : {"s3://", "s3:///prefix", "s3://ab/x", "s3://bad bucket/x", "s3://bucket/../up",
                          "s3://bucket/a//b", "file:///x", "s3://bu?cket"}) {
    auto loc = parse_url(url);
    ASSERT_FALSE(loc.ok()) << "accepted " << url;
    EXPECT_EQ(loc.error().code, Errc::invalid_argument);
  }
}

TEST(S3Endpoint, CustomEndpointsArePathStyle) {
  auto ep = make_endpoint(with_endpoint("http://127.0.0.1:9000"), "raw");
  ASSERT_TRUE(ep.ok()) << ep.error().message;
  EXPECT_TRUE(ep->path_style);
  EXPECT_TRUE(ep->custom);
  EXPECT_EQ(ep->host, "127.0.0.1:9000");
  EXPECT_EQ(ep->path("to_be_processed/a b.json"), "/raw/to_be_processed/a%20b.json");
  EXPECT_EQ(ep->path(""), "/raw");
  EXPECT_EQ(ep->url(ep->path("k"), {{"uploadId", "a/b+c"}, {"partNumber", "1"}}),
            "http://127.0.0.1:9000/raw/k?uploadId=a%2Fb%2Bc&partNumber=1");
  EXPECT_EQ(ep->display(), "http://127.0.0.1:9000");
}

TEST(S3Endpoint, S3SpecificEndpointWinsOverTheGeneralOne) {
  AwsConfig aws;
  aws.endpoint_url = "http://general:1";
  aws.endpoint_url_s3 = "http://specific:2";
  EXPECT_EQ(make_endpoint(aws, "b-1")->host, "specific:2");
  aws.endpoint_url_s3.clear();
  EXPECT_EQ(make_endpoint(aws, "b-1")->host, "general:1");
}

TEST(S3Endpoint, DefaultPortsLeaveTheHostHeaderAndBasePathsAreKept) {
  EXPECT_EQ(make_endpoint(with_endpoint("http://minio:80"), "b-1")->host, "minio");
  EXPECT_EQ(make_endpoint(with_endpoint("https://minio:443"), "b-1")->host, "minio");
  EXPECT_EQ(make_endpoint(with_endpoint("https://minio:9443"), "b-1")->host, "minio:9443");
  EXPECT_EQ(make_endpoint(with_endpoint("http://[::1]:9000"), "b-1")->host, "[::1]:9000");
  EXPECT_EQ(make_endpoint(with_endpoint("http://[::1]"), "b-1")->host, "[::1]");
  auto based = make_endpoint(with_endpoint("http://gw:8080/storage/"), "b-1");
  ASSERT_TRUE(based.ok());
  EXPECT_EQ(based->path("k"), "/storage/b-1/k");
}

TEST(S3Endpoint, BadCustomEndpointsAreRefusedWithoutEchoingThem) {
  for (const char* url : {"ftp://x", "http://", "http://host:0", "http://host:99999", "http://host:x",
                          "http://host/?q=1", "http://user:hunter2@host:9000"}) {
    auto ep = make_endpoint(with_endpoint(url), "bucket");
    ASSERT_FALSE(ep.ok()) << "accepted " << url;
    EXPECT_EQ(ep.error().code, Errc::invalid_argument);
    EXPECT_EQ(ep.error().message.find("hunter2"), std::string::npos);
    EXPECT_NE(ep.error().message.find("AWS_ENDPOINT_URL_S3"), std::string::npos) << ep.error().message;
  }
}

TEST(S3Endpoint, AwsIsVirtualHostedInTheConfiguredRegion) {
  AwsConfig aws;
  aws.region = "eu-west-1";
  auto ep = make_endpoint(aws, "spotify-raw");
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->path_style);
  EXPECT_FALSE(ep->custom);
  EXPECT_EQ(ep->scheme, "https");
  EXPECT_EQ(ep->host, "spotify-raw.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(ep->path("a/b c.json"), "/a/b%20c.json");
  EXPECT_EQ(ep->path(""), "/");
  aws.region = "cn-north-1";
  EXPECT_EQ(make_endpoint(aws, "spotify-raw")->host, "spotify-raw.s3.cn-north-1.amazonaws.com.cn");
}

TEST(S3Endpoint, DottedBucketsGoPathStyleOnAwsBecauseOfTls) {
  AwsConfig aws;
  aws.region = "us-west-2";
  auto ep = make_endpoint(aws, "my.dotted.bucket");
  ASSERT_TRUE(ep.ok());
  EXPECT_TRUE(ep->path_style);
  EXPECT_EQ(ep->host, "s3.us-west-2.amazonaws.com");
  EXPECT_EQ(ep->path("k"), "/my.dotted.bucket/k");
}

TEST(S3Endpoint, ARegionThatCannotBeAHostNameIsRefused) {
  AwsConfig aws;
  aws.region = "evil.com/x";
  auto ep = make_endpoint(aws, "bucket");
  ASSERT_FALSE(ep.ok());
  EXPECT_NE(ep.error().message.find("AWS_REGION"), std::string::npos);
}

TEST(S3Encoding, KeysAreEncodedPerSegmentKeepingSlashes) {
  EXPECT_EQ(encode_key("to_be_processed/spotify_raw_20260303T100000Z.json"),
            "to_be_processed/spotify_raw_20260303T100000Z.json");
  EXPECT_EQ(encode_key("a b/c+d/e=f&g?h#i"), "a%20b/c%2Bd/e%3Df%26g%3Fh%23i");
  EXPECT_EQ(encode_key("ünï/~-._"), "%C3%BCn%C3%AF/~-._");
  EXPECT_EQ(encode_key("dt=2026-03-03/x:y"), "dt%3D2026-03-03/x%3Ay");
}

TEST(S3Encoding, QueryValuesAreFullyEncodedAndValuelessNamesKeepTheirEquals) {
  EXPECT_EQ(encode_query({{"list-type", "2"}, {"prefix", "raw/a b"}, {"continuation-token", "1u/+x="}}),
            "list-type=2&prefix=raw%2Fa%20b&continuation-token=1u%2F%2Bx%3D");
  EXPECT_EQ(encode_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(encode_query({}), "");
}

TEST(S3Retry, ThrottlingServerErrorsAndTimeoutsAreRetried) {
  EXPECT_TRUE(is_retryable(503, "SlowDown"));
  EXPECT_TRUE(is_retryable(503, ""));
  EXPECT_TRUE(is_retryable(500, "InternalError"));
  EXPECT_TRUE(is_retryable(502, ""));
  EXPECT_TRUE(is_retryable(504, ""));
  EXPECT_TRUE(is_retryable(429, ""));
  EXPECT_TRUE(is_retryable(400, "RequestTimeout"));
  EXPECT_TRUE(is_retryable(200, "InternalError")) << "CopyObject's 200 with an error body";
  EXPECT_TRUE(is_retryable(409, "OperationAborted"));
}

TEST(S3Retry, ClientErrorsAreNotRetried) {
  EXPECT_FALSE(is_retryable(404, "NoSuchKey"));
  EXPECT_FALSE(is_retryable(404, "NoSuchBucket"));
  EXPECT_FALSE(is_retryable(403, "AccessDenied"));
  EXPECT_FALSE(is_retryable(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(is_retryable(400, "InvalidArgument"));
  EXPECT_FALSE(is_retryable(501, "NotImplemented"));
  EXPECT_FALSE(is_retryable(412, "PreconditionFailed"));
}

TEST(S3Retry, FailuresMapToWhatTheyMeanForTheCaller) {
  EXPECT_EQ(errc_for(404, "NoSuchKey"), Errc::not_found);
  EXPECT_EQ(errc_for(404, ""), Errc::not_found) << "HEAD answers carry no body";
  EXPECT_EQ(errc_for(404, "NoSuchBucket"), Errc::unavailable);
  EXPECT_EQ(errc_for(403, "AccessDenied"), Errc::unauthorized);
  EXPECT_EQ(errc_for(403, "InvalidAccessKeyId"), Errc::unauthorized);
  EXPECT_EQ(errc_for(403, "SignatureDoesNotMatch"), Errc::unauthorized);
  EXPECT_EQ(errc_for(400, "ExpiredToken"), Errc::unauthorized);
  EXPECT_EQ(errc_for(403, ""), Errc::unauthorized);
  EXPECT_EQ(errc_for(301, ""), Errc::unavailable);
  EXPECT_EQ(errc_for(400, "AuthorizationHeaderMalformed"), Errc::unavailable);
  EXPECT_EQ(errc_for(503, "SlowDown"), Errc::unavailable);
  EXPECT_EQ(errc_for(500, ""), Errc::unavailable);
  EXPECT_EQ(errc_for(400, "EntityTooLarge"), Errc::too_large);
  EXPECT_EQ(errc_for(400, "KeyTooLongError"), Errc::invalid_argument);
  EXPECT_EQ(errc_for(412, "PreconditionFailed"), Errc::conflict);
  EXPECT_EQ(errc_for(400, "MalformedXML"), Errc::internal);
}

TEST(S3Retry, BackoffGrowsIsJitteredAndCapped) {
  const milliseconds base{100}, cap{5000};
  EXPECT_EQ(backoff_delay(1, base, cap, 0.0), milliseconds(50));
  EXPECT_EQ(backoff_delay(1, base, cap, 0.999), milliseconds(99));
  EXPECT_EQ(backoff_delay(2, base, cap, 0.0), milliseconds(100));
  EXPECT_EQ(backoff_delay(3, base, cap, 0.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(4, base, cap, 1.0), milliseconds(800));
  EXPECT_EQ(backoff_delay(10, base, cap, 1.0), cap);
  EXPECT_EQ(backoff_delay(10, base, cap, 0.0), cap / 2);
  EXPECT_EQ(backoff_delay(1000, base, cap, 0.5), milliseconds(3750)) << "no overflow for absurd attempt counts";
  for (int attempt = 1; attempt < 40; ++attempt) {
    auto d = backoff_delay(attempt, base, cap, 0.7);
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d, cap);
  }
}

TEST(S3Dates, Rfc1123AsInLastModified) {
  auto t = parse_http_date("Tue, 03 Mar 2026 10:15:30 GMT");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, sys_days{2026y / 3 / 3} + 10h + 15min + 30s);
  for (const char* bad : {"", "Tue, 03 Mar 2026 10:15:30", "Tue, 03 Foo 2026 10:15:30 GMT", "Tue, 31 Feb 2026 10:15:30 GMT",
                          "Tue, 03 Mar 2026 25:15:30 GMT", "03 Mar 2026 10:15:30 GMT", "Tue, 3 Mar 2026 10:15:30 GMT"})
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
}

TEST(S3Dates, Iso8601AsInListings) {
  EXPECT_EQ(parse_iso8601("2026-03-03T10:15:30.000Z"), sys_days{2026y / 3 / 3} + 10h + 15min + 30s);
  EXPECT_EQ(parse_iso8601("2026-03-03T10:15:30.25Z"), sys_days{2026y / 3 / 3} + 10h + 15min + 30s + 250ms);
  EXPECT_EQ(parse_iso8601("2026-03-03T10:15:30Z"), sys_days{2026y / 3 / 3} + 10h + 15min + 30s);
  EXPECT_EQ(parse_iso8601("2026-03-03T10:15:30.123456789Z"), sys_days{2026y / 3 / 3} + 10h + 15min + 30s + 123ms);
  for (const char* bad : {"", "2026-03-03", "2026-03-03T10:15:30", "2026-13-03T10:15:30Z", "2026-03-03T10:15:30.Z",
                          "2026-03-03T10:15:30+02:00", "yyyy-03-03T10:15:30Z"})
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
}

TEST(S3Misc, EtagQuotesAreStripped) {
  EXPECT_EQ(strip_etag_quotes("\"abc\""), "abc");
  EXPECT_EQ(strip_etag_quotes("W/\"abc-2\""), "abc-2");
  EXPECT_EQ(strip_etag_quotes("abc"), "abc");
  EXPECT_EQ(strip_etag_quotes("\""), "\"");
  EXPECT_EQ(strip_etag_quotes(""), "");
}

TEST(S3Misc, PartSizeGrowsToStayWithinTenThousandParts) {
  EXPECT_EQ(part_size_for(256ull << 20, 8ull << 20), 8ull << 20);
  EXPECT_EQ(part_size_for(100'000'000'000ull, 8ull << 20), 10'000'000ull);
  EXPECT_EQ(part_size_for(100'000'000'001ull, 8ull << 20), 10'000'001ull);
  EXPECT_EQ(part_size_for(10, 0), 1u);
}

TEST(S3Misc, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_for("to_be_processed/x.json"), "application/json");
  EXPECT_EQ(content_type_for("songs_data/dt=2026-03-03/x.parquet"), "application/vnd.apache.parquet");
  EXPECT_EQ(content_type_for("t/x.csv"), "text/csv");
  EXPECT_EQ(content_type_for("t/x.jsonl"), "application/x-ndjson");
  EXPECT_EQ(content_type_for("dir.json/noext"), "application/octet-stream");
}

}  // namespace
}  // namespace etl::s3

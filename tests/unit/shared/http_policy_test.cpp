#include "http_policy.h"
#include "http_router.h"

#include <gtest/gtest.h>

#include "etl/metrics.h"

namespace etl::http {
namespace {

TEST(HttpPolicy, BearerSchemeIsCaseInsensitiveAndTheTokenExact) {
  EXPECT_TRUE(policy::bearer_matches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(policy::bearer_matches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(policy::bearer_matches("BEARER   s3cret ", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("Bearer s3cretX", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("Bearers3cret", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("Bearer ", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("", "s3cret"));
  EXPECT_FALSE(policy::bearer_matches("Bearer x", "")) << "no configured token never matches";
}

TEST(HttpPolicy, HostNamesOfALoopbackListener) {
  const std::vector<std::string> extra = {"etl.internal"};
  EXPECT_TRUE(policy::host_allowed("localhost:8083", "127.0.0.1", extra));
  EXPECT_TRUE(policy::host_allowed("127.0.0.1:8083", "127.0.0.1", extra));
  EXPECT_TRUE(policy::host_allowed("[::1]:8083", "127.0.0.1", extra));
  EXPECT_TRUE(policy::host_allowed("LOCALHOST", "127.0.0.1", extra));
  EXPECT_TRUE(policy::host_allowed("127.0.0.2:1", "127.0.0.2", extra)) << "the bound address";
  EXPECT_TRUE(policy::host_allowed("etl.internal:8083", "127.0.0.1", extra)) << "a configured extra name";
  EXPECT_TRUE(policy::host_allowed("", "127.0.0.1", extra)) << "HTTP/1.0 without Host";
  EXPECT_FALSE(policy::host_allowed("evil.example:8083", "127.0.0.1", extra)) << "DNS rebinding";
  EXPECT_FALSE(policy::host_allowed("localhost.evil.example", "127.0.0.1", extra));
  EXPECT_EQ(policy::host_name("[::1]:80"), "::1");
  EXPECT_EQ(policy::host_name("Example.COM:80"), "example.com");
}

TEST(HttpPolicy, JsonBodiesMustSayApplicationJson) {
  EXPECT_TRUE(policy::json_body_acceptable("application/json", true, true));
  EXPECT_TRUE(policy::json_body_acceptable("Application/JSON; charset=utf-8", true, false));
  EXPECT_TRUE(policy::json_body_acceptable("", false, false)) << "curl -X POST without a body";
  EXPECT_FALSE(policy::json_body_acceptable("", false, true)) << "a browser's body-less POST";
  EXPECT_FALSE(policy::json_body_acceptable("text/plain", true, false)) << "a form a web page can post";
  EXPECT_FALSE(policy::json_body_acceptable("application/x-www-form-urlencoded", true, false));
  EXPECT_FALSE(policy::json_body_acceptable("", true, false));
  EXPECT_FALSE(policy::json_body_acceptable("application/jsonp", true, false));
  EXPECT_TRUE(policy::json_body_acceptable("application/x-www-form-urlencoded", false, false)) << "libcurl labels an empty POST so";
  EXPECT_FALSE(policy::json_body_acceptable("application/x-www-form-urlencoded", false, true)) << "an empty cross-site form POST";
}

TEST(HttpPolicy, KnownMethods) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT", "QUERY"})
    EXPECT_TRUE(policy::is_known_method(m)) << m;
  for (const char* m : {"PRI", "FOO", "get", "PROPFIND", ""}) EXPECT_FALSE(policy::is_known_method(m)) << m;
}

TEST(HttpPolicy, ResponsesAreGzippedWhenWorthItNeverBrotli) {
  using policy::response_encoding;
  const std::size_t big = policy::kCompressMinBytes, small = policy::kCompressMinBytes - 1;
  EXPECT_EQ(response_encoding("gzip, deflate, br", big), "gzip") << "a browser's header: gzip, not brotli";
  EXPECT_EQ(response_encoding("deflate, gzip, br, zstd", big), "gzip");
  EXPECT_EQ(response_encoding("br", big), "") << "brotli only: sent uncompressed";
  EXPECT_EQ(response_encoding("gzip, deflate, br", small), "") << "a small body is not worth compressing";
  EXPECT_EQ(response_encoding("", big), "");
  EXPECT_EQ(response_encoding("identity", big), "");
  EXPECT_EQ(response_encoding("GZip;q=0.5", big), "gzip");
  EXPECT_EQ(response_encoding("gzip;q=0", big), "") << "q=0 refuses it";
  EXPECT_EQ(response_encoding("gzip; q=0.000, br", big), "");
  EXPECT_EQ(response_encoding("*", big), "gzip");
  EXPECT_EQ(response_encoding("*, gzip;q=0", big), "") << "named refusal wins over *";
  EXPECT_EQ(response_encoding("x-gzip", big), "gzip");
}

TEST(HttpRouter, MatchesTemplatesAndListsAllowedMethods) {
  Router router;
  Handler h = [](const Request&) { return Response{}; };
  ASSERT_TRUE(router.add("GET", "/v1/query/{query_id}", h).ok());
  ASSERT_TRUE(router.add("DELETE", "/v1/query/{query_id}", h).ok());
  ASSERT_TRUE(router.add("POST", "/v1/query", h).ok());
  ASSERT_TRUE(router.add("GET", "/v1/tables/{name}/partitions", h).ok());
  auto m = router.match("GET", "/v1/query/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->path_template, "/v1/query/{query_id}");
  EXPECT_EQ(m.params, std::vector<std::string>{"abc"});
  EXPECT_EQ(m.allow, "DELETE, GET, HEAD, OPTIONS");
  EXPECT_NE(router.match("HEAD", "/v1/query/abc").route, nullptr);
  auto wrong = router.match("PUT", "/v1/query/abc");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allow, "DELETE, GET, HEAD, OPTIONS");
  EXPECT_EQ(router.match("GET", "/v1/query").allow, "OPTIONS, POST");
  EXPECT_TRUE(router.match("GET", "/v1/query/").allow.empty()) << "an empty segment is no id";
  EXPECT_TRUE(router.match("GET", "/v1/query/a/b").allow.empty());
  EXPECT_TRUE(router.match("GET", "/v1/nothing").allow.empty());
  auto nested = router.match("GET", "/v1/tables/songs_data/partitions");
  ASSERT_NE(nested.route, nullptr);
  EXPECT_EQ(nested.params, std::vector<std::string>{"songs_data"});
}

TEST(HttpRouter, RefusesTemplatesThatAreNotPaths) {
  Router router;
  Handler h = [](const Request&) { return Response{}; };
  EXPECT_FALSE(router.add("GET", "v1/x", h).ok());
  EXPECT_FALSE(router.add("GET", "/v1/([^/]+)", h).ok());
  EXPECT_FALSE(router.add("GET", "/v1/{a b}", h).ok());
  EXPECT_FALSE(router.add("GET", "/v1//x", h).ok());
}

// A template may end in a slash (the contract's GET /v1/runs/ alias): it matches
// that path only, and the template without it keeps its own.
TEST(HttpRouter, ATrailingSlashTemplateMatchesOnlyItsPath) {
  Router router;
  Handler h = [](const Request&) { return Response{}; };
  ASSERT_TRUE(router.add("GET", "/v1/runs", h).ok());
  ASSERT_TRUE(router.add("GET", "/v1/runs/", h).ok());
  ASSERT_TRUE(router.add("GET", "/v1/runs/{run_id}", h).ok());
  EXPECT_EQ(router.match("GET", "/v1/runs/").route->path_template, "/v1/runs/");
  EXPECT_EQ(router.match("GET", "/v1/runs").route->path_template, "/v1/runs");
  EXPECT_EQ(router.match("GET", "/v1/runs/r1").route->path_template, "/v1/runs/{run_id}");
  EXPECT_EQ(router.match("GET", "/v1/runs//").route, nullptr);
  EXPECT_FALSE(router.add("GET", "/v1//", h).ok());
}

TEST(MetricsFormat, BoundsAndValuesInShortestRoundTripForm) {
  EXPECT_EQ(format_metric_value(0.0025), "0.0025");
  EXPECT_EQ(format_metric_value(0.05), "0.05");
  EXPECT_EQ(format_metric_value(60), "60");
  EXPECT_EQ(format_metric_value(1e21), "1e+21");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  MetricsRegistry registry;
  registry.histogram("spotify_etl_test_seconds", "help with \\ and\nnewline").observe(0.003);
  auto text = registry.render();
  EXPECT_NE(text.find("le=\"0.0025\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP spotify_etl_test_seconds help with \\\\ and\\nnewline\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace etl::http

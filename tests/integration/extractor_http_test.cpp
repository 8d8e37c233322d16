// The extractor's HTTP API over real HTTP: accepted runs, bad requests as
// problem+json 4xx (never 500), auth, readiness, OpenAPI and metrics.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "extractor_env.h"

namespace etl::extractor {
namespace {

using etl::testing::call;
using etl::testing::wait_until;
using testenv::Env;
namespace fake = etl::fakespotify;
using json = nlohmann::json;

void expect_problem(const etl::testing::HttpResult& r, int status, const std::string& detail_part, const std::string& what) {
  EXPECT_EQ(r.status, status) << what << ": " << r.body;
  EXPECT_EQ(r.content_type, "application/problem+json") << what;
  auto body = r.json();
  EXPECT_EQ(body.value("status", 0), status) << what;
  EXPECT_NE(body.value("detail", "").find(detail_part), std::string::npos)
      << what << ": detail '" << body.value("detail", "") << "' should mention '" << detail_part << "'";
}

json wait_final(const std::string& base, const std::string& run_id, const std::string& token = {}) {
  json last;
  EXPECT_TRUE(wait_until([&] {
    auto r = call("GET", base + "/v1/runs/" + run_id, {}, token);
    last = r.json();
    auto status = last.value("status", "");
    return r.status == 200 && status != "queued" && status != "running";
  }, std::chrono::seconds(20)))
      << "run " << run_id << " did not finish: " << last.dump();
  return last;
}

TEST(ExtractorHttp, PostRunIsAcceptedWithALocationAndCanBeFollowed) {
  Env env;
  auto& svc = env.start();
  const std::string base = svc.base_url();
  http::Client client;
  http::ClientRequest req;
  req.method = "POST";
  req.url = base + "/v1/runs";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = json{{"sources", {{{"type", "playlist"}, {"id", fake::kDemoPlaylistId}}, {{"type", "search"}, {"query", "Love"}}}},
                  {"market", "US"}}
                 .dump();
  auto res = client.send(req);
  ASSERT_TRUE(res.ok()) << res.error().message;
  ASSERT_EQ(res->status, 202) << res->body;
  auto accepted = json::parse(res->body);
  const std::string run_id = accepted["run_id"];
  EXPECT_EQ(accepted["status"], "queued");
  EXPECT_EQ(res->header("location"), "/v1/runs/" + run_id);

  auto run = wait_final(base, run_id);
  EXPECT_EQ(run["status"], "succeeded") << run.dump(2);
  EXPECT_EQ(run["market"], "US");
  EXPECT_EQ(run["trigger"], "api");
  ASSERT_EQ(run["sources"].size(), 2u);
  for (const char* field : {"type", "id", "status", "pages", "items", "object_key", "error"})
    EXPECT_TRUE(run["sources"][0].contains(field)) << "source field " << field << " missing: " << run.dump();
  EXPECT_EQ(run["sources"][1]["id"], "love");
  EXPECT_TRUE(run["started_at"].is_string());
  EXPECT_TRUE(run["finished_at"].is_string());

  auto listed = call("GET", base + "/v1/runs?limit=5");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["runs"].size(), 1u);
  EXPECT_EQ(listed.json()["runs"][0]["run_id"], run_id);
}

TEST(ExtractorHttp, RunsAreListedNewestFirst) {
  Env env;
  auto& svc = env.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = call("POST", svc.base_url() + "/v1/runs", json{{"sources", {{{"type", "album"}, {"id", fake::kDemoAlbumId}}}}}.dump());
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.json()["run_id"]);
  }
  for (const auto& id : ids) wait_final(svc.base_url(), id);
  auto listed = call("GET", svc.base_url() + "/v1/runs").json()["runs"];
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0]["run_id"], ids[2]);
  EXPECT_EQ(listed[2]["run_id"], ids[0]);
  EXPECT_EQ(call("GET", svc.base_url() + "/v1/runs?limit=2").json()["runs"].size(), 2u);
  // The contract's alias with a trailing slash.
  auto slash = call("GET", svc.base_url() + "/v1/runs/?limit=2");
  ASSERT_EQ(slash.status, 200) << slash.body;
  EXPECT_EQ(slash.json()["runs"].size(), 2u);
}

TEST(ExtractorHttp, BadRequestsAreProblemJson4xxNeverA500) {
  Env env;
  env.config.max_request_body_bytes = 1024;
  auto& svc = env.start();
  const std::string runs = svc.base_url() + "/v1/runs";
  expect_problem(call("POST", runs, R"({"sources":[{"type":"playlist","id":"not-a-spotify-id"}]})"), 400, "22 base62",
                 "an invalid id");
  expect_problem(call("POST", runs, R"({"sources":[{"type":"podcast","id":"x"}]})"), 400, "unknown source type",
                 "an unknown type");
  expect_problem(call("POST", runs, R"({"sources": [)"), 400, "not valid JSON", "malformed JSON");
  expect_problem(call("POST", runs, R"([1,2])"), 400, "JSON object", "a non-object body");
  expect_problem(call("POST", runs, R"({"sources":"playlist:x"})"), 400, "sources", "sources not an array");
  expect_problem(call("POST", runs, R"({"sources":[{"type":"search","query":"a"},{"type":"search","query":"A"}]})"), 400,
                 "same object key", "duplicate sources");
  expect_problem(call("POST", runs, R"({"market":"Sweden","sources":[{"type":"search","query":"a"}]})"), 400, "market",
                 "a bad market");
  expect_problem(call("POST", runs, ""), 400, "ETL_SOURCES", "no sources at all");
  expect_problem(call("POST", runs, R"({"sources":[{"type":"search","query":")" + std::string(2000, 'x') + R"("}]})"), 413,
                 "limit", "a body over the limit");
  expect_problem(call("GET", runs + "/r20991231t000000000-zzzzzz"), 404, "r20991231t000000000-zzzzzz", "an unknown run id");
  expect_problem(call("GET", runs + "/..%2F..%2Fetc"), 404, "", "a hostile run id");
  expect_problem(call("GET", runs + "?limit=0"), 400, "limit", "limit=0");
  expect_problem(call("GET", runs + "?limit=abc"), 400, "limit", "limit=abc");
  EXPECT_TRUE(env.api_requests().empty()) << "nothing may reach Spotify for refused requests";
}

TEST(ExtractorHttp, ApiTokenGuardsV1ButNotHealthReadinessOrMetrics) {
  Env env;
  env.config.api_token = "s3cret-token";
  auto& svc = env.start();
  const std::string base = svc.base_url();
  const std::string body = json{{"sources", {{{"type", "album"}, {"id", fake::kDemoAlbumId}}}}}.dump();
  expect_problem(call("POST", base + "/v1/runs", body), 401, "token", "no token");
  expect_problem(call("POST", base + "/v1/runs", body, "wrong"), 401, "token", "a wrong token");
  expect_problem(call("GET", base + "/v1/runs"), 401, "token", "listing without a token");
  auto ok = call("POST", base + "/v1/runs", body, "s3cret-token");
  ASSERT_EQ(ok.status, 202) << ok.body;
  wait_final(base, ok.json()["run_id"], "s3cret-token");
  EXPECT_EQ(call("GET", base + "/healthz").status, 200);
  EXPECT_EQ(call("GET", base + "/readyz").status, 200);
  EXPECT_EQ(call("GET", base + "/metrics").status, 200);
  EXPECT_EQ(call("GET", base + "/metrics").body.find("s3cret-token"), std::string::npos) << "secrets never in metrics";
}

TEST(ExtractorHttp, ReadinessChecksTheRawStoreAndTheBus) {
  Env env;
  auto& svc = env.start();
  auto r = call("GET", svc.base_url() + "/readyz");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["checks"]["raw_store"], "ok");
  EXPECT_EQ(r.json()["checks"]["bus"], "ok");
}

TEST(ExtractorHttp, OpenApiDescribesTheRunEndpoints) {
  Env env;
  auto& svc = env.start();
  auto doc = call("GET", svc.base_url() + "/openapi.json").json();
  EXPECT_EQ(doc.value("openapi", "").rfind("3.", 0), 0u);
  EXPECT_TRUE(doc["paths"].contains("/v1/runs"));
  EXPECT_TRUE(doc["paths"]["/v1/runs"].contains("post"));
  EXPECT_TRUE(doc["paths"]["/v1/runs"].contains("get"));
  EXPECT_TRUE(doc["paths"].contains("/v1/runs/{run_id}"));
  EXPECT_TRUE(doc["paths"].contains("/healthz"));
}

TEST(ExtractorHttp, MetricsCountRunsSourcesPagesAndSpotifyRequests) {
  Env env;
  // The service's own Spotify client (from the configuration) writes the spotify_etl_spotify_* metrics.
  auto created = ExtractorService::create(env.config, env.bus);
  ASSERT_TRUE(created.ok()) << created.error().message;
  env.service = std::move(created).value();
  ASSERT_TRUE(env.service->start().ok());
  auto run = env.run({{SourceType::playlist, fake::kDemoPlaylistId}});
  ASSERT_EQ(run.status, RunStatus::succeeded) << run.sources[0].error;
  auto text = call("GET", env.service->base_url() + "/metrics").body;
  for (const char* name : {"spotify_etl_extractor_runs_total{status=\"succeeded\"} 1",
                           "spotify_etl_extractor_sources_total{", "spotify_etl_extractor_pages_total 2",
                           "spotify_etl_extractor_items_total 100", "spotify_etl_extractor_objects_landed_total 1",
                           "spotify_etl_extractor_bytes_landed_total", "spotify_etl_spotify_requests_total{status=\"200\"} 2"})
    EXPECT_NE(text.find(name), std::string::npos) << "metrics lack '" << name << "':\n" << text;
}

}  // namespace
}  // namespace etl::extractor

// The extractor's OpenAPI document and its request parsing state the same rules.
#include <gtest/gtest.h>

#include "etl/http_server.h"
#include "contract_docs.h"
#include "openapi_rules.h"
#include "routes.h"
#include "run_record.h"

namespace etl::extractor {
namespace {

bool accepted(const nlohmann::json& body) {
  http::Request req;
  req.body = body.dump();
  auto parsed = http::parse_json_object(req);
  if (!parsed) return false;
  auto run = parse_run_request(*parsed);
  if (!run) return false;
  run->trigger = "api";
  return validate_run_request(*run).ok();
}

TEST(ExtractorOpenApiRules, PostRunsBodyRulesAreTheParsersRules) {
  const auto doc = extractor_openapi();
  etl::testing::SchemaRules rules(doc);
  const auto& schema = etl::testing::request_schema(doc, "/v1/runs", "post");
  nlohmann::json valid = {{"sources", nlohmann::json::array({rules.valid(schema["properties"]["sources"]["items"]["anyOf"][0]),
                                                            rules.valid(schema["properties"]["sources"]["items"]["anyOf"][1])})},
                          {"market", "US"}};
  EXPECT_TRUE(accepted(valid)) << valid;
  EXPECT_TRUE(accepted(rules.valid(schema)));
  auto variants = rules.breaking(schema);
  EXPECT_GT(variants.size(), 15u);
  for (const auto& v : variants) EXPECT_FALSE(accepted(v.value)) << v.what << ": " << v.value;
}

TEST(ExtractorOpenApiRules, RunsLimitRulesAreTheParsersRules) {
  const auto doc = extractor_openapi();
  const auto& limit = doc["paths"]["/v1/runs"]["get"]["parameters"][0]["schema"];
  const long long min = limit["minimum"], max = limit["maximum"];
  EXPECT_TRUE(parse_runs_limit(std::to_string(min)).ok());
  EXPECT_TRUE(parse_runs_limit(std::to_string(max)).ok());
  EXPECT_EQ(*parse_runs_limit(std::nullopt), limit["default"].get<std::size_t>());
  EXPECT_FALSE(parse_runs_limit(std::to_string(min - 1)).ok());
  EXPECT_FALSE(parse_runs_limit(std::to_string(max + 1)).ok());
  EXPECT_FALSE(parse_runs_limit("1.5").ok());
}

TEST(ExtractorOpenApiRules, SecurityIsDeclaredOnlyWhenATokenIsRequired) {
  auto open = extractor_openapi();
  http::finish_openapi(open, false);
  EXPECT_FALSE(open["components"].contains("securitySchemes"));
  EXPECT_FALSE(open["paths"]["/v1/runs"]["post"].contains("security"));
  EXPECT_FALSE(open["paths"]["/v1/runs"]["post"]["responses"].contains("401"));
  auto closed = extractor_openapi();
  http::finish_openapi(closed, true);
  EXPECT_TRUE(closed["components"]["securitySchemes"].contains("bearer"));
  for (const auto& [path, item] : closed["paths"].items())
    for (const auto& [method, op] : item.items()) {
      const bool v1 = path.rfind("/v1/", 0) == 0;
      EXPECT_EQ(op.contains("security"), v1) << method << " " << path;
      EXPECT_EQ(op["responses"].contains("401"), v1) << method << " " << path;
    }
  EXPECT_EQ(closed["openapi"], "3.1.0");
}

// docs/contract.md §7 names every route the extractor publishes (and §7.1 the common ones).
TEST(ExtractorOpenApiRules, EveryPublishedRouteIsInTheContract) {
  auto doc = extractor_openapi();
  http::finish_openapi(doc, true);
  ASSERT_GE(doc.at("paths").size(), 4u);
  EXPECT_EQ(etl::testing::routes_missing_from_contract(doc), std::vector<std::string>{});
}

}  // namespace
}  // namespace etl::extractor

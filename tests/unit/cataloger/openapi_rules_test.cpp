// The cataloger's OpenAPI document and its request parsing state the same rules.
#include <gtest/gtest.h>

#include "etl/http_server.h"
#include "contract_docs.h"
#include "openapi_rules.h"
#include "routes.h"

namespace etl::cataloger {
namespace {

template <class Parse>
void check(const std::string& path, Parse parse, std::size_t at_least) {
  const auto doc = openapi_spec();
  etl::testing::SchemaRules rules(doc);
  const auto& schema = etl::testing::request_schema(doc, path, "post");
  auto accepted = [&](const nlohmann::json& body) {
    http::Request req;
    req.body = body.dump();
    auto parsed = http::parse_json_object(req);
    return parsed && parse(*parsed).ok();
  };
  EXPECT_TRUE(accepted(rules.valid(schema))) << rules.valid(schema);
  auto variants = rules.breaking(schema);
  EXPECT_GE(variants.size(), at_least);
  for (const auto& v : variants) EXPECT_FALSE(accepted(v.value)) << path << " " << v.what << ": " << v.value;
}

TEST(CatalogerOpenApiRules, QueryBodyRulesAreTheParsersRules) { check("/v1/query", parse_query_request, 12); }

TEST(CatalogerOpenApiRules, CrawlBodyRulesAreTheParsersRules) { check("/v1/crawl", parse_crawl_request, 4); }

// docs/contract.md §7 names every route the cataloger publishes (and §7.1 the common ones).
TEST(CatalogerOpenApiRules, EveryPublishedRouteIsInTheContract) {
  auto doc = openapi_spec();
  http::finish_openapi(doc, true);
  ASSERT_GE(doc.at("paths").size(), 4u);
  EXPECT_EQ(etl::testing::routes_missing_from_contract(doc), std::vector<std::string>{});
}

}  // namespace
}  // namespace etl::cataloger

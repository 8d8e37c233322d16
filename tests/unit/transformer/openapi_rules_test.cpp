// The transformer's OpenAPI document and its request parsing state the same rules.
#include <gtest/gtest.h>

#include "etl/http_server.h"
#include "contract_docs.h"
#include "openapi_rules.h"
#include "transformer_service.h"

namespace etl::transformer {
namespace {

template <class Parse>
void check(const std::string& path, Parse parse) {
  const auto doc = transformer_openapi();
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
  EXPECT_GT(variants.size(), 3u);
  for (const auto& v : variants) EXPECT_FALSE(accepted(v.value)) << path << " " << v.what << ": " << v.value;
}

TEST(TransformerOpenApiRules, TransformBodyRulesAreTheParsersRules) {
  check("/v1/transform", parse_transform_request);
  // Cases the pattern must refuse as the parser does.
  for (const char* key : {"processed/", "processed/../x", "processed//x", "processed/./x", "raw/x", "processed/x/.."}) {
    EXPECT_FALSE(parse_transform_request({{"key", key}}).ok()) << key;
  }
  for (const char* key : {"processed/...", "processed/.x", "processed/..x/y", "to_be_processed/a b.json"}) {
    EXPECT_TRUE(parse_transform_request({{"key", key}}).ok()) << key;
  }
}

TEST(TransformerOpenApiRules, ReprocessBodyRulesAreTheParsersRules) {
  check("/v1/reprocess", parse_reprocess_request);
  for (const char* prefix : {"processed", "processed/", "to_be_processed/2026/", "processed//x"})
    EXPECT_TRUE(parse_reprocess_request({{"prefix", prefix}}).ok()) << prefix;
  for (const char* prefix : {"", "raw/", "processed/../", "processed/./x", "processedx"})
    EXPECT_FALSE(parse_reprocess_request({{"prefix", prefix}}).ok()) << prefix;
}

// docs/contract.md §7 names every route the transformer publishes (and §7.1 the common ones).
TEST(TransformerOpenApiRules, EveryPublishedRouteIsInTheContract) {
  auto doc = transformer_openapi();
  http::finish_openapi(doc, true);
  ASSERT_GE(doc.at("paths").size(), 4u);
  EXPECT_EQ(etl::testing::routes_missing_from_contract(doc), std::vector<std::string>{});
}

}  // namespace
}  // namespace etl::transformer

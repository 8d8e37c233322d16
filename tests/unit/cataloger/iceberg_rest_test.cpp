// The read-only Iceberg REST catalog (iceberg/rest_catalog.h): each reply over a
// file store holding one committed table, and the HTTP layer under /iceberg
// (HEAD answers 204, writes 403, the bearer token guards it, ErrorModel bodies).
#include "rest_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <tuple>

#include "etl/duck.h"
#include "etl/http_client.h"
#include "etl/http_server.h"
#include "routes.h"
#include "test_support.h"

namespace etl::cataloger::iceberg {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A file store where songs_data has one committed snapshot (3 rows in dt=2024-01-01)
// and albums_data is catalogued but not committed yet.
class IcebergRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(open_object_store("file://" + dir_.path().string(), AwsConfig{}).value());
    auto db = std::move(duck::Database::open(":memory:").value());
    auto conn = std::move(db->connect().value());
    const std::string key = "songs_data/dt=2024-01-01/a.parquet";
    fs::create_directories((dir_.path() / key).parent_path());
    Status s = conn->execute("COPY (SELECT 's' || i AS song_id, i::BIGINT AS n FROM range(3) t(i)) TO " +
                             duck::quote_literal((dir_.path() / key).string()) +
                             " (FORMAT parquet, FIELD_IDS {song_id: 1, n: 2})");
    ASSERT_TRUE(s.ok()) << s.error().message;
    IcebergTablesOptions options;
    options.files = dir_.path();
    tables_ = std::shared_ptr<IcebergTables>(std::move(IcebergTables::open(store_, options, metrics_).value()));
    TableState state;
    state.name = "songs_data";
    state.columns = {{"song_id", "VARCHAR"}, {"n", "BIGINT"}};
    state.partitions["2024-01-01"].files[key] = FileState{key, fs::file_size(dir_.path() / key), "", "parquet", "s"};
    state.data_version = 1;
    auto committed = tables_->commit(state);
    ASSERT_TRUE(committed.ok()) << committed.error().message;
    ASSERT_TRUE(committed->committed);
  }

  RestCatalog catalog(std::shared_ptr<IcebergTables> tables) {
    return RestCatalog("spotify", std::move(tables),
                       []() -> Result<std::vector<std::string>> { return std::vector<std::string>{"albums_data", "songs_data"}; });
  }

  static void expect_error(const RestReply& r, int status, const std::string& type, const std::string& says) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    EXPECT_EQ(r.body["error"]["type"], type) << r.body.dump();
    EXPECT_EQ(r.body["error"]["code"], status) << r.body.dump();
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find(says), std::string::npos) << r.body.dump();
  }

  etl::testing::TempDir dir_;
  MetricsRegistry metrics_;
  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<IcebergTables> tables_;
};

TEST_F(IcebergRestTest, ConfigHasNoDefaultsNoOverridesAndListsTheEndpointsServed) {
  auto r = catalog(tables_).config();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["defaults"], json::object());
  EXPECT_EQ(r.body["overrides"], json::object());
  const auto& endpoints = r.body["endpoints"];
  for (const char* served : {"GET /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}/tables",
                             "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                             "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}"})
    EXPECT_NE(std::find(endpoints.begin(), endpoints.end(), served), endpoints.end()) << served;
  EXPECT_EQ(std::count(endpoints.begin(), endpoints.end(), "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}"), 0)
      << "commits are refused, so not listed";
}

TEST_F(IcebergRestTest, ListingsArePagedWithTheTokensTheyHandOut) {
  // A second committed table, so that tables come in two pages of one.
  const std::string key = "albums_data/dt=2024-01-01/a.parquet";
  fs::create_directories((dir_.path() / key).parent_path());
  fs::copy_file(dir_.path() / "songs_data/dt=2024-01-01/a.parquet", dir_.path() / key);
  TableState state;
  state.name = "albums_data";
  state.columns = {{"song_id", "VARCHAR"}, {"n", "BIGINT"}};
  state.partitions["2024-01-01"].files[key] = FileState{key, fs::file_size(dir_.path() / key), "", "parquet", "s"};
  state.data_version = 1;
  ASSERT_TRUE(tables_->commit(state).ok());
  auto c = catalog(tables_);
  auto first = c.list_tables("spotify", {0, 1});
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(first.body["identifiers"].size(), 1u);
  EXPECT_EQ(first.body["identifiers"][0]["name"], "albums_data");
  ASSERT_EQ(first.body["next-page-token"], "1");
  auto page = std::get<PageRequest>(parse_page(first.body["next-page-token"].get<std::string>(), "1"));
  auto second = c.list_tables("spotify", page);
  ASSERT_EQ(second.body["identifiers"].size(), 1u);
  EXPECT_EQ(second.body["identifiers"][0]["name"], "songs_data");
  EXPECT_FALSE(second.body.contains("next-page-token")) << "the last page";
  EXPECT_EQ(c.list_tables("spotify").body["identifiers"].size(), 2u) << "no pageSize: everything";
  EXPECT_EQ(c.list_tables("spotify", {7, 0}).body["identifiers"].size(), 0u) << "past the end: an empty page";
  EXPECT_EQ(c.list_namespaces(std::nullopt, {0, 1}).body, json::parse(R"({"namespaces":[["spotify"]]})"));

  auto first_page = std::get<PageRequest>(parse_page("", std::nullopt));
  EXPECT_EQ(first_page.offset, 0u) << "an empty token asks for the first page";
  EXPECT_EQ(first_page.size, 0u);
  for (const auto& [token, size] : std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>{
           {"x", std::nullopt}, {"-1", std::nullopt}, {"99999999999", std::nullopt}, {std::nullopt, "0"},
           {std::nullopt, "1001"}, {std::nullopt, ""}, {std::nullopt, "ten"}}) {
    auto refused = parse_page(token, size);
    ASSERT_TRUE(std::holds_alternative<RestReply>(refused)) << token.value_or("-") << " " << size.value_or("-");
    expect_error(std::get<RestReply>(refused), 400, "BadRequestException", "page");
  }
}

TEST_F(IcebergRestTest, TheOneNamespaceIsTheDatabaseAndHasNoChildren) {
  auto c = catalog(tables_);
  EXPECT_EQ(c.list_namespaces(std::nullopt).body, json::parse(R"({"namespaces":[["spotify"]]})"));
  EXPECT_EQ(c.list_namespaces("spotify").body, json::parse(R"({"namespaces":[]})"));
  EXPECT_EQ(c.load_namespace("spotify").body, json::parse(R"({"namespace":["spotify"],"properties":{}})"));
  expect_error(c.load_namespace("other"), 404, "NoSuchNamespaceException", "other");
  expect_error(c.load_namespace("spotify\x1f" "inner"), 404, "NoSuchNamespaceException", "spotify");
  expect_error(c.list_tables("other"), 404, "NoSuchNamespaceException", "other");
  expect_error(c.load_table("other", "songs_data"), 404, "NoSuchNamespaceException", "other");
}

TEST_F(IcebergRestTest, NamespaceLevelsSplitOnTheUnitSeparatorDecodedOrNot) {
  EXPECT_EQ(namespace_levels("spotify"), std::vector<std::string>{"spotify"});
  EXPECT_EQ(namespace_levels("a\x1f" "b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(namespace_levels("a%1Fb"), (std::vector<std::string>{"a", "b"}));
}

TEST_F(IcebergRestTest, ListsOnlyTheTablesWithMetadataWithoutReadingIt) {
  Counter& reads = metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_total",
                                    "Iceberg metadata files fetched and parsed", {{"table", "songs_data"}});
  const double before = reads.value();
  auto r = catalog(tables_).list_tables("spotify");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json::parse(R"({"identifiers":[{"namespace":["spotify"],"name":"songs_data"}]})"));
  EXPECT_EQ(reads.value(), before) << "a listing fetched and parsed a table's metadata";
  // The counter this test watches: a load by another process (no metadata of its own) fetches.
  IcebergTablesOptions options;
  options.files = dir_.path();
  auto fresh = IcebergTables::open(store_, options, metrics_);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  std::shared_ptr<IcebergTables> other = std::move(fresh).value();
  (void)catalog(other).load_table("spotify", "songs_data", false);
  EXPECT_EQ(reads.value(), before + 1) << "the counter this test watches";
}

TEST_F(IcebergRestTest, LoadTableGivesTheCurrentMetadataAndItsUrl) {
  auto r = catalog(tables_).load_table("spotify", "songs_data");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  auto current = tables_->current("songs_data").value();
  ASSERT_TRUE(current);
  EXPECT_EQ(r.body["metadata-location"], "file://" + (dir_.path() / "songs_data/metadata/v1.metadata.json").string());
  EXPECT_EQ(r.body["metadata"], current->metadata);
  EXPECT_EQ(r.body["metadata"]["format-version"], 2);
  EXPECT_EQ(r.body["config"], json::object());
}

TEST_F(IcebergRestTest, UnknownOrUncommittedTablesAreNoSuchTable) {
  auto c = catalog(tables_);
  expect_error(c.load_table("spotify", "nope"), 404, "NoSuchTableException", "spotify.nope");
  expect_error(c.load_table("spotify", "albums_data"), 404, "NoSuchTableException", "no Iceberg metadata yet");
  // A path parameter never becomes a store key.
  expect_error(c.load_table("spotify", ".."), 404, "NoSuchTableException", "does not exist");
}

TEST_F(IcebergRestTest, VendedCredentialsOnlyWhenAskedForAndA503WhenNoneCanBeHad) {
  Config config;
  config.transformed_url = "s3://lake/warehouse";
  config.iceberg_vended_role_arn = "arn:aws:iam::000000000000:role/readers";
  bool refuse = false;
  auto vendor = std::shared_ptr<CredentialVendor>(CredentialVendor::open(config, [&](const aws::AssumeRoleOptions&) {
                                                    if (refuse)
                                                      return Result<aws::ExpiringCredentials>(
                                                          make_error(Errc::unavailable, "STS is down"));
                                                    return Result<aws::ExpiringCredentials>(aws::ExpiringCredentials{
                                                        {"AK", "SK", "TOKEN"}, std::chrono::system_clock::now() - std::chrono::seconds(1)});
                                                  }).value());
  RestCatalog c("spotify", tables_,
                []() -> Result<std::vector<std::string>> { return std::vector<std::string>{"songs_data"}; }, "", vendor);
  auto plain = c.load_table("spotify", "songs_data");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body["config"], json::object()) << "not asked for: none";
  EXPECT_FALSE(plain.body.contains("storage-credentials"));
  auto vended = c.load_table("spotify", "songs_data", true);
  ASSERT_EQ(vended.status, 200) << vended.body.dump();
  EXPECT_EQ(vended.body["config"]["s3.access-key-id"], "AK");
  EXPECT_EQ(vended.body["storage-credentials"][0]["prefix"], "s3://lake/warehouse/songs_data/");
  EXPECT_TRUE(vended.body.contains("metadata"));
  refuse = true;
  expect_error(c.load_table("spotify", "songs_data", true), 503, "ServiceUnavailableException", "STS is down");
  expect_error(c.load_table("spotify", "nope", true), 404, "NoSuchTableException", "nope");
}

// The spec's loadCredentials: a table's current credentials, so that a client
// whose vended keys near their expiry takes new ones; a vended load names the
// route (relative to the catalog's URL) for clients that refresh.
TEST_F(IcebergRestTest, TheCredentialsRouteHandsOutFreshCredentialsAndVendedLoadsNameIt) {
  Config config;
  config.transformed_url = "s3://lake/warehouse";
  config.iceberg_vended_role_arn = "arn:aws:iam::000000000000:role/readers";
  int exchanges = 0;
  bool refuse = false;
  // Already expired: every vend exchanges again, so each answer carries new keys.
  auto vendor = std::shared_ptr<CredentialVendor>(CredentialVendor::open(config, [&](const aws::AssumeRoleOptions&) {
                                                    if (refuse)
                                                      return Result<aws::ExpiringCredentials>(
                                                          make_error(Errc::unavailable, "STS is down"));
                                                    ++exchanges;
                                                    return Result<aws::ExpiringCredentials>(aws::ExpiringCredentials{
                                                        {"AK" + std::to_string(exchanges), "SK", "TOKEN"},
                                                        std::chrono::system_clock::now() - std::chrono::seconds(1)});
                                                  }).value());
  RestCatalog c("spotify", tables_,
                []() -> Result<std::vector<std::string>> { return std::vector<std::string>{"albums_data", "songs_data"}; }, "",
                vendor);
  auto loaded = c.load_table("spotify", "songs_data", true);
  ASSERT_EQ(loaded.status, 200) << loaded.body.dump();
  EXPECT_EQ(loaded.body["config"]["s3.access-key-id"], "AK1");
  EXPECT_EQ(loaded.body["config"]["client.refresh-credentials-endpoint"], "v1/namespaces/spotify/tables/songs_data/credentials");
  EXPECT_EQ(loaded.body["config"]["client.refresh-credentials-enabled"], "true");
  EXPECT_FALSE(c.load_table("spotify", "songs_data").body["config"].contains("client.refresh-credentials-endpoint"))
      << "only a load that asked for credentials names where to renew them";

  auto renewed = c.load_credentials("spotify", "songs_data");
  ASSERT_EQ(renewed.status, 200) << renewed.body.dump();
  ASSERT_EQ(renewed.body["storage-credentials"].size(), 1u);
  EXPECT_EQ(renewed.body["storage-credentials"][0]["prefix"], "s3://lake/warehouse/songs_data/");
  EXPECT_EQ(renewed.body["storage-credentials"][0]["config"]["s3.access-key-id"], "AK2");
  EXPECT_FALSE(renewed.body.contains("metadata")) << "credentials only";
  const json endpoints = c.config().body["endpoints"];
  EXPECT_NE(std::find(endpoints.begin(), endpoints.end(), "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials"),
            endpoints.end());

  expect_error(c.load_credentials("spotify", "nope"), 404, "NoSuchTableException", "nope");
  expect_error(c.load_credentials("spotify", "albums_data"), 404, "NoSuchTableException", "no Iceberg metadata yet");
  expect_error(c.load_credentials("elsewhere", "songs_data"), 404, "NoSuchNamespaceException", "elsewhere");
  refuse = true;
  expect_error(c.load_credentials("spotify", "songs_data"), 503, "ServiceUnavailableException", "STS is down");
  // Without vending, clients read with keys of their own: nothing to hand out.
  auto none = catalog(tables_).load_credentials("spotify", "songs_data");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.body, json::parse(R"({"storage-credentials":[]})"));
}

TEST_F(IcebergRestTest, UnderHiveEveryTableIsNoSuchTableNamingTheSetting) {
  auto c = catalog(nullptr);
  EXPECT_EQ(c.list_tables("spotify").body, json::parse(R"({"identifiers":[]})"));
  expect_error(c.load_table("spotify", "songs_data"), 404, "NoSuchTableException", "ETL_TABLE_FORMAT=hive");
}

TEST_F(IcebergRestTest, WritesAreRefusedAsReadOnly) {
  expect_error(RestCatalog::refuse_write(), 403, "ForbiddenException", "read-only");
}

// The HTTP layer: routes, HEAD, refusals and the token.
class IcebergRestHttpTest : public IcebergRestTest {
 protected:
  void SetUp() override {
    IcebergRestTest::SetUp();
    if (HasFatalFailure()) return;
    rest_ = std::make_unique<RestCatalog>(catalog(tables_));
    http::ServerOptions o;
    o.service = "cataloger";
    o.api_token = "s3cret";
    o.auth_prefixes = {"/v1/", "/iceberg/"};
    server_ = std::make_unique<http::Server>(o, metrics_);
    install_iceberg_routes(*server_, *rest_);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  http::ClientResponse send(const std::string& method, const std::string& path, bool token = true, std::string body = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (token) headers.emplace_back("Authorization", "Bearer s3cret");
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    auto r = client_.send({method, server_->base_url() + path, std::move(headers), std::move(body)});
    EXPECT_TRUE(r.ok()) << method << " " << path;
    return r.ok() ? *r : http::ClientResponse{};
  }
  std::unique_ptr<RestCatalog> rest_;
  std::unique_ptr<http::Server> server_;
  http::Client client_;
};

TEST_F(IcebergRestHttpTest, TheTokenGuardsTheIcebergPrefix) {
  auto refused = send("GET", "/iceberg/v1/config?warehouse=spotify", false);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(refused.header("www-authenticate"), "Bearer");
  auto ok = send("GET", "/iceberg/v1/config?warehouse=spotify");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["overrides"], json::object());
  auto doc = openapi_spec();
  http::finish_openapi(doc, true, {"/v1/", "/iceberg/"});
  EXPECT_TRUE(doc["paths"]["/iceberg/v1/config"]["get"].contains("security"));
  EXPECT_TRUE(doc["paths"]["/iceberg/v1/config"]["get"]["responses"].contains("401"));
}

TEST_F(IcebergRestHttpTest, RoutesAnswerIcebergShapesAndHeadAnswers204) {
  auto tables = send("GET", "/iceberg/v1/namespaces/spotify/tables");
  EXPECT_EQ(tables.status, 200);
  EXPECT_EQ(json::parse(tables.body)["identifiers"][0]["name"], "songs_data");
  auto table = send("GET", "/iceberg/v1/namespaces/spotify/tables/songs_data");
  ASSERT_EQ(table.status, 200) << table.body;
  EXPECT_TRUE(json::parse(table.body)["metadata-location"].get<std::string>().ends_with("v1.metadata.json"));
  EXPECT_EQ(send("HEAD", "/iceberg/v1/namespaces/spotify").status, 204);
  EXPECT_EQ(send("HEAD", "/iceberg/v1/namespaces/spotify/tables/songs_data").status, 204);
  EXPECT_EQ(send("HEAD", "/iceberg/v1/namespaces/spotify/tables/nope").status, 404);
  for (const char* mode : {"all", "refs"})
    EXPECT_EQ(send("GET", std::string("/iceberg/v1/namespaces/spotify/tables/songs_data?snapshots=") + mode).status, 200) << mode;
  auto mode = send("GET", "/iceberg/v1/namespaces/spotify/tables/songs_data?snapshots=weird");
  EXPECT_EQ(mode.status, 400) << mode.body;
  EXPECT_EQ(json::parse(mode.body)["error"]["type"], "BadRequestException");
  auto credentials = send("GET", "/iceberg/v1/namespaces/spotify/tables/songs_data/credentials");
  ASSERT_EQ(credentials.status, 200) << credentials.body;
  EXPECT_EQ(json::parse(credentials.body)["storage-credentials"], json::array());
  EXPECT_EQ(send("GET", "/iceberg/v1/namespaces/spotify/tables/songs_data/credentials", false).status, 401);
  auto missing = send("GET", "/iceberg/v1/namespaces/nowhere");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "application/json");
  EXPECT_EQ(json::parse(missing.body)["error"]["type"], "NoSuchNamespaceException");
  // The spec's encoded separator: a two-level namespace does not exist here.
  EXPECT_EQ(send("GET", "/iceberg/v1/namespaces/spotify%1Fx").status, 404);
  // Pages: the query parameters reach the catalog; a bad token is the ErrorModel's 400.
  auto paged = send("GET", "/iceberg/v1/namespaces/spotify/tables?pageToken=&pageSize=1");
  ASSERT_EQ(paged.status, 200) << paged.body;
  EXPECT_EQ(json::parse(paged.body)["identifiers"].size(), 1u);
  auto bad = send("GET", "/iceberg/v1/namespaces?pageToken=zz");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(json::parse(bad.body)["error"]["type"], "BadRequestException");
}

TEST_F(IcebergRestHttpTest, WritesAre403ReadOnlyAndScanReportsAreDropped) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/iceberg/v1/namespaces"},
           {"DELETE", "/iceberg/v1/namespaces/spotify"},
           {"POST", "/iceberg/v1/namespaces/spotify/tables"},
           {"POST", "/iceberg/v1/namespaces/spotify/tables/songs_data"},
           {"DELETE", "/iceberg/v1/namespaces/spotify/tables/songs_data"}}) {
    auto r = send(method, path, true, method == "POST" ? "{}" : "");
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r.body;
    EXPECT_EQ(json::parse(r.body, nullptr, false).value("/error/type"_json_pointer, ""), "ForbiddenException") << r.body;
  }
  EXPECT_EQ(send("POST", "/iceberg/v1/namespaces/spotify/tables/songs_data/metrics", true, R"({"report-type":"scan-report"})").status, 204);
  EXPECT_EQ(send("POST", "/iceberg/v1/namespaces/spotify/tables/songs_data/metrics", true, "[1]").status, 400);
}

// Iceberg clients parse only the ErrorModel: every other write of the REST spec
// (rename, properties, register, views, multi-table commits) is the same 403,
// not the HTTP base's unrouted problem+json 404.
TEST_F(IcebergRestHttpTest, EveryOtherWriteOfTheSpecIs403InTheErrorModel) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/iceberg/v1/namespaces/spotify/properties"},
           {"POST", "/iceberg/v1/namespaces/spotify/register"},
           {"POST", "/iceberg/v1/namespaces/spotify/register-view"},
           {"POST", "/iceberg/v1/namespaces/spotify/tables/songs_data/unregister"},
           {"POST", "/iceberg/v1/tables/rename"},
           {"POST", "/iceberg/v1/transactions/commit"},
           {"POST", "/iceberg/v1/namespaces/spotify/views"},
           {"POST", "/iceberg/v1/namespaces/spotify/views/v"},
           {"DELETE", "/iceberg/v1/namespaces/spotify/views/v"},
           {"POST", "/iceberg/v1/views/rename"}}) {
    auto r = send(method, path, true, method == "POST" ? "{}" : "");
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json") << method << " " << path;
    EXPECT_EQ(json::parse(r.body, nullptr, false).value("/error/type"_json_pointer, ""), "ForbiddenException")
        << method << " " << path << ": " << r.body;
  }
}

// The catalog holds no views or functions: listings are empty, loads are their
// NoSuch...Exception, and an unknown namespace is NoSuchNamespaceException first.
TEST_F(IcebergRestHttpTest, ViewsAndFunctionsAreNoneAndSayItInTheErrorModel) {
  auto error_type = [](const http::ClientResponse& r) { return json::parse(r.body, nullptr, false).value("/error/type"_json_pointer, ""); };
  for (const char* kind : {"views", "functions"}) {
    const std::string list = std::string("/iceberg/v1/namespaces/spotify/") + kind;
    auto listed = send("GET", list);
    ASSERT_EQ(listed.status, 200) << list << ": " << listed.body;
    EXPECT_EQ(json::parse(listed.body, nullptr, false), json::parse(R"({"identifiers":[]})")) << list;
    auto paged = send("GET", list + "?pageToken=zz");
    EXPECT_EQ(paged.status, 400) << list << " takes the listings' pages: " << paged.body;
    auto nowhere = send("GET", std::string("/iceberg/v1/namespaces/nowhere/") + kind);
    EXPECT_EQ(nowhere.status, 404) << nowhere.body;
    EXPECT_EQ(error_type(nowhere), "NoSuchNamespaceException") << nowhere.body;
  }
  auto view = send("GET", "/iceberg/v1/namespaces/spotify/views/songs_data");
  EXPECT_EQ(view.status, 404) << view.body;
  EXPECT_EQ(error_type(view), "NoSuchViewException") << view.body;
  EXPECT_EQ(send("HEAD", "/iceberg/v1/namespaces/spotify/views/songs_data").status, 404);
  auto function = send("GET", "/iceberg/v1/namespaces/spotify/functions/f");
  EXPECT_EQ(function.status, 404) << function.body;
  EXPECT_EQ(error_type(function), "NoSuchFunctionException") << function.body;
  auto elsewhere = send("GET", "/iceberg/v1/namespaces/nowhere/views/v");
  EXPECT_EQ(error_type(elsewhere), "NoSuchNamespaceException") << elsewhere.body;
}

// Scans are planned by the clients from the metadata: server-side planning is
// 406 UnsupportedOperationException, and no plan id or plan task exists.
TEST_F(IcebergRestHttpTest, ScanPlanningIsUnsupportedInTheErrorModel) {
  for (const auto& [method, path, status, type] : std::vector<std::tuple<std::string, std::string, int, std::string>>{
           {"POST", "/iceberg/v1/namespaces/spotify/tables/songs_data/plan", 406, "UnsupportedOperationException"},
           {"GET", "/iceberg/v1/namespaces/spotify/tables/songs_data/plan/p1", 404, "NoSuchPlanIdException"},
           {"DELETE", "/iceberg/v1/namespaces/spotify/tables/songs_data/plan/p1", 404, "NoSuchPlanIdException"},
           {"POST", "/iceberg/v1/namespaces/spotify/tables/songs_data/tasks", 404, "NoSuchPlanTaskException"}}) {
    auto r = send(method, path, true, method == "POST" ? "{}" : "");
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    EXPECT_EQ(json::parse(r.body, nullptr, false).value("/error/type"_json_pointer, ""), type) << method << " " << path << ": " << r.body;
  }
}

}  // namespace
}  // namespace etl::cataloger::iceberg

// The AWS JSON 1.1 client and the Athena / Glue backends against a fake endpoint
// that records requests and injects throttling and 5xx answers.
//
// Over 400 lines on purpose: the cases share one fake AWS endpoint and its record of the
// requests.
#include "etl/aws_json.h"

#include <gtest/gtest.h>

#include <atomic>

#include "athena_engine.h"
#include "aws_fake.h"
#include "glue_catalog.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;
using testing::aws_error;
using testing::AwsAnswer;
using testing::AwsRequest;
using testing::FakeAws;

QueryRequest sql_request(const std::string& sql) {
  QueryRequest request;
  request.sql = sql;
  return request;
}

aws::JsonClientOptions fast_retries(int attempts = 4) {
  aws::JsonClientOptions o;
  o.max_attempts = attempts;
  o.retry_base = std::chrono::milliseconds(5);
  o.retry_cap = std::chrono::milliseconds(20);
  return o;
}

std::unique_ptr<aws::JsonClient> client(const FakeAws& fake, aws::JsonService service, int attempts = 4) {
  return aws::JsonClient::create(fake.aws_config(), std::move(service), fast_retries(attempts)).value();
}

TEST(AwsJson, RequestCarriesTargetContentTypeAndSignature) {
  FakeAws fake;
  fake.on("GetTables", [](const AwsRequest&) { return AwsAnswer{200, {{"TableList", json::array()}}}; });
  auto glue = client(fake, aws::glue_service());
  auto got = glue->call("GetTables", {{"DatabaseName", "spotify"}});
  ASSERT_TRUE(got.ok()) << got.error().message;
  auto r = fake.requests().at(0);
  EXPECT_EQ(r.target, "AWSGlue.GetTables");
  EXPECT_EQ(r.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(r.body, json({{"DatabaseName", "spotify"}}));
  EXPECT_TRUE(r.header("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDFAKE/"))
      << r.header("authorization");
  EXPECT_NE(r.header("authorization").find("/us-east-1/glue/aws4_request"), std::string::npos);
  EXPECT_NE(r.header("authorization").find("SignedHeaders=content-type;host;x-amz-date;x-amz-target"), std::string::npos)
      << r.header("authorization");
  EXPECT_FALSE(r.header("x-amz-date").empty());
  EXPECT_EQ(r.header("authorization").find("fake/secret"), std::string::npos) << "the secret must never be sent";

  auto athena = client(fake, aws::athena_service());
  (void)athena->send("GetWorkGroup", {{"WorkGroup", "primary"}});
  EXPECT_EQ(fake.requests().back().target, "AmazonAthena.GetWorkGroup");
  EXPECT_NE(fake.requests().back().header("authorization").find("/athena/aws4_request"), std::string::npos);
}

TEST(AwsJson, SessionTokenIsSentAndSigned) {
  FakeAws fake;
  fake.on("GetDatabase", [](const AwsRequest&) { return AwsAnswer{200, {{"Database", {{"Name", "x"}}}}}; });
  AwsConfig aws = fake.aws_config();
  aws.session_token = "session-token-value";
  auto c = aws::JsonClient::create(aws, aws::glue_service(), fast_retries()).value();
  ASSERT_TRUE(c->call("GetDatabase", {{"Name", "x"}}).ok());
  auto r = fake.requests().at(0);
  EXPECT_EQ(r.header("x-amz-security-token"), "session-token-value");
  EXPECT_NE(r.header("authorization").find("x-amz-security-token"), std::string::npos);
}

TEST(AwsJson, EndpointsFollowTheOverrideOrder) {
  AwsConfig aws;
  aws.region = "eu-west-1";
  EXPECT_EQ(aws::endpoint_url_for(aws, aws::glue_service()), "https://glue.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws::endpoint_url_for(aws, aws::athena_service()), "https://athena.eu-west-1.amazonaws.com");
  aws.endpoint_url = "http://127.0.0.1:5000";
  EXPECT_EQ(aws::endpoint_url_for(aws, aws::glue_service()), "http://127.0.0.1:5000");
  aws.endpoint_url_glue = "http://glue.local:1";
  EXPECT_EQ(aws::endpoint_url_for(aws, aws::glue_service()), "http://glue.local:1");
  EXPECT_EQ(aws::endpoint_url_for(aws, aws::athena_service()), "http://127.0.0.1:5000");
  aws.access_key_id = "a";
  aws.secret_access_key = "b";
  aws.endpoint_url_athena = "ftp://nope";
  auto bad = aws::JsonClient::create(aws, aws::athena_service());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("AWS_ENDPOINT_URL_ATHENA"), std::string::npos) << bad.error().message;
  aws.access_key_id.clear();
  EXPECT_EQ(aws::JsonClient::create(aws, aws::glue_service()).error().code, Errc::unauthorized);
}

TEST(AwsJson, ErrorTypeAndMessageAreParsedAndSurfaced) {
  auto e = aws::parse_error_reply(R"({"__type":"com.amazonaws.glue#EntityNotFoundException","Message":"Table x not found"})", "");
  EXPECT_EQ(e.type, "EntityNotFoundException");
  EXPECT_EQ(e.message, "Table x not found");
  e = aws::parse_error_reply("", "ThrottlingException:http://internal.amazon.com/coral/");
  EXPECT_EQ(e.type, "ThrottlingException");
  e = aws::parse_error_reply(R"({"__type":"InvalidRequestException","message":"line 1\nline 2"})", "");
  EXPECT_EQ(e.message, "line 1 line 2");

  FakeAws fake;
  fake.on("GetTable", [](const AwsRequest&) { return aws_error(400, "EntityNotFoundException", "Table nope not found"); });
  auto glue = client(fake, aws::glue_service());
  auto got = glue->call("GetTable", {{"Name", "nope"}});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::not_found);
  EXPECT_EQ(got.error().message, "Glue GetTable: EntityNotFoundException: Table nope not found");
  EXPECT_EQ(fake.count("GetTable"), 1u) << "a not-found answer is final, not retried";
}

TEST(AwsJson, RetryClassification) {
  EXPECT_TRUE(aws::is_retryable(400, "ThrottlingException"));
  EXPECT_TRUE(aws::is_retryable(400, "TooManyRequestsException"));
  EXPECT_TRUE(aws::is_retryable(429, ""));
  EXPECT_TRUE(aws::is_retryable(500, "InternalServiceException"));
  EXPECT_TRUE(aws::is_retryable(503, ""));
  EXPECT_FALSE(aws::is_retryable(400, "EntityNotFoundException"));
  EXPECT_FALSE(aws::is_retryable(400, "InvalidRequestException"));
  EXPECT_FALSE(aws::is_retryable(400, "AccessDeniedException"));
  EXPECT_EQ(aws::errc_for(400, "ThrottlingException"), Errc::rate_limited);
  EXPECT_EQ(aws::errc_for(400, "TooManyRequestsException"), Errc::rate_limited);
  EXPECT_EQ(aws::errc_for(400, "AlreadyExistsException"), Errc::conflict);
  EXPECT_EQ(aws::errc_for(400, "AccessDeniedException"), Errc::forbidden);
  EXPECT_EQ(aws::errc_for(400, "UnrecognizedClientException"), Errc::unauthorized);
  EXPECT_EQ(aws::errc_for(400, "InvalidInputException"), Errc::invalid_argument);
  EXPECT_EQ(aws::errc_for(500, ""), Errc::unavailable);
}

TEST(AwsJson, ThrottlingAnd5xxAreRetriedThenSucceed) {
  FakeAws fake;
  std::atomic<int> calls{0};
  fake.set_fault([&](const AwsRequest&) -> std::optional<AwsAnswer> {
    int n = ++calls;
    if (n == 1) return aws_error(400, "ThrottlingException", "Rate exceeded");
    if (n == 2) return AwsAnswer{500, {{"__type", "InternalServiceException"}, {"message", "oops"}}};
    return std::nullopt;
  });
  fake.on("GetDatabase", [](const AwsRequest&) { return AwsAnswer{200, {{"Database", {{"Name", "spotify"}}}}}; });
  auto glue = client(fake, aws::glue_service());
  auto got = glue->call("GetDatabase", {{"Name", "spotify"}});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(fake.count("GetDatabase"), 3u);
}

TEST(AwsJson, PersistentThrottlingBecomesRateLimitedWithTheAwsType) {
  FakeAws fake;
  fake.set_fault([](const AwsRequest&) { return std::optional(aws_error(400, "TooManyRequestsException", "slow down")); });
  auto athena = client(fake, aws::athena_service(), 3);
  auto got = athena->call("GetQueryExecution", {{"QueryExecutionId", "x"}});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::rate_limited);
  EXPECT_NE(got.error().message.find("TooManyRequestsException: slow down"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("after 3 attempts"), std::string::npos) << got.error().message;
  EXPECT_EQ(fake.count("GetQueryExecution"), 3u);
}

TEST(AwsJson, RefusedConnectionIsUnavailableAfterRetries) {
  AwsConfig aws;
  aws.access_key_id = "a";
  aws.secret_access_key = "b";
  aws.endpoint_url = "http://127.0.0.1:1";
  auto c = aws::JsonClient::create(aws, aws::glue_service(), fast_retries(2)).value();
  auto got = c->call("GetDatabase", {{"Name", "x"}});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::unavailable) << got.error().message;
}

// ---- Athena engine against the fake --------------------------------------------------------

struct FakeAthena {
  FakeAws fake;
  std::mutex mutex;
  std::map<std::string, json> executions;  // id -> QueryExecution
  std::vector<json> pages;                 // GetQueryResults answers in order of NextToken ("", "t1", ...)
  std::atomic<int> polls{0};
  std::function<json(const std::string& id, int poll)> state_of = [](const std::string&, int poll) {
    return json(poll < 1 ? "QUEUED" : poll < 2 ? "RUNNING" : "SUCCEEDED");
  };

  FakeAthena() {
    fake.on("StartQueryExecution", [this](const AwsRequest& r) {
      std::lock_guard lock(mutex);
      std::string id = "0000000" + std::to_string(executions.size() + 1) + "-aaaa-bbbb-cccc-dddddddddddd";
      executions[id] = {{"QueryExecutionId", id}, {"Query", r.body["QueryString"]}, {"poll", 0}};
      return AwsAnswer{200, {{"QueryExecutionId", id}}};
    });
    fake.on("GetQueryExecution", [this](const AwsRequest& r) {
      std::lock_guard lock(mutex);
      std::string id = r.body.value("QueryExecutionId", "");
      auto it = executions.find(id);
      if (it == executions.end()) return aws_error(400, "InvalidRequestException", "QueryExecution " + id + " was not found");
      int poll = it->second["poll"].get<int>();
      it->second["poll"] = poll + 1;
      ++polls;
      json status = it->second.value("forced", json());
      if (status.is_null()) status = {{"State", state_of(id, poll)}, {"SubmissionDateTime", 1795240800.0}};
      return AwsAnswer{200, {{"QueryExecution", {{"QueryExecutionId", id},
                                                  {"Status", status},
                                                  {"ResultConfiguration", {{"OutputLocation", "s3://out/" + id + ".csv"}}},
                                                  {"Statistics", {{"EngineExecutionTimeInMillis", 12}}}}}}};
    });
    fake.on("StopQueryExecution", [this](const AwsRequest& r) {
      std::lock_guard lock(mutex);
      executions[r.body.value("QueryExecutionId", "")]["forced"] = {{"State", "CANCELLED"}};
      return AwsAnswer{200, json::object()};
    });
    fake.on("GetQueryResults", [this](const AwsRequest& r) {
      std::lock_guard lock(mutex);
      std::string token = r.body.value("NextToken", "");
      size_t index = token.empty() ? 0 : std::stoul(token.substr(1));
      if (index >= pages.size()) return aws_error(400, "InvalidRequestException", "bad token");
      json page = pages[index];
      if (index + 1 < pages.size()) page["NextToken"] = "t" + std::to_string(index + 1);
      return AwsAnswer{200, page};
    });
  }

  std::unique_ptr<AthenaEngine> engine(int attempts = 4) {
    AthenaEngineOptions o;
    o.output_location = "s3://out/";
    o.poll_initial = std::chrono::milliseconds(5);
    o.poll_max = std::chrono::milliseconds(20);
    auto e = std::make_unique<AthenaEngine>(client(fake, aws::athena_service(), attempts), o, nullptr);
    e->start();
    return e;
  }
};

json rows_page(std::vector<std::vector<std::optional<std::string>>> rows) {
  json out = json::array();
  for (auto& row : rows) {
    json data = json::array();
    for (auto& v : row) data.push_back(v ? json{{"VarCharValue", *v}} : json::object());
    out.push_back({{"Data", data}});
  }
  json columns = json::array({{{"Name", "id"}, {"Type", "varchar"}}, {{"Name", "n"}, {"Type", "bigint"}}});
  json result_set = {{"Rows", out}, {"ResultSetMetadata", {{"ColumnInfo", columns}}}};
  return {{"ResultSet", result_set}};
}

TEST(AthenaEngineFake, QueryRunsThroughStatesAndPagesPassAthenasTokenThrough) {
  FakeAthena athena;
  athena.pages = {rows_page({{"id", "n"}, {"a", "1"}, {"b", std::nullopt}}), rows_page({{"c", "3"}})};
  auto engine = athena.engine();
  QueryRequest request;
  request.sql = "SELECT id, n FROM songs_data";
  request.max_rows = 2;
  auto started = engine->start(request);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->state, QueryState::queued);
  auto start_request = athena.fake.requests().at(0);
  EXPECT_EQ(start_request.body["QueryExecutionContext"]["Database"], "spotify");
  EXPECT_EQ(start_request.body["WorkGroup"], "primary");
  EXPECT_EQ(start_request.body["ResultConfiguration"]["OutputLocation"], "s3://out/");
  EXPECT_FALSE(start_request.body.contains("ResultReuseConfiguration")) << "no max_age: no reuse";
  EXPECT_GE(start_request.body.value("ClientRequestToken", "").size(), 32u);

  auto done = engine->wait(started->query_id, std::chrono::seconds(10));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, QueryState::succeeded);
  EXPECT_EQ(done->result_location, "s3://out/" + started->query_id + ".csv");
  EXPECT_GE(athena.polls.load(), 3);

  auto first = engine->page(started->query_id, "");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->rows, (std::vector<std::string>{R"(["a",1])", R"(["b",null])"})) << "header row skipped";
  ASSERT_TRUE(first->next_token);
  EXPECT_EQ(*first->next_token, "t1");
  auto results_request = athena.fake.requests().back();
  EXPECT_EQ(results_request.body["MaxResults"], 3) << "max_rows plus the header row";
  auto second = engine->page(started->query_id, *first->next_token);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->rows, std::vector<std::string>{R"(["c",3])"});
  EXPECT_FALSE(second->next_token);
  EXPECT_EQ(athena.fake.requests().back().body["MaxResults"], 2);
  EXPECT_EQ(second->stats.rows, 3u);

  auto bad = engine->page(started->query_id, "t9");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST(AthenaEngineFake, FailedQueryCarriesAthenasReasonAsBadInput) {
  FakeAthena athena;
  athena.state_of = [](const std::string&, int) { return json("FAILED"); };
  athena.fake.on("GetQueryExecution", [](const AwsRequest& r) {
    return AwsAnswer{200, {{"QueryExecution", {{"QueryExecutionId", r.body["QueryExecutionId"]},
                                               {"Status", {{"State", "FAILED"},
                                                           {"StateChangeReason", "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"},
                                                           {"AthenaError", {{"ErrorCategory", 2}, {"ErrorType", 1006}}}}}}}}};
  });
  auto engine = athena.engine();
  auto started = engine->start(sql_request("SELECT nope FROM songs_data"));
  ASSERT_TRUE(started.ok());
  auto done = engine->wait(started->query_id, std::chrono::seconds(10));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, QueryState::failed);
  ASSERT_TRUE(done->error);
  EXPECT_EQ(done->error->code, Errc::invalid_argument);
  EXPECT_NE(done->error->message.find("Column 'nope' cannot be resolved"), std::string::npos) << done->error->message;
  EXPECT_EQ(engine->page(started->query_id, "").error().code, Errc::conflict);
}

// Answers of another shape than Athena's (a proxy, an emulator's version) are
// Athena failing, not the cataloger: a poll that cannot read the status is
// logged and polled again, and a page that cannot be read is 503-class
// `unavailable`. Before, nlohmann's type_error left the monitor thread (the
// process ended) or the handler (HTTP 500).
TEST(AthenaEngineFake, AnswersOfAnotherShapeAreUnavailableNotACrash) {
  FakeAthena athena;
  std::atomic<int> polls{0};
  athena.fake.on("GetQueryExecution", [&](const AwsRequest& r) {
    json id = r.body["QueryExecutionId"];
    if (polls.fetch_add(1) < 2) return AwsAnswer{200, {{"QueryExecution", {{"QueryExecutionId", id}, {"Status", "RUNNING"}}}}};
    return AwsAnswer{200, {{"QueryExecution", {{"QueryExecutionId", id}, {"Status", {{"State", "SUCCEEDED"}}}}}}};
  });
  athena.pages = {{{"ResultSet", {{"Rows", "not rows"}}}}};
  auto engine = athena.engine();
  auto started = engine->start(sql_request("SELECT id FROM songs_data"));
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto done = engine->wait(started->query_id, std::chrono::seconds(10));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->state, QueryState::succeeded) << "polled again after the unreadable answers";
  EXPECT_GE(polls.load(), 3);
  auto page = engine->page(started->query_id, "");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, Errc::unavailable);
  EXPECT_NE(page.error().message.find("GetQueryResults"), std::string::npos) << page.error().message;
}

TEST(AthenaEngineFake, WritesAreRefusedBeforeAnyCall) {
  FakeAthena athena;
  auto engine = athena.engine();
  auto refused = engine->start(sql_request("DROP TABLE songs_data"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_EQ(athena.fake.count("StartQueryExecution"), 0u);
}

TEST(AthenaEngineFake, ThrottledStartIsRetriedThenRateLimited) {
  FakeAthena athena;
  std::atomic<int> throttled{0};
  athena.fake.set_fault([&](const AwsRequest& r) -> std::optional<AwsAnswer> {
    if (r.op == "StartQueryExecution" && throttled++ < 2) return aws_error(400, "TooManyRequestsException", "Rate exceeded");
    return std::nullopt;
  });
  auto engine = athena.engine();
  auto started = engine->start(sql_request("SELECT 1"));
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(athena.fake.count("StartQueryExecution"), 3u);
  auto tokens = std::set<std::string>();
  for (const auto& r : athena.fake.requests())
    if (r.op == "StartQueryExecution") tokens.insert(r.body.value("ClientRequestToken", ""));
  EXPECT_EQ(tokens.size(), 1u) << "retries must reuse the idempotency token";

  athena.fake.set_fault([](const AwsRequest&) { return std::optional(aws_error(400, "TooManyRequestsException", "Rate exceeded")); });
  auto limited = engine->start(sql_request("SELECT 2"));
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, Errc::rate_limited);
}

TEST(AthenaEngineFake, TimeoutStopsTheQuery) {
  FakeAthena athena;
  athena.state_of = [](const std::string&, int) { return json("RUNNING"); };
  auto engine = athena.engine();
  QueryRequest request = sql_request("SELECT 1");
  request.timeout = std::chrono::milliseconds(100);
  auto started = engine->start(request);
  ASSERT_TRUE(started.ok());
  auto done = engine->wait(started->query_id, std::chrono::seconds(10));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, QueryState::failed);
  ASSERT_TRUE(done->error);
  EXPECT_EQ(done->error->code, Errc::timeout);
  for (int i = 0; i < 200 && athena.fake.count("StopQueryExecution") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(athena.fake.count("StopQueryExecution"), 1u);
}

TEST(AthenaEngineFake, ResultReuseAllowsMinutesRoundedUp) {
  FakeAthena athena;
  auto engine = athena.engine();
  QueryRequest request = sql_request("SELECT 1");
  request.max_age = std::chrono::seconds(61);
  EXPECT_EQ(engine->reuse_configuration(request),
            json({{"ResultReuseByAgeConfiguration", {{"Enabled", true}, {"MaxAgeInMinutes", 2}}}}));
  request.max_age = std::chrono::seconds(1);
  EXPECT_EQ(engine->reuse_configuration(request)["ResultReuseByAgeConfiguration"]["MaxAgeInMinutes"], 1);
  request.max_age = std::chrono::seconds(0);
  EXPECT_TRUE(engine->reuse_configuration(request).empty());
}

TEST(AthenaEngineFake, UnknownIdsAreNotFound) {
  FakeAthena athena;
  auto engine = athena.engine();
  EXPECT_EQ(engine->status("../etc").error().code, Errc::not_found);
  EXPECT_EQ(engine->status("11111111-2222-3333-4444-555555555555").error().code, Errc::not_found);
}

// ---- Glue catalog against the fake ------------------------------------------------------------

TEST(GlueCatalogFake, GetTablesIsPagedAndPartitionsCounted) {
  FakeAws fake;
  fake.on("GetTables", [](const AwsRequest& r) {
    std::string token = r.body.value("NextToken", "");
    json list = json::array();
    int from = token.empty() ? 0 : 2;
    for (int i = from; i < from + 2; ++i)
      list.push_back({{"Name", "t" + std::to_string(i)}, {"UpdateTime", 1795240800.0},
                      {"PartitionKeys", {{{"Name", "dt"}, {"Type", "string"}}}},
                      {"StorageDescriptor", {{"Location", "s3://b/t/"}, {"Columns", {{{"Name", "a"}, {"Type", "int"}}}}}}});
    json out = {{"TableList", list}};
    if (token.empty()) out["NextToken"] = "page2";
    return AwsAnswer{200, out};
  });
  fake.on("GetPartitions", [](const AwsRequest& r) {
    std::string token = r.body.value("NextToken", "");
    json out = {{"Partitions", {{{"Values", {token.empty() ? "2026-11-20" : "2026-11-21"}}}}}};
    if (token.empty()) out["NextToken"] = "p2";
    return AwsAnswer{200, out};
  });
  GlueCatalogOptions o;
  o.transformed_url = "s3://b/t";
  GlueCatalog catalog(client(fake, aws::glue_service()), o);
  auto before = catalog.generation();
  auto tables = catalog.list_tables();
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  ASSERT_EQ(tables->size(), 4u);
  EXPECT_EQ(tables->at(3).name, "t3");
  EXPECT_EQ(tables->at(0).partitions, 2);
  EXPECT_EQ(tables->at(0).columns.at(0).type, "INTEGER");
  EXPECT_NE(catalog.generation(), before);
  auto generation = catalog.generation();
  auto partitions = catalog.get_partitions("t0");
  ASSERT_TRUE(partitions.ok());
  EXPECT_EQ(partitions->size(), 2u);
  EXPECT_EQ(fake.count("GetTables"), 2u);
  (void)catalog.list_tables();
  EXPECT_EQ(fake.count("GetTables"), 2u) << "a fresh listing is answered from the cache";
  EXPECT_EQ(catalog.generation(), generation);
}

TEST(GlueCatalogFake, CrawlerRequestCrawlsExactlyTheTableFolder) {
  GlueCatalogOptions o;
  o.transformed_url = "s3://bucket/data/transformed";
  o.crawler_role = "arn:aws:iam::123456789012:role/glue-crawler";
  json r = create_crawler_request(o, "songs_data", "c1");
  EXPECT_EQ(r["Targets"]["S3Targets"][0]["Path"], "s3://bucket/data/transformed/songs_data/");
  EXPECT_EQ(r["RecrawlPolicy"]["RecrawlBehavior"], "CRAWL_NEW_FOLDERS_ONLY");
  EXPECT_EQ(r["SchemaChangePolicy"]["DeleteBehavior"], "LOG");
  json config = json::parse(r["Configuration"].get<std::string>());
  EXPECT_EQ(config["Grouping"]["TableLevelConfiguration"], 4) << "bucket=1, data=2, transformed=3, songs_data=4";
  o.incremental = false;
  r = create_crawler_request(o, "songs_data", "c1");
  EXPECT_EQ(r["SchemaChangePolicy"]["UpdateBehavior"], "UPDATE_IN_DATABASE");
  EXPECT_EQ(r["RecrawlPolicy"]["RecrawlBehavior"], "CRAWL_EVERYTHING");
}

TEST(GlueCatalogFake, IcebergCrawlerRequestHasAnIcebergTargetOnTheTableFolder) {
  GlueCatalogOptions o;
  o.transformed_url = "s3://bucket/data/transformed";
  o.crawler_role = "glue-crawler";
  o.iceberg_targets = true;
  json r = create_crawler_request(o, "songs_data", "c1");
  EXPECT_FALSE(r["Targets"].contains("S3Targets"));
  ASSERT_EQ(r["Targets"]["IcebergTargets"].size(), 1u);
  EXPECT_EQ(r["Targets"]["IcebergTargets"][0]["Paths"], json::array({"s3://bucket/data/transformed/songs_data/"}));
  EXPECT_EQ(r["Targets"]["IcebergTargets"][0]["MaximumTraversalDepth"], 1) << "metadata/ sits right under the folder";
  EXPECT_EQ(r["RecrawlPolicy"]["RecrawlBehavior"], "CRAWL_EVERYTHING");
  EXPECT_EQ(r["SchemaChangePolicy"]["UpdateBehavior"], "UPDATE_IN_DATABASE") << "metadata_location must move";
  EXPECT_EQ(r["Role"], "glue-crawler");
  EXPECT_EQ(r["DatabaseName"], "spotify");
}

TEST(GlueCatalogFake, IcebergRegistrationIsDirectOrCrawler) {
  auto config = load_config({{"ETL_GLUE_ICEBERG_REGISTRATION", "crawler"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->glue.iceberg_registration, "crawler");
  EXPECT_EQ(load_config({}).value().glue.iceberg_registration, "direct");
  auto refused = load_config({{"ETL_GLUE_ICEBERG_REGISTRATION", "sometimes"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("ETL_GLUE_ICEBERG_REGISTRATION"), std::string::npos);
}

TEST(GlueCatalogFake, OptionsComeFromTheConfiguration) {
  auto config = load_config({{"ETL_TRANSFORMED_URL", "s3://bucket/x"},
                             {"ETL_GLUE_CRAWLERS", "songs_data=my-songs,extra_t=ext"},
                             {"ETL_GLUE_CREATE", "false"},
                             {"ETL_GLUE_CRAWLER_ROLE", "role"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto o = glue_catalog_options(*config);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_FALSE(o->create);
  EXPECT_EQ(o->crawler_role, "role");
  EXPECT_EQ(o->crawlers.at("songs_data"), "my-songs");
  EXPECT_EQ(o->tables.size(), 4u);
  EXPECT_FALSE(load_config({{"ETL_GLUE_CREATE", "maybe"}}).ok());
  EXPECT_FALSE(load_config({{"ETL_GLUE_RECRAWL", "sometimes"}}).ok());
  auto bad_pairs = load_config({{"ETL_GLUE_CRAWLERS", "songs_data"}});
  ASSERT_FALSE(bad_pairs.ok());
  EXPECT_NE(bad_pairs.error().message.find("ETL_GLUE_CRAWLERS"), std::string::npos);
  config->transformed_url = "file:///data";
  auto refused = glue_catalog_options(*config);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("ETL_TRANSFORMED_URL"), std::string::npos);
}

}  // namespace
}  // namespace etl::cataloger

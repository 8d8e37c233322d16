#include "etl/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace etl {
namespace {

// Each setting's value is refused alone, with a one-line error that starts with its name.
void expect_each_refused_by_name(const std::vector<std::pair<std::string, std::string>>& settings) {
  for (const auto& [name, value] : settings) {
    auto bad = load_config({{name, value}});
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_EQ(bad.error().message.rfind(name, 0), 0u) << bad.error().message;
  }
}

TEST(Config, DefaultsMatchTheContract) {
  auto cfg = load_config({});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->extractor_addr.str(), "127.0.0.1:8081");
  EXPECT_EQ(cfg->transformer_addr.str(), "127.0.0.1:8082");
  EXPECT_EQ(cfg->cataloger_addr.str(), "127.0.0.1:8083");
  EXPECT_EQ(cfg->spotify_api_url, "https://api.spotify.com/v1");
  EXPECT_EQ(cfg->spotify_accounts_url, "https://accounts.spotify.com");
  EXPECT_EQ(cfg->raw_url, "file://./data/raw");
  EXPECT_EQ(cfg->transformed_url, "file://./data/transformed");
  EXPECT_EQ(cfg->output_format, OutputFormat::parquet);
  EXPECT_EQ(cfg->bus, "kafka");
  EXPECT_EQ(cfg->kafka_bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(cfg->topic_raw, "spotify.raw.events");
  EXPECT_EQ(cfg->topic_transformed, "spotify.transformed.events");
  EXPECT_EQ(cfg->topic_dlq, "spotify.dlq");
  EXPECT_EQ(cfg->catalog, "local");
  EXPECT_EQ(cfg->glue_database, "spotify");
  EXPECT_EQ(cfg->query_engine, "duckdb");
  EXPECT_EQ(cfg->athena_workgroup, "primary");
  EXPECT_EQ(cfg->log_level, "info");
  EXPECT_EQ(cfg->log_format, "json");
}

TEST(Config, UpDefaultsToTheMemoryBus) {
  auto cfg = load_config({}, ConfigDefaults{"memory"});
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->bus, "memory");
  auto overridden = load_config({{"ETL_BUS", "kafka"}}, ConfigDefaults{"memory"});
  ASSERT_TRUE(overridden.ok());
  EXPECT_EQ(overridden->bus, "kafka");
}

TEST(Config, ReadsEveryDocumentedVariable) {
  Environment env = {
      {"ETL_EXTRACTOR_ADDR", "0.0.0.0:9001"},
      {"ETL_TRANSFORMER_ADDR", ":9002"},
      {"ETL_API_TOKEN", "s3cret"},
      {"SPOTIFY_MARKET", "SE"},
      {"ETL_SOURCES", "playlist:37i9dQZF1DXcBWIGoYBM5M, search:daft punk ,album:4aawyAB9vmqN3uQ7FjRGTy"},
      {"ETL_SCHEDULE", "@daily"},
      {"ETL_RAW_URL", "s3://raw-bucket/spotify"},
      {"ETL_TRANSFORMED_URL", "file:///var/lib/etl/transformed"},
      {"ETL_OUTPUT_FORMAT", "CSV"},
      {"AWS_REGION", "eu-north-1"},
      {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/"},
      {"ETL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
      {"ETL_KAFKA_SASL_MECHANISMS", "PLAIN"},
      {"ETL_CATALOG", "glue"},
      {"ETL_QUERY_ENGINE", "athena"},
      {"ETL_ATHENA_OUTPUT", "s3://results/athena/"},
  };
  auto cfg = load_config(env);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->extractor_addr.str(), "0.0.0.0:9001");
  EXPECT_EQ(cfg->transformer_addr.str(), "127.0.0.1:9002");
  EXPECT_EQ(cfg->api_token, "s3cret");
  EXPECT_EQ(cfg->spotify_market, "SE");
  ASSERT_EQ(cfg->sources.size(), 3u);
  EXPECT_EQ(cfg->sources[0], (SourceSpec{SourceType::playlist, "37i9dQZF1DXcBWIGoYBM5M"}));
  EXPECT_EQ(cfg->sources[1], (SourceSpec{SourceType::search, "daft punk"}));
  EXPECT_EQ(cfg->sources[2], (SourceSpec{SourceType::album, "4aawyAB9vmqN3uQ7FjRGTy"}));
  EXPECT_EQ(cfg->output_format, OutputFormat::csv);
  EXPECT_EQ(cfg->aws.region, "eu-north-1");
  EXPECT_EQ(cfg->aws.endpoint_url_s3, "http://127.0.0.1:9000") << "trailing slash is dropped";
  EXPECT_EQ(cfg->kafka_properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(cfg->kafka_properties.at("sasl.mechanisms"), "PLAIN");
  EXPECT_EQ(cfg->kafka_properties.count("bootstrap.servers"), 0u);
  EXPECT_EQ(cfg->catalog, "glue");
  EXPECT_EQ(cfg->query_engine, "athena");
}

struct BadValue {
  const char* variable;
  const char* value;
};

class ConfigRejects : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigRejects, WithOneLineNamingTheVariable) {
  auto cfg = load_config({{GetParam().variable, GetParam().value}});
  ASSERT_FALSE(cfg.ok()) << GetParam().variable << "=" << GetParam().value << " was accepted";
  EXPECT_EQ(cfg.error().code, Errc::invalid_argument);
  EXPECT_EQ(cfg.error().message.rfind(GetParam().variable, 0), 0u) << cfg.error().message;
  EXPECT_EQ(cfg.error().message.find('\n'), std::string::npos) << cfg.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, ConfigRejects,
    ::testing::Values(BadValue{"ETL_EXTRACTOR_ADDR", "localhost"}, BadValue{"ETL_CATALOGER_ADDR", ":99999"},
                      BadValue{"SPOTIFY_API_URL", "ftp://x"}, BadValue{"SPOTIFY_MARKET", "usa"}, BadValue{"SPOTIFY_MARKET", "UK"},
                      BadValue{"ETL_SOURCES", "playlist:tooshort"}, BadValue{"ETL_SOURCES", "podcast:37i9dQZF1DXcBWIGoYBM5M"},
                      BadValue{"ETL_SOURCES", "37i9dQZF1DXcBWIGoYBM5M"}, BadValue{"ETL_SCHEDULE", "61 * * * *"},
                      BadValue{"ETL_SCHEDULE", "@every 0s"}, BadValue{"ETL_RAW_URL", "/data/raw"},
                      BadValue{"ETL_TRANSFORMED_URL", "s3:///nobucket"}, BadValue{"ETL_OUTPUT_FORMAT", "orc"},
                      BadValue{"ETL_BUS", "rabbitmq"}, BadValue{"ETL_CATALOG", "hive"},
                      BadValue{"ETL_QUERY_ENGINE", "trino"}, BadValue{"ETL_ATHENA_OUTPUT", "/tmp/results"},
                      BadValue{"ETL_LOG_LEVEL", "verbose"}, BadValue{"ETL_LOG_FORMAT", "xml"},
                      BadValue{"ETL_SEARCH_MAX_RESULTS", "0"}, BadValue{"ETL_MAX_RAW_OBJECT_BYTES", "lots"},
                      BadValue{"SPOTIFY_API_URL", "http://"}, BadValue{"AWS_ENDPOINT_URL", "https:///x"},
                      BadValue{"SPOTIFY_ACCOUNTS_URL", "http://:443"}, BadValue{"ETL_SPOTIFY_RATE", "0x10"},
                      BadValue{"ETL_SPOTIFY_RATE", " 5"}, BadValue{"ETL_SPOTIFY_RATE", "1e2"},
                      BadValue{"ETL_SPOTIFY_RATE", "inf"}, BadValue{"ETL_BUS", "memory\nINJECTED line"},
                      BadValue{"ETL_SOURCES", "search:caf\xe9"}, BadValue{"ETL_EXTRACTOR_ADDR", "a b:8081"}));

TEST(Config, SnapshotBoundsThatContradictEachOtherAreRefused) {
  auto cfg = load_config({{"ETL_ICEBERG_MIN_SNAPSHOTS", "500"}, {"ETL_ICEBERG_MAX_SNAPSHOTS", "5"}});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message.rfind("ETL_ICEBERG_MAX_SNAPSHOTS: 5 is below ETL_ICEBERG_MIN_SNAPSHOTS (500)", 0), 0u)
      << cfg.error().message;
  auto rate = load_config({{"ETL_SPOTIFY_RATE", "2.5"}});
  ASSERT_TRUE(rate.ok()) << rate.error().message;
  EXPECT_EQ(rate->spotify_rate_per_s, 2.5);
}

TEST(Config, TableFormatDefaultsToIcebergLocallyAndToGluesCrawlerRouteWithGlue) {
  auto local = load_config({});
  ASSERT_TRUE(local.ok()) << local.error().message;
  EXPECT_EQ(local->table_format, "iceberg");
  auto glue = load_config({{"ETL_CATALOG", "glue"}});
  ASSERT_TRUE(glue.ok()) << glue.error().message;
  EXPECT_EQ(glue->table_format, "hive") << "ETL_CATALOG=glue alone keeps the Glue crawler route";
  auto glue_iceberg = load_config({{"ETL_CATALOG", "glue"}, {"ETL_TABLE_FORMAT", "Iceberg"}});
  ASSERT_TRUE(glue_iceberg.ok()) << glue_iceberg.error().message;
  EXPECT_EQ(glue_iceberg->table_format, "iceberg") << "the Iceberg route is asked for explicitly";
  auto bad = load_config({{"ETL_CATALOG", "glue"}, {"ETL_TABLE_FORMAT", "delta"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("ETL_TABLE_FORMAT"), std::string::npos) << bad.error().message;
}

TEST(Config, OrphanAgeIsADayByDefaultZeroOrAtLeastTenMinutes) {
  EXPECT_EQ(load_config({})->iceberg_orphan_age, std::chrono::seconds(86400));
  EXPECT_EQ(load_config({{"ETL_ICEBERG_ORPHAN_AGE_S", "0"}})->iceberg_orphan_age, std::chrono::seconds(0));
  EXPECT_EQ(load_config({{"ETL_ICEBERG_ORPHAN_AGE_S", "3600"}})->iceberg_orphan_age, std::chrono::seconds(3600));
  auto short_age = load_config({{"ETL_ICEBERG_ORPHAN_AGE_S", "60"}});
  ASSERT_FALSE(short_age.ok());
  EXPECT_NE(short_age.error().message.find("ETL_ICEBERG_ORPHAN_AGE_S: is 60: under 600 s"), std::string::npos)
      << short_age.error().message;
  EXPECT_EQ(short_age.error().message.find('\n'), std::string::npos);
  EXPECT_FALSE(load_config({{"ETL_ICEBERG_ORPHAN_AGE_S", "-1"}}).ok());
}

TEST(Config, SecretsAreNotEchoedInErrors) {
  auto cfg = load_config({{"ETL_API_TOKEN", "hunter2"}, {"ETL_BUS", "nope"}});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message.find("hunter2"), std::string::npos);
}

TEST(Config, ReadsTheWebIdentityVariablesThatIrsaInjects) {
  auto cfg = load_config({{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/spotify-etl-extractor"},
                          {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
                          {"AWS_ROLE_SESSION_NAME", "extractor-pod_1@eks"},
                          {"AWS_ENDPOINT_URL_STS", "https://sts.eu-west-1.amazonaws.com/"}});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->aws.role_arn, "arn:aws:iam::123456789012:role/spotify-etl-extractor");
  EXPECT_EQ(cfg->aws.web_identity_token_file, "/var/run/secrets/eks.amazonaws.com/serviceaccount/token");
  EXPECT_EQ(cfg->aws.role_session_name, "extractor-pod_1@eks");
  EXPECT_EQ(cfg->aws.endpoint_url_sts, "https://sts.eu-west-1.amazonaws.com");
  auto defaults = load_config({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->aws.role_arn, "");
  EXPECT_EQ(defaults->aws.web_identity_token_file, "");
  EXPECT_EQ(defaults->aws.role_session_name, "") << "empty: a name is generated per process";
  EXPECT_EQ(defaults->aws.endpoint_url_sts, "");
}

TEST(Config, TokenFileWithoutARoleIsRefusedUnlessStaticKeysAreSet) {
  auto cfg = load_config({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"}});
  ASSERT_FALSE(cfg.ok()) << "a token file without a role cannot be exchanged";
  EXPECT_TRUE(cfg.error().message.starts_with("AWS_ROLE_ARN: ")) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos) << cfg.error().message;
  // Static keys win, as in the SDKs: the web identity variables are then not used at all.
  auto keys = load_config({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
                           {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s3cr3t"}});
  EXPECT_TRUE(keys.ok()) << keys.error().message;
  // A role alone is not a web identity (nothing to exchange): accepted and unused.
  EXPECT_TRUE(load_config({{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/x"}}).ok());
}

TEST(Config, AReadOnlyTokenNeedsAnApiTokenOfItsOwn) {
  auto fine = load_config({{"ETL_API_TOKEN", "admin"}, {"ETL_READ_TOKEN", "dashboards"}});
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ(fine->read_token, "dashboards");
  auto alone = load_config({{"ETL_READ_TOKEN", "dashboards"}});
  ASSERT_FALSE(alone.ok()) << "without ETL_API_TOKEN every endpoint would be open";
  EXPECT_TRUE(alone.error().message.starts_with("ETL_READ_TOKEN: set ETL_API_TOKEN too")) << alone.error().message;
  auto same = load_config({{"ETL_API_TOKEN", "one"}, {"ETL_READ_TOKEN", "one"}});
  ASSERT_FALSE(same.ok());
  EXPECT_TRUE(same.error().message.starts_with("ETL_READ_TOKEN: must differ")) << same.error().message;
  EXPECT_EQ(same.error().message.find("one"), std::string::npos) << "a secret is never quoted";
}

TEST(Config, RoleSessionNameMustBeOneStsAccepts) {
  for (const char* bad : {"x", "has space", "slash/name", "0123456789012345678901234567890123456789012345678901234567890123X"}) {
    auto cfg = load_config({{"AWS_ROLE_SESSION_NAME", bad}});
    ASSERT_FALSE(cfg.ok()) << "accepted AWS_ROLE_SESSION_NAME=" << bad;
    EXPECT_TRUE(cfg.error().message.starts_with("AWS_ROLE_SESSION_NAME: ")) << cfg.error().message;
  }
  EXPECT_FALSE(load_config({{"AWS_ENDPOINT_URL_STS", "sts.local:443"}}).ok());
}

TEST(SpotifyId, AcceptsOnlyBase62Of22Characters) {
  EXPECT_TRUE(is_spotify_id("37i9dQZF1DXcBWIGoYBM5M"));
  EXPECT_FALSE(is_spotify_id("37i9dQZF1DXcBWIGoYBM5"));
  EXPECT_FALSE(is_spotify_id("37i9dQZF1DXcBWIGoYBM5M1"));
  EXPECT_FALSE(is_spotify_id("37i9dQZF1DXcBWIGoYBM5-"));
  EXPECT_FALSE(is_spotify_id("../../../../etc/passwd1"));
  EXPECT_FALSE(is_spotify_id(""));
}

TEST(CountryCode, AcceptsTheAssignedIso3166CodesAndKosovo) {
  for (const char* code : {"US", "GB", "SE", "DE", "JP", "BR", "AD", "ZW", "XK", "PR"})
    EXPECT_TRUE(is_country_code(code)) << code;
  // Two capitals are not enough: UK and EU are reserved, not assigned; XX, QQ
  // and AA are user-assigned; Spotify answers "Invalid market code" for them.
  for (const char* code : {"UK", "EU", "XX", "QQ", "AA", "ZZ", "us", "Us", "USA", "U", "", "U1", "from_token"})
    EXPECT_FALSE(is_country_code(code)) << code;
}

TEST(HostPort, ParsesHostAndPortForms) {
  auto a = parse_host_port("0.0.0.0:8081");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8081);
  auto b = parse_host_port(":8082");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "127.0.0.1");
  auto c = parse_host_port("[::1]:8083");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_FALSE(parse_host_port("8081").ok());
  EXPECT_FALSE(parse_host_port("host:http").ok());
}

}  // namespace
}  // namespace etl

namespace etl {
namespace {

// Issue 13: the query endpoint's limits.
TEST(QueryConfig, LimitsParseWithSizeSuffixesAndBadValuesNameTheVariable) {
  auto cfg = load_config({{"ETL_QUERY_MEMORY_LIMIT", "512M"}, {"ETL_QUERY_MAX_TEMP_BYTES", "2GiB"},
                          {"ETL_QUERY_MAX_TIMEOUT_MS", "60000"}, {"ETL_QUERY_WORKERS", "3"},
                          {"ETL_QUERY_MAX_QUEUED", "10"}, {"ETL_QUERY_RESULTS_MAX_BYTES", "100K"},
                          {"ETL_QUERY_RESULTS_TTL_S", "3600"}, {"ETL_QUERY_DATA_DIR", "/var/lib/x"},
                          {"ETL_QUERY_S3_METADATA_CACHE", "false"}, {"ETL_QUERY_RESIDENT_BYTES", "0"}});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->query_memory_limit, 512ull << 20);
  EXPECT_EQ(cfg->query_resident_bytes, 0u) << "0: no table is kept in memory";
  EXPECT_EQ(cfg->query_max_temp_bytes, 2ull << 30);
  EXPECT_EQ(cfg->query_max_timeout.count(), 60000);
  EXPECT_EQ(cfg->query_workers, 3);
  EXPECT_EQ(cfg->query_max_queued, 10);
  EXPECT_EQ(cfg->query_results_max_bytes, 100u << 10);
  EXPECT_EQ(cfg->query_results_ttl.count(), 3600);
  EXPECT_EQ(cfg->query_data_dir, "/var/lib/x");
  EXPECT_FALSE(cfg->query_s3_metadata_cache);
  auto defaults = load_config({}).value();
  EXPECT_TRUE(defaults.query_s3_metadata_cache);
  EXPECT_EQ(defaults.query_memory_limit, 0u) << "0 = from the cgroup";
  EXPECT_EQ(defaults.query_max_timeout.count(), 300000);
  EXPECT_EQ(defaults.query_resident_bytes, 256ull << 20);
  expect_each_refused_by_name({{"ETL_QUERY_MEMORY_LIMIT", "lots"},
                               {"ETL_QUERY_RESIDENT_BYTES", "-1"},
                               {"ETL_QUERY_MEMORY_LIMIT", "1K"},
                               {"ETL_QUERY_MAX_TIMEOUT_MS", "7200000"},
                               {"ETL_QUERY_MAX_QUEUED", "0"},
                               {"ETL_QUERY_S3_METADATA_CACHE", "yes"}});
  EXPECT_FALSE(parse_byte_size("99999999999T"));
  EXPECT_EQ(parse_byte_size("7").value(), 7u);
}

// How long the query engine process may leave a request unanswered before it is
// taken for stuck: settings, since a view sync over many tables on a slow store
// may need longer than the default, and a fast liveness check less.
TEST(QueryConfig, TheEngineProcessWaitsAreSettingsWithinBounds) {
  auto defaults = load_config({}).value();
  EXPECT_EQ(defaults.query_process_start_timeout.count(), 120000);
  EXPECT_EQ(defaults.query_process_sync_timeout.count(), 30000);
  EXPECT_EQ(defaults.query_process_reply_timeout.count(), 10000);
  auto cfg = load_config({{"ETL_QUERY_PROCESS_START_TIMEOUT_MS", "300000"},
                          {"ETL_QUERY_PROCESS_SYNC_TIMEOUT_MS", "600000"},
                          {"ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS", "2500"}});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->query_process_start_timeout.count(), 300000);
  EXPECT_EQ(cfg->query_process_sync_timeout.count(), 600000);
  EXPECT_EQ(cfg->query_process_reply_timeout.count(), 2500);
  expect_each_refused_by_name({{"ETL_QUERY_PROCESS_START_TIMEOUT_MS", "999"},
                               {"ETL_QUERY_PROCESS_SYNC_TIMEOUT_MS", "3600001"},
                               {"ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS", "99"},
                               {"ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS", "10s"}});
}

}  // namespace
}  // namespace etl

namespace etl {
namespace {

// Every byte-valued variable takes the same forms (docs/contract.md §3): digits,
// or digits with a K, M, G or T suffix. The transformer's window and batch sizes
// and the body and message limits took digits only, so `256M` was refused there
// and accepted for the query and Iceberg sizes.
TEST(Config, EveryByteSizeTakesASuffix) {
  auto cfg = load_config({{"ETL_TRANSFORM_BATCH_BYTES", "32M"}, {"ETL_TRANSFORM_WINDOW_BYTES", "1G"},
                          {"ETL_MAX_RAW_OBJECT_BYTES", "512MiB"}, {"ETL_MAX_REQUEST_BODY_BYTES", "64K"},
                          {"ETL_PG_MAX_MESSAGE_BYTES", "2M"}});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->transform_batch_bytes, 32ull << 20);
  EXPECT_EQ(cfg->transform_window_bytes, 1ull << 30);
  EXPECT_EQ(cfg->max_raw_object_bytes, 512ull << 20);
  EXPECT_EQ(cfg->max_request_body_bytes, 64ull << 10);
  EXPECT_EQ(cfg->pg_max_message_bytes, 2ull << 20);
  // Plain digits still work, and the bounds still hold.
  EXPECT_EQ(load_config({{"ETL_MAX_REQUEST_BODY_BYTES", "65536"}}).value().max_request_body_bytes, 65536u);
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"ETL_MAX_REQUEST_BODY_BYTES", "1023"}, {"ETL_MAX_REQUEST_BODY_BYTES", "2G"},
           {"ETL_TRANSFORM_WINDOW_BYTES", "1023"}, {"ETL_PG_MAX_MESSAGE_BYTES", "4K5"}}) {
    auto bad = load_config({{name, value}});
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_NE(bad.error().message.find(name), std::string::npos) << bad.error().message;
  }
}

}  // namespace
}  // namespace etl

namespace etl {
namespace {

// The start-up log names each variable that was set once, even one read twice.
TEST(Config, SetVariablesNamesEachOnce) {
  auto cfg = load_config({{"ETL_PG_ADDR", "127.0.0.1:15432"}, {"ETL_BUS", "memory"}});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(std::count(cfg->set_variables.begin(), cfg->set_variables.end(), "ETL_PG_ADDR"), 1);
  EXPECT_EQ(std::count(cfg->set_variables.begin(), cfg->set_variables.end(), "ETL_BUS"), 1);
}

}  // namespace
}  // namespace etl

namespace etl {
namespace {

// A search query is 1 to 200 characters, counted as characters: 200 'é' (400
// bytes) pass, 201 do not (the bytes were counted before).
TEST(Config, SearchQueryLengthIsCountedInCharacters) {
  std::string e200;
  for (int i = 0; i < 200; ++i) e200 += "\xc3\xa9";
  EXPECT_TRUE(validate_source({SourceType::search, e200}).ok());
  EXPECT_FALSE(validate_source({SourceType::search, e200 + "\xc3\xa9"}).ok());
  EXPECT_TRUE(validate_source({SourceType::search, std::string(200, 'a')}).ok());
  EXPECT_FALSE(validate_source({SourceType::search, std::string(201, 'a')}).ok());
  EXPECT_FALSE(validate_source({SourceType::search, ""}).ok());
}

}  // namespace
}  // namespace etl

// Configuration from the environment, exactly as docs/contract.md §3.
// A plain struct: every field has a default and a one-line comment. `load_config`
// validates everything at start-up and refuses bad values with one line naming
// the variable and the accepted forms.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etl/lake.h"
#include "etl/result.h"

namespace etl {

struct HostPort {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
};

enum class OutputFormat { parquet, csv, jsonl };
const char* to_string(OutputFormat f) noexcept;
const char* file_extension(OutputFormat f) noexcept;

struct SourceSpec {
  SourceType type = SourceType::playlist;
  std::string id;  // Spotify id, or the query for search
  bool operator==(const SourceSpec&) const = default;
};

// Parses `playlist:<id>`, `album:<id>`, `artist-albums:<id>`, `search:<query>`.
Result<SourceSpec> parse_source_spec(std::string_view text);
// True for a 22-character base62 Spotify id.
bool is_spotify_id(std::string_view id) noexcept;
// True for a market Spotify's `market` parameter takes: an ISO 3166-1 alpha-2
// country code, upper case, officially assigned (US, SE, ...), or XK (Kosovo,
// which Spotify serves). Spotify answers 400 "Invalid market code" for others.
bool is_country_code(std::string_view code) noexcept;
// Validates a source (id base62, or a query non-empty and at most 200 chars).
Status validate_source(const SourceSpec& source);
// parse_source_type with an invalid_argument that lists the accepted types.
Result<SourceType> parse_source_type_or_error(std::string_view text);

struct AwsConfig {
  std::string region = "us-east-1";      // AWS_REGION (or AWS_DEFAULT_REGION)
  std::string access_key_id;             // AWS_ACCESS_KEY_ID (secret-adjacent: never logged)
  std::string secret_access_key;         // AWS_SECRET_ACCESS_KEY (secret)
  std::string session_token;             // AWS_SESSION_TOKEN (secret)
  std::string endpoint_url;              // AWS_ENDPOINT_URL: for every service
  std::string endpoint_url_s3;           // AWS_ENDPOINT_URL_S3: custom S3 (MinIO), path-style
  std::string endpoint_url_glue;         // AWS_ENDPOINT_URL_GLUE
  std::string endpoint_url_athena;       // AWS_ENDPOINT_URL_ATHENA
  std::string endpoint_url_sts;          // AWS_ENDPOINT_URL_STS: for web identity; else AWS_ENDPOINT_URL, else regional
  // Web identity (IRSA on EKS injects the first two); used only without static keys.
  std::string role_arn;                  // AWS_ROLE_ARN: the role to assume with the token
  std::string web_identity_token_file;   // AWS_WEB_IDENTITY_TOKEN_FILE: the OIDC token, re-read at every refresh
  std::string role_session_name;         // AWS_ROLE_SESSION_NAME: "" = spotify-etl-<ms since the epoch>
};

// ETL_CATALOG=glue: how the Glue crawlers are found or made.
struct GlueSettings {
  std::string crawler_role;                     // ETL_GLUE_CRAWLER_ROLE: IAM role (name or ARN) of created crawlers
  bool create = true;                           // ETL_GLUE_CREATE: create the database and missing crawlers
  bool recrawl_new_folders = true;              // ETL_GLUE_RECRAWL: new-folders (true) | everything (false)
  std::map<std::string, std::string> crawlers;  // ETL_GLUE_CRAWLERS: table -> existing crawler, used as it is
  // ETL_GLUE_ICEBERG_REGISTRATION (with ETL_TABLE_FORMAT=iceberg): "direct" registers
  // each commit (UpdateTable on metadata_location); "crawler" starts the table's Glue
  // crawler with an Iceberg target instead (the classic route, with its delay).
  std::string iceberg_registration = "direct";
};

// ETL_CATALOG=local over an s3:// transformed store: how DuckDB reads the tables.
struct CatalogCacheSettings {
  // ETL_CATALOG_READS: in_place (default) reads s3:// through DuckDB's httpfs
  // extension; mirror keeps a full local copy under `dir` (no extension needed).
  std::string reads = "in_place";
  std::string extension_dir;  // ETL_DUCKDB_EXTENSION_DIR: folder of httpfs.duckdb_extension ("" = found: duck_s3.h)
  std::string dir = "./data/cataloger-cache";  // ETL_CATALOG_CACHE_DIR
  std::uint64_t max_bytes = 20ull << 30;       // ETL_CATALOG_CACHE_MAX_BYTES: bytes, or with a K/M/G/T suffix
  bool verify_md5 = true;                      // ETL_CATALOG_CACHE_VERIFY: md5 | etag (SSE-KMS: ETags are not MD5s)
};

// How the HTTP listeners hold against hostile or careless clients (one block:
// ETL_ALLOW_OPEN and ETL_HTTP_*; README "Configuration").
struct HttpSettings {
  bool allow_open = false;                    // ETL_ALLOW_OPEN: listen on a non-loopback address without ETL_API_TOKEN
  int max_connections = 1024;                 // ETL_HTTP_MAX_CONNECTIONS: open connections per listener (more wait in the backlog)
  std::chrono::seconds request_timeout{10};   // ETL_HTTP_REQUEST_TIMEOUT_S: a request's headers and body must arrive within it
  std::vector<std::string> allowed_hosts;     // ETL_HTTP_ALLOWED_HOSTS: extra Host names a loopback-bound service accepts
};

struct Config {
  HostPort extractor_addr{"127.0.0.1", 8081};    // ETL_EXTRACTOR_ADDR
  HostPort transformer_addr{"127.0.0.1", 8082};  // ETL_TRANSFORMER_ADDR
  HostPort cataloger_addr{"127.0.0.1", 8083};    // ETL_CATALOGER_ADDR
  std::string api_token;                         // ETL_API_TOKEN: bearer token for /v1 (secret)
  std::string read_token;                        // ETL_READ_TOKEN: a second token that may only read (secret)
  HostPort pg_addr{"127.0.0.1", 5432};           // ETL_PG_ADDR: the cataloger's PostgreSQL endpoint ("off": none)
  bool pg_enabled = true;                        // false with ETL_PG_ADDR=off
  bool pg_addr_set = false;                      // ETL_PG_ADDR given: failing to listen there stops the start-up
  int pg_max_connections = 64;                   // ETL_PG_MAX_CONNECTIONS: more get SQLSTATE 53300
  std::uint64_t pg_max_message_bytes = 1u << 20; // ETL_PG_MAX_MESSAGE_BYTES: a larger message ends the connection
  int pg_idle_timeout_s = 600;                   // ETL_PG_IDLE_TIMEOUT_S: between messages
  int pg_read_timeout_s = 30;                    // ETL_PG_READ_TIMEOUT_S: start-up, auth, the rest of a started message
  int pg_statement_timeout_ms = 30000;           // ETL_PG_STATEMENT_TIMEOUT_MS: unless the session SETs statement_timeout
  std::string pg_tls_cert;                       // ETL_PG_TLS_CERT: PEM certificate (chain) file; with the key: TLS on
  std::string pg_tls_key;                        // ETL_PG_TLS_KEY: PEM private key file matching the certificate (secret)
  bool pg_tls_required = false;                  // ETL_PG_TLS_REQUIRED: refuse plaintext start-ups (needs the pair)
  HttpSettings http;                             // ETL_ALLOW_OPEN, ETL_HTTP_*

  std::string spotify_client_id;                            // SPOTIFY_CLIENT_ID
  std::string spotify_client_secret;                        // SPOTIFY_CLIENT_SECRET (secret)
  std::string spotify_api_url = "https://api.spotify.com/v1";        // SPOTIFY_API_URL
  std::string spotify_accounts_url = "https://accounts.spotify.com";  // SPOTIFY_ACCOUNTS_URL
  std::string spotify_market;                               // SPOTIFY_MARKET: ISO 3166-1 alpha-2
  std::vector<SourceSpec> sources;                          // ETL_SOURCES
  std::string schedule;                                     // ETL_SCHEDULE (validated by Schedule::parse)
  int search_max_results = 200;                             // ETL_SEARCH_MAX_RESULTS: cap for search sources
  std::chrono::seconds spotify_max_retry_after{60};         // ETL_SPOTIFY_MAX_RETRY_AFTER_S: longest single 429 wait
  int spotify_max_retries = 5;                              // ETL_SPOTIFY_MAX_RETRIES: on 5xx / network errors
  double spotify_rate_per_s = 10.0;                         // ETL_SPOTIFY_RATE: requests/s per process (token bucket)
  int extract_parallelism = 4;                              // ETL_EXTRACT_PARALLELISM: sources fetched at once

  std::string raw_url = "file://./data/raw";                 // ETL_RAW_URL
  std::string transformed_url = "file://./data/transformed"; // ETL_TRANSFORMED_URL
  OutputFormat output_format = OutputFormat::parquet;        // ETL_OUTPUT_FORMAT
  std::uint64_t max_raw_object_bytes = 256ull << 20;         // ETL_MAX_RAW_OBJECT_BYTES: larger goes to the DLQ
  std::uint64_t max_request_body_bytes = 1ull << 20;         // ETL_MAX_REQUEST_BODY_BYTES: HTTP body limit
  // The transformer's batches (services/transformer/README.md "Batches"): a batch of one
  // partition's events closes at whichever comes first; its rows go into one file per table and day.
  int transform_batch_events = 200;                          // ETL_TRANSFORM_BATCH_EVENTS: events per batch
  std::uint64_t transform_batch_bytes = 64ull << 20;         // ETL_TRANSFORM_BATCH_BYTES: raw bytes per batch (event sizes)
  int transform_linger_ms = 100;                             // ETL_TRANSFORM_LINGER_MS: a batch's longest wait for more events
  int transform_window = 400;                                // ETL_TRANSFORM_WINDOW: events polled and not yet committed, per consumer
  std::uint64_t transform_window_bytes = 256ull << 20;       // ETL_TRANSFORM_WINDOW_BYTES: their raw bytes (event sizes)
  int transform_concurrency = 8;                             // ETL_TRANSFORM_CONCURRENCY: S3 requests / transforms at once

  AwsConfig aws;

  std::string bus = "kafka";                                 // ETL_BUS: memory | kafka (spotify-etl up: memory)
  std::string kafka_bootstrap_servers = "127.0.0.1:9092";    // ETL_KAFKA_BOOTSTRAP_SERVERS
  std::map<std::string, std::string> kafka_properties;       // other ETL_KAFKA_<NAME> -> librdkafka <name>
  std::string topic_raw = "spotify.raw.events";              // ETL_TOPIC_RAW
  std::string topic_transformed = "spotify.transformed.events";  // ETL_TOPIC_TRANSFORMED
  std::string topic_dlq = "spotify.dlq";                     // ETL_TOPIC_DLQ
  int topic_partitions = 6;                                  // ETL_TOPIC_PARTITIONS: of the topics the bus creates when missing
  int topic_replication = -1;                                // ETL_TOPIC_REPLICATION: of created topics; -1 = the broker's default.replication.factor

  std::string catalog = "local";                             // ETL_CATALOG: local | glue
  std::string table_format = "iceberg";                      // ETL_TABLE_FORMAT: iceberg (v2 tables committed by the cataloger) | hive (folders only)
  std::chrono::seconds iceberg_snapshot_retention{86400};    // ETL_ICEBERG_SNAPSHOT_RETENTION_S: age past which snapshots expire
  int iceberg_min_snapshots = 10;                            // ETL_ICEBERG_MIN_SNAPSHOTS: newest snapshots never expired
  int iceberg_max_snapshots = 200;                           // ETL_ICEBERG_MAX_SNAPSHOTS: past this many the oldest expire
  std::chrono::seconds iceberg_maintenance_interval{300};    // ETL_ICEBERG_MAINTENANCE_INTERVAL_S: compaction + expiry runs (0 = off)
  std::chrono::seconds iceberg_orphan_age{86400};            // ETL_ICEBERG_ORPHAN_AGE_S: unnamed files older than this are deleted at maintenance (0 = never)
  std::uint64_t iceberg_target_file_bytes = 128ull << 20;    // ETL_ICEBERG_TARGET_FILE_BYTES: compaction's output size
  std::uint64_t iceberg_manifest_cache_bytes = 64ull << 20;  // ETL_ICEBERG_MANIFEST_CACHE_BYTES: manifests kept parsed (0 = none)
  // The Iceberg REST catalog's vended credentials (s3:// stores): off | sts (STS
  // AssumeRole of the role below with a session policy reading one table's prefix).
  std::string iceberg_vended_credentials = "off";             // ETL_ICEBERG_VENDED_CREDENTIALS
  std::string iceberg_vended_role_arn;                        // ETL_ICEBERG_VENDED_ROLE_ARN
  std::chrono::seconds iceberg_vended_ttl{900};               // ETL_ICEBERG_VENDED_TTL_S: their lifetime (900-43200)
  std::string glue_database = "spotify";                     // ETL_GLUE_DATABASE
  std::string query_engine = "duckdb";                       // ETL_QUERY_ENGINE: duckdb | athena
  std::string athena_workgroup = "primary";                  // ETL_ATHENA_WORKGROUP
  std::string athena_output;                                 // ETL_ATHENA_OUTPUT: s3:// result location
  GlueSettings glue;
  CatalogCacheSettings catalog_cache;

  // The DuckDB query endpoint (ETL_QUERY_*; services/cataloger/README.md "Limits").
  std::uint64_t query_memory_limit = 0;                 // ETL_QUERY_MEMORY_LIMIT: bytes (K/M/G); 0 = from the cgroup
  std::string query_isolation = "process";              // ETL_QUERY_ISOLATION: process (DuckDB in a child) | none
  std::uint64_t query_process_memory = 0;               // ETL_QUERY_PROCESS_MEMORY: the child's data cap; 0 = from the memory limit
  std::chrono::milliseconds query_kill_grace{5000};     // ETL_QUERY_KILL_GRACE_MS: interrupted and still running: kill the child
  // With process isolation, how long the child may leave a request unanswered
  // before it is taken for stuck, killed and started again:
  std::chrono::milliseconds query_process_start_timeout{120000};  // ETL_QUERY_PROCESS_START_TIMEOUT_MS: its start
  std::chrono::milliseconds query_process_sync_timeout{30000};    // ETL_QUERY_PROCESS_SYNC_TIMEOUT_MS: a view sync
  std::chrono::milliseconds query_process_reply_timeout{10000};   // ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS: a ping, a session
  std::uint64_t query_max_temp_bytes = 4ull << 30;      // ETL_QUERY_MAX_TEMP_BYTES: DuckDB spill cap
  std::uint64_t query_resident_bytes = 256ull << 20;    // ETL_QUERY_RESIDENT_BYTES: in-memory table copies; 0 = off
  bool query_s3_metadata_cache = true;                  // ETL_QUERY_S3_METADATA_CACHE: Iceberg files' HEADs, once
  std::string query_data_dir = "./data/cataloger";      // ETL_QUERY_DATA_DIR: the engine's own folder (spill)
  std::chrono::milliseconds query_max_timeout{300000};  // ETL_QUERY_MAX_TIMEOUT_MS: largest timeout_ms accepted
  int query_workers = 4;                                // ETL_QUERY_WORKERS: queries running at once
  int query_max_queued = 64;                            // ETL_QUERY_MAX_QUEUED: waiting queries; beyond: 429
  std::uint64_t query_results_max_bytes = 1ull << 30;   // ETL_QUERY_RESULTS_MAX_BYTES: stored result CSVs
  std::chrono::seconds query_results_ttl{86400};        // ETL_QUERY_RESULTS_TTL_S: age of stored result CSVs
  std::string log_level = "info";                            // ETL_LOG_LEVEL: trace|debug|info|warn|error
  std::string log_format = "json";                           // ETL_LOG_FORMAT: json | text

  // Names of the variables that were set (for "which knobs did the operator turn" logs).
  std::vector<std::string> set_variables;
};

using Environment = std::map<std::string, std::string>;

// A snapshot of the process environment.
Environment process_env();
// The value of `name` when it is set and not empty (as load_config reads every variable).
std::optional<std::string> env_value(const Environment& env, const std::string& name);

struct ConfigDefaults {
  std::string bus = "kafka";  // `spotify-etl up` passes "memory"
};

// Reads and validates the configuration. The error message is the one line to print.
Result<Config> load_config(const Environment& env, const ConfigDefaults& defaults = {});

// Parses a byte size: digits with an optional K, M, G or T suffix (powers of 1024, "B"/"iB" allowed).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// A TLS certificate (chain) and private key in PEM files, as load_config checks
// ETL_PG_TLS_CERT / ETL_PG_TLS_KEY: both readable, both parse, the key matches the
// certificate. invalid_argument with one line saying which file and why.
Status check_tls_key_pair(const std::string& cert_file, const std::string& key_file);

// Parses "host:port" or ":port" (host defaults to 127.0.0.1).
Result<HostPort> parse_host_port(std::string_view text);

}  // namespace etl

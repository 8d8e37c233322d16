// The AWS Glue catalog (ETL_CATALOG=glue): tables come from the Glue Data
// Catalog (GetTables, GetTable, GetPartitions), a crawl is one Glue crawler run
// per table (StartCrawler, then GetCrawler polled with backoff until READY, then
// LastCrawl). Before the first crawl it makes sure the database and one crawler
// per table exist (when allowed: ETL_GLUE_CREATE), each crawling exactly its
// table folder (`s3://bucket/prefix/<table>/`, table level pinned there) so Glue
// never makes a table per file or per partition. Crawls run one at a time on a
// worker thread; recent ones are remembered for GET /v1/crawls/{id}.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "crawl_jobs.h"
#include "etl/aws_json.h"
#include "etl/catalog.h"
#include "etl/config.h"

namespace etl::cataloger {

struct GlueCatalogOptions {
  std::string database = "spotify";           // Config::glue_database
  std::string transformed_url;                // Config::transformed_url: s3://bucket[/prefix]
  std::vector<std::string> tables{"albums_data", "artists_data", "songs_data"};  // one crawler each
  std::map<std::string, std::string> crawlers;  // ETL_GLUE_CRAWLERS: table -> existing crawler, used as it is
  std::string crawler_role;                   // ETL_GLUE_CRAWLER_ROLE: IAM role (name or ARN) of created crawlers
  bool create = true;                         // ETL_GLUE_CREATE: create the database and missing crawlers
  bool incremental = true;                    // ETL_GLUE_RECRAWL: new-folders (true) | everything (false)
  // The tables are Iceberg tables (ETL_GLUE_ICEBERG_REGISTRATION=crawler): created
  // crawlers get an Iceberg target on the table folder instead of an S3 target.
  bool iceberg_targets = false;
  std::chrono::milliseconds poll_initial{2000};  // first GetCrawler after StartCrawler
  std::chrono::milliseconds poll_max{15000};     // GetCrawler polls back off up to this
  std::chrono::minutes crawl_timeout{60};        // a crawl not READY by then is reported failed
  std::chrono::milliseconds listing_ttl{5000};   // list_tables answers from a listing this fresh
  std::size_t crawl_history = 1000;              // crawls remembered for GET /v1/crawls/{id}
};

// The Glue options of the configuration (Config::glue: the ETL_GLUE_* variables);
// invalid_argument unless the transformed store is in S3.
Result<GlueCatalogOptions> glue_catalog_options(const Config& config);

// The name of the crawler we create for a table when none is configured.
std::string default_crawler_name(const std::string& database, const std::string& table);
// The CreateCrawler request for a table (pure; tested): S3 target = the table
// folder, table level pinned at that folder, Hive partitions below it. With
// `iceberg_targets`: an Iceberg target on the table folder (the crawler reads its
// metadata/ and registers the Iceberg table), every crawl a full one.
nlohmann::json create_crawler_request(const GlueCatalogOptions& options, const std::string& table,
                                      const std::string& crawler_name);

class GlueCatalog final : public Catalog {
 public:
  static Result<std::unique_ptr<GlueCatalog>> open(const AwsConfig& aws, GlueCatalogOptions options,
                                                   aws::JsonClientOptions client_options = {});
  GlueCatalog(std::unique_ptr<aws::JsonClient> client, GlueCatalogOptions options);
  ~GlueCatalog() override;

  void start();  // the crawl worker
  void stop();   // queued crawls are abandoned; a running Glue crawler is left to finish
  // start(), then ensure_resources(): invalid_argument (e.g. a crawler to create
  // without ETL_GLUE_CRAWLER_ROLE) stops start-up; AWS trouble is retried by the first crawl.
  Status start_workers() override;
  void stop_workers() override { stop(); }

  // Creates the database and the missing crawlers (when allowed), checks the
  // configured ones exist. Done before the first crawl; callable at start-up.
  Status ensure_resources();
  // The crawler crawling `table`.
  std::string crawler_name(const std::string& table) const;

  // Crawls now on the calling thread (serialised with the worker).
  Result<CrawlInfo> crawl(const CrawlRequest& request);

  std::string name() const override { return "glue"; }
  std::string database() const override { return options_.database; }
  Result<std::vector<TableInfo>> list_tables() override;
  Result<TableInfo> get_table(const std::string& name) override;
  Result<std::vector<PartitionInfo>> get_partitions(const std::string& table) override;
  Result<CrawlInfo> start_crawl(const CrawlRequest& request) override;
  Result<CrawlInfo> get_crawl(const std::string& crawl_id) override;
  Result<CrawlInfo> wait_crawl(const std::string& crawl_id, std::chrono::milliseconds max_wait) override;
  // Moves when a listing (list_tables, get_table, a finished crawl) sees a table's
  // UpdateTime, VersionId or partition count change. Never calls Glue.
  std::uint64_t generation() const override { return generation_.load(); }
  Status ping() override;  // GetDatabase

 private:
  struct Snapshot {
    TableInfo info;
    std::string fingerprint;
  };
  Result<std::vector<nlohmann::json>> glue_tables();
  Result<std::vector<nlohmann::json>> glue_partitions(const std::string& table);
  Result<TableInfo> describe(const nlohmann::json& table);
  Result<std::vector<std::string>> resolve_tables(const CrawlRequest& request);

  // A crawl (glue_crawl.cpp): StartCrawler for each table, poll GetCrawler with
  // backoff until every crawler is READY again, then compare each table with
  // what it was before.
  struct CrawlerJob;
  void run(CrawlInfo& info, const CrawlRequest& request);
  void start_crawler(CrawlerJob& job);
  void poll_crawler(CrawlerJob& job, const CrawlRequest& request, std::chrono::steady_clock::time_point started);
  void summarize(CrawlInfo& info, const std::vector<CrawlerJob>& jobs);

  std::unique_ptr<aws::JsonClient> client_;
  GlueCatalogOptions options_;

  std::mutex state_mutex_;
  std::map<std::string, Snapshot> known_;  // last seen per table: data_version bookkeeping
  std::optional<std::vector<TableInfo>> listing_;
  std::chrono::steady_clock::time_point listed_at_;
  std::atomic<std::uint64_t> generation_{1};
  bool ensured_ = false;

  CrawlJobs jobs_;
};

}  // namespace etl::cataloger

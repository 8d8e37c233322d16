// The built-in catalog (ETL_CATALOG=local): tables found by the crawler, kept
// durably as one JSON document per table in the transformed store
// (`_catalog/<database>/<table>.json`, written atomically) and in memory.
// Crawls run one at a time on a worker thread (start_crawl) or on the caller's
// (crawl); recent crawls are remembered for GET /v1/crawls/{id}.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "crawl_jobs.h"
#include "crawler.h"
#include "etl/catalog.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "compaction.h"
#include "iceberg_tables.h"
#include "table_mirror.h"

namespace etl::cataloger {

// A table's current Iceberg metadata, handed to LocalCatalogOptions::publish.
struct PublishedTable {
  std::string table;
  std::string metadata_location;  // the URL of <table>/metadata/v<N>.metadata.json
  nlohmann::json metadata;        // that file's JSON
};

struct LocalCatalogOptions {
  std::string database = "spotify";  // Config::glue_database
  std::string root_url;              // the store's URL as locations show it ("" = store->url())
  std::size_t crawl_history = 1000;  // crawls remembered for GET /v1/crawls/{id}
  // The local copy DuckDB reads when the store is remote (s3://): every listed data
  // file is copied before its schema is read or the catalog names it. nullptr: the
  // store is a local folder, read in place.
  std::shared_ptr<TableMirror> mirror;
  // Where the files are read: the store's folder, s3:// in place (DuckDB's httpfs),
  // or the mirror's folder.
  duck::TableFiles files;
  // ETL_TABLE_FORMAT=iceberg: each crawl that changes a table commits its Parquet
  // files as an Iceberg snapshot before the catalog moves (a failed commit fails
  // the crawl: queries keep the last committed state). nullptr: hive folders only.
  std::shared_ptr<iceberg::IcebergTables> iceberg;
  // With `iceberg`: crawls with trigger "maintenance" also compact each table
  // (iceberg/compaction.h) and then remove its orphan files older than
  // `orphan_age` (IcebergTables::remove_orphans; 0: never); one is queued every
  // `maintenance_interval` (0: never).
  std::shared_ptr<iceberg::Compactor> compactor;
  std::chrono::milliseconds maintenance_interval{0};
  std::chrono::milliseconds orphan_age{0};
  // With `iceberg`: makes each table's current metadata known to an external
  // catalog (the Glue Data Catalog: aws/glue_iceberg.h; kept out of here). A crawl
  // calls it at its end (a failing one too, for what it committed before failing)
  // for each table whose metadata it moved (a commit or a compaction), for every
  // table when it listed everything, and for every table an earlier call failed
  // for, whatever the crawl's scope. A failed
  // call loses nothing (the commit landed): the table stays unpublished and the
  // crawl ends FAILED with the reason; the next crawl calls again. Called for up
  // to kCrawlTablesAtOnce tables at once, from several threads. nullptr: none.
  std::function<Status(const PublishedTable&)> publish;
  // What name() reports: "local", or "glue" when `publish` registers the tables in
  // the Glue Data Catalog (ETL_CATALOG=glue with ETL_TABLE_FORMAT=iceberg).
  std::string name = "local";
};

class LocalCatalog final : public Catalog {
 public:
  // Loads the catalog documents already in the store (a malformed one is skipped:
  // the next crawl rebuilds it).
  static Result<std::unique_ptr<LocalCatalog>> open(std::shared_ptr<ObjectStore> store,
                                                    std::unique_ptr<SchemaReader> reader,
                                                    LocalCatalogOptions options, MetricsRegistry& metrics);
  ~LocalCatalog() override;

  // Starts / stops the crawl worker (queued crawls not yet started are abandoned).
  void start();
  void stop();
  Status start_workers() override {
    start();
    return {};
  }
  void stop_workers() override { stop(); }
  std::optional<duck::TableFiles> table_files() const override { return options_.files; }
  // The Iceberg tables the crawls commit (nullptr under ETL_TABLE_FORMAT=hive).
  std::shared_ptr<iceberg::IcebergTables> iceberg() const { return options_.iceberg; }

  // Crawls now on the calling thread (serialised with the worker).
  Result<CrawlInfo> crawl(const CrawlRequest& request);

  std::string name() const override { return options_.name; }
  std::string database() const override { return options_.database; }
  Result<std::vector<TableInfo>> list_tables() override;
  Result<TableInfo> get_table(const std::string& name) override;
  Result<std::vector<PartitionInfo>> get_partitions(const std::string& table) override;
  Result<CrawlInfo> start_crawl(const CrawlRequest& request) override;
  Result<CrawlInfo> get_crawl(const std::string& crawl_id) override;
  Result<CrawlInfo> wait_crawl(const std::string& crawl_id, std::chrono::milliseconds max_wait) override;
  std::uint64_t generation() const override { return generation_.load(); }
  // The store answers, and over s3:// the local copy is complete (until then a
  // failed start-up crawl is retried from here now and then: probes keep coming,
  // events may not).
  Status ping() override;

 private:
  LocalCatalog(std::shared_ptr<ObjectStore> store, std::unique_ptr<SchemaReader> reader, LocalCatalogOptions options,
               MetricsRegistry& metrics);
  Status validate(const CrawlRequest& request);
  void run(CrawlInfo& info, const CrawlRequest& request);  // local_crawl.cpp
  // Ends a crawl: publishes (also after a failure), sets its state, counts and logs it.
  void finish_crawl(CrawlInfo& info, const CrawlRequest& request, const Error* error,
                    std::chrono::steady_clock::time_point started);
  // A crawl's scope: the tables it visits and the partitions of each to list
  // (empty: the whole table); a full crawl lists the store once for all tables.
  struct CrawlScope {
    std::map<std::string, std::set<std::string>> partitions;
    std::map<std::string, std::vector<ObjectInfo>> listings;
    bool listed_all = false;
  };
  Result<CrawlScope> scope_of(const CrawlRequest& request);
  // Every table of `scope`, side by side (crawl_one each); the first error, in
  // table order, after all of them ran. A maintenance crawl (compaction) and a
  // crawl over the local copy (ETL_CATALOG_READS=mirror) go one table after
  // another and stop at the first error.
  Status crawl_tables(CrawlScope& scope, const CrawlRequest& request, CrawlInfo& info);
  // One table: lists it, reads new files' schemas, commits it as Iceberg (and
  // compacts it on a maintenance crawl), and stores its catalog document.
  Status crawl_one(const std::string& table, std::set<std::string> partitions, CrawlScope& scope,
                   const CrawlRequest& request, CrawlInfo& info);
  Result<std::vector<ObjectInfo>> list_table(const std::string& table, const std::set<std::string>& partitions,
                                             CrawlScope& scope);
  // Of what compactions touched, keeps in `listing` what the Iceberg `view` says:
  // retired inputs out, outputs the snapshot holds in (fetched when not listed),
  // outputs it does not hold out.
  Status take_compaction_as_committed(const std::string& table, const std::set<std::string>& partitions,
                                      const iceberg::IcebergTables::CrawlView& view, std::vector<ObjectInfo>& listing);
  // `known`: the metadata the crawl's view was read from (loaded once per crawl);
  // `older_generations`: listed files the crawl left out for a newer generation.
  Status commit_iceberg(const std::string& table, const TableCrawl& result, bool listed_all,
                        const std::optional<iceberg::CurrentTable>& known,
                        const std::set<std::string>& older_generations);
  void compact(const std::string& table, TableCrawl& result);
  Status refold_rewritten(const std::string& table, TableState& current, iceberg::IcebergTables::CrawlView& view,
                          std::vector<ObjectInfo>& listing);
  void remove_orphans(const std::string& table);
  // After a crawl: hands crawl_held_ (and, when it failed, the queued held keys it
  // covered) to the timer.
  void hold_for_refold(const CrawlRequest& request, bool failed);
  void run_timer();
  void held_gauge();  // under timer_mutex_
  Status save_table(const std::string& table, TableCrawl& result, CrawlInfo& info);
  std::string catalog_key(const std::string& table) const;
  // Calls options_.publish for each unpublished table, a few at once; "" or why some failed.
  std::string publish();
  // The catalog's side of a compaction: the retired files out, the new ones in.
  void apply_compaction(TableState& state, const iceberg::CompactionResult& done);

  std::shared_ptr<ObjectStore> store_;
  std::unique_ptr<SchemaReader> reader_;
  LocalCatalogOptions options_;
  MetricsRegistry& metrics_;

  mutable std::mutex state_mutex_;
  std::map<std::string, TableState> tables_;
  std::atomic<std::uint64_t> generation_{1};

  CrawlJobs jobs_;

  // The three sets below: crawls run one at a time, but the tables of one crawl
  // side by side (crawl_tables).
  std::mutex crawl_sets_mutex_;
  std::set<std::string> iceberg_behind_;  // tables whose last Iceberg commit failed (crawls only)
  std::set<std::string> unpublished_;     // tables whose last publish failed (crawls only)
  // Keys this crawl left out until a refold takes them (run() only: one crawl at a time).
  std::set<std::string> crawl_held_;
  std::mutex refold_mutex_;  // options_.compactor: one refold at a time (its DuckDB connection)
  // Queues crawls by time: a maintenance crawl every `maintenance_interval`, and a
  // crawl of the keys crawls had to hold back (a newer generation of a compacted-
  // away file whose crawl read the table before the compaction landed, or whose
  // refold failed) once `held_due_` comes: 1 s after the crawl that held them,
  // doubling while they stay held, at most a minute. Without it they would wait
  // for the next event of their partition or the next maintenance crawl.
  std::mutex timer_mutex_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;
  std::set<std::string> held_;         // waiting for held_due_
  std::set<std::string> queued_held_;  // in a queued crawl (hold_for_refold)
  std::chrono::steady_clock::time_point held_due_{};
  std::chrono::milliseconds held_delay_{0};
  std::thread timer_;

  std::mutex mirror_crawl_mutex_;
  std::chrono::steady_clock::time_point last_mirror_crawl_{};  // of the crawls ping() starts
};

}  // namespace etl::cataloger

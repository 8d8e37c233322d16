#include "glue_catalog.h"

#include <algorithm>
#include <set>

#include "aws_fields.h"
#include "etl/log.h"
#include "etl/s3_url.h"
#include "glue_types.h"
#include "ids.h"
#include "table_state.h"

namespace etl::cataloger {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using aws_fields::field;
using aws_fields::text;
using std::chrono::milliseconds;


Result<GlueCatalogOptions> glue_catalog_options(const Config& config) {
  GlueCatalogOptions o;
  o.database = config.glue_database;
  o.transformed_url = config.transformed_url;
  if (!o.transformed_url.starts_with("s3://"))
    return make_error(Errc::invalid_argument, "ETL_CATALOG=glue needs ETL_TRANSFORMED_URL=s3://bucket[/prefix] (Glue "
                                              "crawlers read S3), got '" + config.transformed_url + "'");
  if (auto loc = s3::parse_url(o.transformed_url); !loc)
    return make_error(Errc::invalid_argument, "ETL_TRANSFORMED_URL: " + loc.error().message);
  o.crawler_role = config.glue.crawler_role;
  o.create = config.glue.create;
  o.incremental = config.glue.recrawl_new_folders;
  o.crawlers = config.glue.crawlers;
  for (const auto& [table, crawler] : o.crawlers)
    if (std::find(o.tables.begin(), o.tables.end(), table) == o.tables.end()) o.tables.push_back(table);
  std::sort(o.tables.begin(), o.tables.end());
  return o;
}

namespace {

// The one folder a crawler's Targets name (S3Targets[].Path or IcebergTargets[].Paths[]); "" unless exactly one.
std::string crawled_folder(const json& targets) {
  if (!targets.is_object()) return "";
  std::vector<std::string> paths;
  if (const json& s3 = field(targets, "S3Targets"); s3.is_array())
    for (const auto& t : s3)
      if (field(t, "Path").is_string()) paths.push_back(t["Path"]);
  if (const json& iceberg = field(targets, "IcebergTargets"); iceberg.is_array())
    for (const auto& t : iceberg)
      if (field(t, "Paths").is_array())
        for (const auto& p : t["Paths"])
          if (p.is_string()) paths.push_back(p);
  return paths.size() == 1 ? paths[0] : "";
}

bool crawls_the_same_folder(const json& have, const json& want) {
  const bool iceberg = want.contains("IcebergTargets");
  return have.is_object() && have.contains(iceberg ? "IcebergTargets" : "S3Targets") &&
         !crawled_folder(have).empty() && crawled_folder(have) == crawled_folder(want);
}

}  // namespace

std::string default_crawler_name(const std::string& database, const std::string& table) {
  return "spotify-etl-" + database + "-" + table;
}

json create_crawler_request(const GlueCatalogOptions& options, const std::string& table, const std::string& crawler) {
  auto loc = s3::parse_url(options.transformed_url);
  std::string prefix = loc ? loc->prefix : "";
  std::string bucket = loc ? loc->bucket : "";
  std::string path = "s3://" + bucket + "/" + (prefix.empty() ? "" : prefix + "/") + table + "/";
  // Levels count from the bucket (1): the table folder's level, so everything
  // below it (dt=... folders, files) is a partition of this one table.
  int level = 2 + static_cast<int>(prefix.empty() ? 0 : std::count(prefix.begin(), prefix.end(), '/') + 1);
  json configuration = {
      {"Version", 1.0},
      {"Grouping", {{"TableLevelConfiguration", level}, {"TableGroupingPolicy", "CombineCompatibleSchemas"}}},
      {"CrawlerOutput", {{"Partitions", {{"AddOrUpdateBehavior", "InheritFromTable"}}}}}};
  // Glue refuses UPDATE_IN_DATABASE with incremental crawls: those only ever add partitions.
  json schema_policy = options.incremental
                           ? json{{"UpdateBehavior", "LOG"}, {"DeleteBehavior", "LOG"}}
                           : json{{"UpdateBehavior", "UPDATE_IN_DATABASE"}, {"DeleteBehavior", "LOG"}};
  if (options.iceberg_targets)
    return {{"Name", crawler},
            {"Role", options.crawler_role},
            {"DatabaseName", options.database},
            {"Description", "spotify-etl: the Iceberg table " + table + " (" + path + "), created by the cataloger"},
            {"Targets", {{"IcebergTargets", json::array({{{"Paths", json::array({path})}, {"MaximumTraversalDepth", 1}}})}}},
            {"SchemaChangePolicy", {{"UpdateBehavior", "UPDATE_IN_DATABASE"}, {"DeleteBehavior", "LOG"}}},
            {"RecrawlPolicy", {{"RecrawlBehavior", "CRAWL_EVERYTHING"}}},
            {"Tags", {{"app", "spotify-etl"}, {"table", table}}}};
  return {{"Name", crawler},
          {"Role", options.crawler_role},
          {"DatabaseName", options.database},
          {"Description", "spotify-etl: the " + table + " table (" + path + "), created by the cataloger"},
          {"Targets", {{"S3Targets", json::array({{{"Path", path}, {"Exclusions", json::array({"**/_*", "**/.*"})}}})}}},
          {"SchemaChangePolicy", schema_policy},
          {"RecrawlPolicy", {{"RecrawlBehavior", options.incremental ? "CRAWL_NEW_FOLDERS_ONLY" : "CRAWL_EVERYTHING"}}},
          {"Configuration", configuration.dump()},
          {"Tags", {{"app", "spotify-etl"}, {"table", table}}}};
}

Result<std::unique_ptr<GlueCatalog>> GlueCatalog::open(const AwsConfig& aws, GlueCatalogOptions options,
                                                       aws::JsonClientOptions client_options) {
  auto client = aws::JsonClient::create(aws, aws::glue_service(), client_options);
  if (!client) return std::move(client).error();
  return std::make_unique<GlueCatalog>(std::move(client).value(), std::move(options));
}

GlueCatalog::GlueCatalog(std::unique_ptr<aws::JsonClient> client, GlueCatalogOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      jobs_(
          [this](CrawlInfo& info, const CrawlRequest& request) {
            run(info, request);
            if (info.state == CrawlState::failed)
              log::warn("Glue crawl failed", {{"crawl_id", info.crawl_id}, {"error", info.error}});
            else
              log::info("Glue crawl done", {{"crawl_id", info.crawl_id}, {"tables", info.tables},
                                            {"partitions_added", info.partitions_added}});
          },
          options_.crawl_history) {}

GlueCatalog::~GlueCatalog() { stop(); }

std::string GlueCatalog::crawler_name(const std::string& table) const {
  auto it = options_.crawlers.find(table);
  return it != options_.crawlers.end() ? it->second : default_crawler_name(options_.database, table);
}

Status GlueCatalog::ensure_resources() {
  if (options_.create) {
    auto created = client_->send("CreateDatabase",
                                 {{"DatabaseInput", {{"Name", options_.database},
                                                     {"Description", "spotify-etl transformed tables"}}}});
    if (!created) return std::move(created).error();
    if (!created->ok() && created->error.type != "AlreadyExistsException")
      return client_->to_error("CreateDatabase", *created);
    if (created->ok()) log::info("Glue database created", {{"database", options_.database}});
  } else {
    ETL_RETURN_IF_ERROR(ping());
  }
  for (const auto& table : options_.tables) {
    const std::string name = crawler_name(table);
    const bool configured = options_.crawlers.contains(table);
    auto got = client_->send("GetCrawler", {{"Name", name}});
    if (!got) return std::move(got).error();
    if (got->ok()) {
      if (!configured) {
        // Ours: say so when it no longer crawls what we would give it (it is used anyway).
        const json want = create_crawler_request(options_, table, name)["Targets"];
        const json& targets = field(field(got->body, "Crawler"), "Targets");
        if (!crawls_the_same_folder(targets, want))
          log::warn("Glue crawler does not crawl exactly the table folder", {{"crawler", name}, {"expected", want}});
      }
      continue;
    }
    if (got->error.type != "EntityNotFoundException") return client_->to_error("GetCrawler", *got);
    if (configured)
      return make_error(Errc::invalid_argument, "Glue crawler '" + name + "' (ETL_GLUE_CRAWLERS, table " + table +
                                                    ") does not exist");
    if (!options_.create)
      return make_error(Errc::invalid_argument, "Glue crawler '" + name + "' for table " + table +
                                                    " does not exist and ETL_GLUE_CREATE=false");
    if (options_.crawler_role.empty())
      return make_error(Errc::invalid_argument, "Glue crawler '" + name + "' must be created: set ETL_GLUE_CRAWLER_ROLE "
                                                    "to the IAM role the crawler runs as (or name existing crawlers in "
                                                    "ETL_GLUE_CRAWLERS)");
    auto created = client_->send("CreateCrawler", create_crawler_request(options_, table, name));
    if (!created) return std::move(created).error();
    if (!created->ok() && created->error.type != "AlreadyExistsException")
      return client_->to_error("CreateCrawler", *created);
    log::info("Glue crawler created", {{"crawler", name}, {"table", table}});
  }
  std::lock_guard lock(state_mutex_);
  ensured_ = true;
  return {};
}

Status GlueCatalog::ping() {
  auto got = client_->call("GetDatabase", {{"Name", options_.database}});
  if (!got) return std::move(got).error();
  return {};
}

Result<std::vector<json>> GlueCatalog::glue_tables() {
  std::vector<json> out;
  std::string token;
  do {
    json body = {{"DatabaseName", options_.database}};
    if (!token.empty()) body["NextToken"] = token;
    auto page = client_->call("GetTables", body);
    if (!page) return std::move(page).error();
    if (auto list = page->find("TableList"); list != page->end() && list->is_array())
      for (auto& t : *list) out.push_back(std::move(t));
    token = text(*page, "NextToken");
  } while (!token.empty());
  return out;
}

Result<std::vector<json>> GlueCatalog::glue_partitions(const std::string& table) {
  std::vector<json> out;
  std::string token;
  do {
    json body = {{"DatabaseName", options_.database}, {"TableName", table}, {"ExcludeColumnSchema", true}};
    if (!token.empty()) body["NextToken"] = token;
    auto page = client_->call("GetPartitions", body);
    if (!page) return std::move(page).error();
    if (auto list = page->find("Partitions"); list != page->end() && list->is_array())
      for (auto& p : *list) out.push_back(std::move(p));
    token = text(*page, "NextToken");
  } while (!token.empty());
  return out;
}

// A table with its partition count, and the data_version bookkeeping Glue does not do.
Result<TableInfo> GlueCatalog::describe(const json& table) {
  TableInfo info = glue_table_info(table, options_.database);
  auto partitions = glue_partitions(info.name);
  if (!partitions) return std::move(partitions).error();
  info.partitions = static_cast<std::int64_t>(partitions->size());
  std::int64_t changed_ms = glue_update_millis(table);
  for (const auto& p : *partitions)
    if (auto c = p.find("CreationTime"); c != p.end() && c->is_number())
      changed_ms = std::max(changed_ms, static_cast<std::int64_t>(c->get<double>() * 1000.0));
  std::string fingerprint = std::to_string(glue_update_millis(table)) + "|" + text(table, "VersionId") +
                            "|" + std::to_string(info.partitions) + "|" + std::to_string(changed_ms);
  std::lock_guard lock(state_mutex_);
  auto& known = known_[info.name];
  if (known.fingerprint != fingerprint) {
    info.data_version = std::max(known.info.data_version + 1, changed_ms);
    known.fingerprint = fingerprint;
    generation_.fetch_add(1);
  } else {
    info.data_version = known.info.data_version;
  }
  known.info = info;
  return info;
}

Result<std::vector<TableInfo>> GlueCatalog::list_tables() {
  {
    std::lock_guard lock(state_mutex_);
    if (listing_ && Clock::now() - listed_at_ < options_.listing_ttl) return *listing_;
  }
  auto tables = glue_tables();
  if (!tables) return std::move(tables).error();
  std::vector<TableInfo> out;
  for (const auto& t : *tables) {
    auto info = describe(t);
    if (!info) return std::move(info).error();
    out.push_back(std::move(info).value());
  }
  std::sort(out.begin(), out.end(), [](const TableInfo& a, const TableInfo& b) { return a.name < b.name; });
  std::lock_guard lock(state_mutex_);
  listing_ = out;
  listed_at_ = Clock::now();
  return out;
}

Result<TableInfo> GlueCatalog::get_table(const std::string& name) {
  if (name.empty() || name.size() > 255) return make_error(Errc::not_found, "unknown table '" + name + "'");
  auto got = client_->send("GetTable", {{"DatabaseName", options_.database}, {"Name", name}});
  if (!got) return std::move(got).error();
  if (!got->ok()) {
    if (got->error.type == "EntityNotFoundException")
      return make_error(Errc::not_found, "unknown table '" + name + "' in Glue database " + options_.database);
    return client_->to_error("GetTable", *got);
  }
  return describe(field(got->body, "Table"));
}

Result<std::vector<PartitionInfo>> GlueCatalog::get_partitions(const std::string& table) {
  auto partitions = glue_partitions(table);
  if (!partitions) {
    if (partitions.error().code == Errc::not_found)
      return make_error(Errc::not_found, "unknown table '" + table + "' in Glue database " + options_.database);
    return std::move(partitions).error();
  }
  std::vector<PartitionInfo> out;
  for (const auto& p : *partitions) out.push_back(glue_partition_info(p));
  std::sort(out.begin(), out.end(), [](const PartitionInfo& a, const PartitionInfo& b) { return a.values < b.values; });
  return out;
}

Result<std::vector<std::string>> GlueCatalog::resolve_tables(const CrawlRequest& request) {
  std::set<std::string> out;
  for (const auto& t : request.tables) {
    if (std::find(options_.tables.begin(), options_.tables.end(), t) == options_.tables.end())
      return make_error(Errc::invalid_argument, "table '" + t + "' has no Glue crawler (known: songs_data, albums_data, "
                                                "artists_data and those in ETL_GLUE_CRAWLERS)");
    out.insert(t);
  }
  for (const auto& key : request.changed_keys)
    if (auto data = DataKey::parse(key);
        data && std::find(options_.tables.begin(), options_.tables.end(), data->table) != options_.tables.end())
      out.insert(data->table);
  if (request.tables.empty() && request.changed_keys.empty()) out.insert(options_.tables.begin(), options_.tables.end());
  return std::vector<std::string>(out.begin(), out.end());
}

Result<CrawlInfo> GlueCatalog::crawl(const CrawlRequest& request) {
  auto tables = resolve_tables(request);
  if (!tables) return std::move(tables).error();
  return jobs_.run_now(request, std::move(tables).value());
}

Result<CrawlInfo> GlueCatalog::start_crawl(const CrawlRequest& request) {
  auto tables = resolve_tables(request);
  if (!tables) return std::move(tables).error();
  return jobs_.submit(request, std::move(tables).value());
}

Result<CrawlInfo> GlueCatalog::get_crawl(const std::string& crawl_id) { return jobs_.get(crawl_id); }

Result<CrawlInfo> GlueCatalog::wait_crawl(const std::string& crawl_id, milliseconds max_wait) {
  return jobs_.wait(crawl_id, max_wait);
}

void GlueCatalog::start() { jobs_.start(); }
void GlueCatalog::stop() { jobs_.stop(); }

Status GlueCatalog::start_workers() {
  start();
  Status s = ensure_resources();
  if (s.ok()) return {};
  if (s.error().code == Errc::invalid_argument) {
    stop();
    return s;
  }
  log::warn("Glue resources not ready yet; the first crawl retries", {{"error", s.error().message}});
  return {};
}

}  // namespace etl::cataloger

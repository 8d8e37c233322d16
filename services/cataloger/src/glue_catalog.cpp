#include "glue_catalog.h"

#include <algorithm>
#include <set>

#include "etl/log.h"
#include "glue_types.h"
#include "ids.h"
#include "s3_protocol.h"
#include "table_state.h"

namespace etl::cataloger {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

// Crawls that find a crawler already running wait for it; for an events crawl the
// crawler then runs once more, as the running crawl may have listed the folders
// before the new objects landed.
bool restart_after_running(const CrawlRequest& request) { return request.trigger == "events"; }

std::string last_crawl_status(const json& crawler) {
  json last = crawler.value("LastCrawl", json::object());
  return last.is_object() ? last.value("Status", std::string()) : std::string();
}

json last_crawl_start(const json& crawler) {
  json last = crawler.value("LastCrawl", json::object());
  return last.is_object() ? last.value("StartTime", json()) : json();
}

}  // namespace

Result<GlueCatalogOptions> glue_catalog_options(const Config& config, const Environment& env) {
  GlueCatalogOptions o;
  o.database = config.glue_database;
  o.transformed_url = config.transformed_url;
  if (!o.transformed_url.starts_with("s3://"))
    return make_error(Errc::invalid_argument, "ETL_CATALOG=glue needs ETL_TRANSFORMED_URL=s3://bucket[/prefix] (Glue "
                                              "crawlers read S3), got '" + config.transformed_url + "'");
  if (auto loc = s3::parse_url(o.transformed_url); !loc)
    return make_error(Errc::invalid_argument, "ETL_TRANSFORMED_URL: " + loc.error().message);
  auto get = [&](const char* name) { return env_value(env, name); };
  if (auto role = get("ETL_GLUE_CRAWLER_ROLE")) o.crawler_role = *role;
  if (auto create = get("ETL_GLUE_CREATE")) {
    if (*create == "true" || *create == "1") o.create = true;
    else if (*create == "false" || *create == "0") o.create = false;
    else return make_error(Errc::invalid_argument, "ETL_GLUE_CREATE must be true or false, got '" + *create + "'");
  }
  if (auto recrawl = get("ETL_GLUE_RECRAWL")) {
    if (*recrawl == "new-folders") o.incremental = true;
    else if (*recrawl == "everything") o.incremental = false;
    else return make_error(Errc::invalid_argument, "ETL_GLUE_RECRAWL must be new-folders or everything, got '" + *recrawl + "'");
  }
  if (auto crawlers = get("ETL_GLUE_CRAWLERS")) {
    std::string_view rest = *crawlers;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item.empty()) continue;
      auto eq = item.find('=');
      std::string table(item.substr(0, eq));
      std::string name = eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1));
      if (!is_table_name(table) || name.empty())
        return make_error(Errc::invalid_argument,
                          "ETL_GLUE_CRAWLERS must be table=crawler pairs separated by commas (songs_data=my-crawler,...)");
      o.crawlers[table] = name;
      if (std::find(o.tables.begin(), o.tables.end(), table) == o.tables.end()) o.tables.push_back(table);
    }
  }
  std::sort(o.tables.begin(), o.tables.end());
  return o;
}

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
        json want = create_crawler_request(options_, table, name)["Targets"]["S3Targets"][0]["Path"];
        json targets = got->body.value("Crawler", json::object()).value("Targets", json::object());
        json s3 = targets.is_object() ? targets.value("S3Targets", json::array()) : json::array();
        if (s3.size() != 1 || s3[0].value("Path", std::string()) != want.get<std::string>())
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
    token = page->value("NextToken", std::string());
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
    token = page->value("NextToken", std::string());
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
  std::string fingerprint = std::to_string(glue_update_millis(table)) + "|" + table.value("VersionId", std::string()) +
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
  return describe(got->body.value("Table", json::object()));
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
    if (auto data = parse_data_key(key);
        data && std::find(options_.tables.begin(), options_.tables.end(), data->table) != options_.tables.end())
      out.insert(data->table);
  if (request.tables.empty() && request.changed_keys.empty()) out.insert(options_.tables.begin(), options_.tables.end());
  return std::vector<std::string>(out.begin(), out.end());
}

void GlueCatalog::run(CrawlInfo& info, const CrawlRequest& request) {
  auto fail = [&](std::string error) {
    info.state = CrawlState::failed;
    info.error = std::move(error);
    info.finished_at = now_rfc3339();
  };
  bool ensured;
  {
    std::lock_guard lock(state_mutex_);
    ensured = ensured_;
  }
  if (!ensured)
    if (Status s = ensure_resources(); !s.ok()) return fail(s.error().message);

  struct Job {
    std::string table, crawler;
    std::optional<TableInfo> before;
    json previous_start;    // LastCrawl.StartTime before we started
    bool seen_running = false;
    bool was_running = false;  // someone else's crawl was running
    bool restarted = false;
    bool done = false;
    std::string error;
  };
  std::vector<Job> jobs;
  auto start_crawler = [&](Job& job) {
    auto started = client_->send("StartCrawler", {{"Name", job.crawler}});
    if (!started) {
      job.error = started.error().message;
      job.done = true;
    } else if (!started->ok()) {
      if (started->error.type == "CrawlerRunningException") {
        job.was_running = true;
        job.seen_running = true;
      } else {
        job.error = client_->to_error("StartCrawler", *started).message;
        job.done = true;
      }
    }
  };
  for (const auto& table : info.tables) {
    Job job{table, crawler_name(table), std::nullopt, json(), false, false, false, false, ""};
    if (auto t = get_table(table); t) job.before = *t;
    if (auto c = client_->call("GetCrawler", {{"Name", job.crawler}}); c)
      job.previous_start = last_crawl_start(c->value("Crawler", json::object()));
    start_crawler(job);
    jobs.push_back(std::move(job));
  }

  const auto started = Clock::now();
  milliseconds delay = options_.poll_initial;
  for (;;) {
    if (std::all_of(jobs.begin(), jobs.end(), [](const Job& j) { return j.done; })) break;
    if (jobs_.stopping_within(delay)) return fail("the cataloger is shutting down");
    delay = std::min(options_.poll_max, delay * 2);
    const bool out_of_time = Clock::now() - started > options_.crawl_timeout;
    for (auto& job : jobs) {
      if (job.done) continue;
      auto got = client_->call("GetCrawler", {{"Name", job.crawler}});
      if (!got) {
        log::warn("cannot poll a Glue crawler", {{"crawler", job.crawler}, {"error", got.error().message}});
        continue;
      }
      json crawler = got->value("Crawler", json::object());
      std::string state = crawler.value("State", std::string());
      if (state == "RUNNING" || state == "STOPPING") {
        job.seen_running = true;
        if (out_of_time) {
          job.error = "the crawler " + job.crawler + " was still " + state + " after " +
                      std::to_string(options_.crawl_timeout.count()) + " minutes";
          job.done = true;
        }
        continue;
      }
      if (state != "READY") continue;
      // READY before it was seen running and with the old LastCrawl: not started yet
      // (Glue takes a moment); give it a minute.
      if (!job.seen_running && last_crawl_start(crawler) == job.previous_start &&
          Clock::now() - started < std::chrono::minutes(1))
        continue;
      if (job.was_running && !job.restarted && restart_after_running(request)) {
        job.restarted = true;
        job.was_running = false;
        job.seen_running = false;
        job.previous_start = last_crawl_start(crawler);
        start_crawler(job);
        continue;
      }
      job.done = true;
      std::string status = last_crawl_status(crawler);
      if (status == "FAILED") {
        std::string message = crawler.value("LastCrawl", json::object()).value("ErrorMessage", std::string());
        job.error = "the crawler " + job.crawler + " failed" + (message.empty() ? "" : ": " + message);
      } else if (status == "CANCELLED" || status == "STOPPED") {
        job.error = "the crawler " + job.crawler + " was cancelled";
      }
    }
  }

  {
    std::lock_guard lock(state_mutex_);
    listing_.reset();
  }
  std::vector<std::string> errors;
  for (auto& job : jobs) {
    if (!job.error.empty()) errors.push_back(job.table + ": " + job.error);
    auto after = get_table(job.table);
    if (!after) continue;
    std::int64_t before_count = job.before ? job.before->partitions : 0;
    if (after->partitions > before_count) info.partitions_added += after->partitions - before_count;
    else info.partitions_removed += before_count - after->partitions;
    std::map<std::string, std::string> old_types;
    if (job.before)
      for (const auto& c : job.before->columns) old_types[c.name] = c.type;
    for (const auto& c : after->columns) {
      auto it = old_types.find(c.name);
      if (it == old_types.end()) info.schema_changes.push_back({job.table, c.name, "added", "", c.type});
      else if (it->second != c.type) info.schema_changes.push_back({job.table, c.name, "widened", it->second, c.type});
    }
  }
  info.finished_at = now_rfc3339();
  if (errors.empty()) {
    info.state = CrawlState::succeeded;
  } else {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
    info.state = CrawlState::failed;
    info.error = joined;
  }
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

}  // namespace etl::cataloger

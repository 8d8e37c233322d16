// GlueCatalog's crawls: one Glue crawler per table, started together and polled
// with backoff. Kept apart from the catalog reads (glue_catalog.cpp).
#include <algorithm>

#include "aws_fields.h"
#include "etl/log.h"
#include "glue_catalog.h"
#include "ids.h"

namespace etl::cataloger {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;
using aws_fields::field;
using aws_fields::text;

namespace {

// Crawls that find a crawler already running wait for it; for an events crawl the
// crawler then runs once more, as the running crawl may have listed the folders
// before the new objects landed.
bool restart_after_running(const CrawlRequest& request) { return request.trigger == "events"; }

std::string last_crawl_status(const json& crawler) {
  return text(field(crawler, "LastCrawl"), "Status");
}

json last_crawl_start(const json& crawler) {
  return field(field(crawler, "LastCrawl"), "StartTime");
}

// What a finished crawler's LastCrawl says went wrong ("" when it succeeded).
std::string last_crawl_error(const json& crawler, const std::string& name) {
  std::string status = last_crawl_status(crawler);
  if (status == "FAILED") {
    std::string message = text(field(crawler, "LastCrawl"), "ErrorMessage");
    return "the crawler " + name + " failed" + (message.empty() ? "" : ": " + message);
  }
  if (status == "CANCELLED" || status == "STOPPED") return "the crawler " + name + " was cancelled";
  return {};
}

}  // namespace

struct GlueCatalog::CrawlerJob {
  std::string table, crawler;
  std::optional<TableInfo> before;
  json previous_start;        // LastCrawl.StartTime before we started
  bool seen_running = false;
  bool was_running = false;   // someone else's crawl was running
  bool restarted = false;
  bool done = false;
  std::string error;
};

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

  std::vector<CrawlerJob> jobs;
  for (const auto& table : info.tables) {
    CrawlerJob job{table, crawler_name(table), std::nullopt, json(), false, false, false, false, ""};
    if (auto t = get_table(table); t) job.before = *t;
    if (auto c = client_->call("GetCrawler", {{"Name", job.crawler}}); c)
      job.previous_start = last_crawl_start(field(*c, "Crawler"));
    start_crawler(job);
    jobs.push_back(std::move(job));
  }

  const auto started = Clock::now();
  milliseconds delay = options_.poll_initial;
  while (!std::all_of(jobs.begin(), jobs.end(), [](const CrawlerJob& j) { return j.done; })) {
    if (jobs_.stopping_within(delay)) return fail("the cataloger is shutting down");
    delay = std::min(options_.poll_max, delay * 2);
    for (auto& job : jobs)
      if (!job.done) poll_crawler(job, request, started);
  }
  {
    std::lock_guard lock(state_mutex_);
    listing_.reset();
  }
  summarize(info, jobs);
}

void GlueCatalog::start_crawler(CrawlerJob& job) {
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
}

void GlueCatalog::poll_crawler(CrawlerJob& job, const CrawlRequest& request, Clock::time_point started) {
  auto got = client_->call("GetCrawler", {{"Name", job.crawler}});
  if (!got) {
    log::warn("cannot poll a Glue crawler", {{"crawler", job.crawler}, {"error", got.error().message}});
    return;
  }
  const json& crawler = field(*got, "Crawler");
  std::string state = text(crawler, "State");
  if (state == "RUNNING" || state == "STOPPING") {
    job.seen_running = true;
    if (Clock::now() - started > options_.crawl_timeout) {
      job.error = "the crawler " + job.crawler + " was still " + state + " after " +
                  std::to_string(options_.crawl_timeout.count()) + " minutes";
      job.done = true;
    }
    return;
  }
  if (state != "READY") return;
  // READY before it was seen running and with the old LastCrawl: not started yet
  // (Glue takes a moment); give it a minute.
  if (!job.seen_running && last_crawl_start(crawler) == job.previous_start &&
      Clock::now() - started < std::chrono::minutes(1))
    return;
  if (job.was_running && !job.restarted && restart_after_running(request)) {
    job.restarted = true;
    job.was_running = false;
    job.seen_running = false;
    job.previous_start = last_crawl_start(crawler);
    start_crawler(job);
    return;
  }
  job.done = true;
  job.error = last_crawl_error(crawler, job.crawler);
}

void GlueCatalog::summarize(CrawlInfo& info, const std::vector<CrawlerJob>& jobs) {
  std::string errors;
  for (const auto& job : jobs) {
    if (!job.error.empty()) errors += (errors.empty() ? "" : "; ") + job.table + ": " + job.error;
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
  info.state = errors.empty() ? CrawlState::succeeded : CrawlState::failed;
  info.error = errors;
}

}  // namespace etl::cataloger

#include "runs/run_summaries.h"

#include <algorithm>

#include "etl/lake.h"
#include "etl/log.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

constexpr char kRunsPrefix[] = "runs/";

std::string text_field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_final(const std::string& status) { return status == "succeeded" || status == "partial" || status == "failed"; }

json null_if_empty(const std::string& s) { return s.empty() ? json() : json(s); }

// "runs/<run_id>.json" -> run_id; empty when the key is not a run record.
std::string run_id_of(const std::string& key) {
  constexpr std::string_view suffix = ".json";
  std::string_view k = key;
  if (k.rfind(kRunsPrefix, 0) != 0 || k.size() <= sizeof kRunsPrefix - 1 + suffix.size() ||
      k.substr(k.size() - suffix.size()) != suffix)
    return {};
  std::string id(k.substr(sizeof kRunsPrefix - 1, k.size() - suffix.size() - (sizeof kRunsPrefix - 1)));
  return is_run_id(id) ? id : std::string();
}

}  // namespace

Result<RunSummary> parse_run_record(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error(Errc::bad_data, "a run record is a JSON object");
  RunSummary r;
  r.run_id = text_field(j, "run_id");
  r.status = text_field(j, "status");
  if (!is_run_id(r.run_id) || r.status.empty()) return make_error(Errc::bad_data, "a run record needs run_id and status");
  r.trigger = text_field(j, "trigger");
  r.created_at = text_field(j, "created_at");
  r.started_at = text_field(j, "started_at");
  r.finished_at = text_field(j, "finished_at");
  r.error = text_field(j, "error");
  auto sources = j.find("sources");
  if (sources == j.end() || !sources->is_array()) return make_error(Errc::bad_data, "a run record needs sources");
  for (const auto& s : *sources) {
    if (!s.is_object()) return make_error(Errc::bad_data, "a run record's sources are objects");
    ++r.sources;
    if (text_field(s, "status") == "failed") ++r.sources_failed;
    if (!text_field(s, "object_key").empty()) ++r.objects;
    if (auto items = s.find("items"); items != s.end() && items->is_number_integer()) r.items += items->get<long long>();
  }
  return r;
}

json to_json(const RunSummary& r) {
  return {{"run_id", r.run_id},
          {"status", r.status},
          {"trigger", r.trigger},
          {"created_at", null_if_empty(r.created_at)},
          {"started_at", null_if_empty(r.started_at)},
          {"finished_at", null_if_empty(r.finished_at)},
          {"error", null_if_empty(r.error)},
          {"sources", r.sources},
          {"sources_failed", r.sources_failed},
          {"objects", r.objects},
          {"items", r.items}};
}

RunSummaries::RunSummaries(std::shared_ptr<ObjectStore> raw, RunSummariesOptions options)
    : raw_(std::move(raw)), options_(options) {}

// runs/*.json, newest first (run ids start with their creation time), reused for list_ttl.
Result<std::vector<ObjectInfo>> RunSummaries::listing() {
  auto now = std::chrono::steady_clock::now();
  if (listed_at_ != std::chrono::steady_clock::time_point{} && now - listed_at_ < options_.list_ttl) return listed_;
  auto listed = raw_->list(kRunsPrefix);
  if (!listed) return std::move(listed).error();
  std::vector<ObjectInfo> runs;
  for (auto& o : *listed)
    if (!run_id_of(o.key).empty()) runs.push_back(std::move(o));
  std::sort(runs.begin(), runs.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key > b.key; });
  listed_ = std::move(runs);
  listed_at_ = now;
  return listed_;
}

Result<RunSummaries::Page> RunSummaries::recent(std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto listed = listing();
  if (!listed) return std::move(listed).error();
  Page page;
  limit = std::min(limit, options_.max_limit);
  const std::size_t max_reads = 2 * limit + 10;  // unreadable records cannot make one answer read them all
  std::size_t reads = 0;
  for (const auto& o : *listed) {
    if (page.runs.size() >= limit || reads >= max_reads) break;
    if (auto hit = finished_.find(o.key); hit != finished_.end()) {
      page.runs.push_back(hit->second);
      continue;
    }
    ++reads;
    auto text = raw_->get(o.key, options_.max_record_bytes);
    auto run = text ? parse_run_record(*text) : Result<RunSummary>(std::move(text).error());
    if (!run) {
      log::debug("run record left out of the dashboard", {{"key", o.key}, {"error", run.error().message}});
      ++page.skipped;
      continue;
    }
    if (is_final(run->status) && finished_.size() < options_.max_cached) finished_.emplace(o.key, *run);
    page.runs.push_back(std::move(*run));
  }
  return page;
}

}  // namespace etl::cataloger

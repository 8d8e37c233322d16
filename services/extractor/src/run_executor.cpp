#include "run_executor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <vector>

#include "envelope.h"
#include "etl/log.h"
#include "etl/s3_event.h"
#include "landing.h"
#include "sources.h"

namespace etl::extractor {

namespace {
std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }
constexpr char kShutdown[] = "interrupted by shutdown";
}  // namespace

struct RunExecutor::RunState {
  std::string run_id;
  const RunRequest* request = nullptr;
  std::string market;
  std::stop_token service_stop;
  std::stop_source calls;  // stops every call of this run: shutdown or quota
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::string quota_error;  // the first QUOTA_EXCEEDED of the run

  std::string stop_reason() {
    std::lock_guard lock(mutex);
    if (!quota_error.empty()) return "not fetched: the run stopped calling Spotify after its quota was exceeded";
    return kShutdown;
  }
};

RunExecutor::RunExecutor(Config config, std::shared_ptr<SpotifyApi> spotify, std::shared_ptr<ObjectStore> raw,
                         std::shared_ptr<EventBus> bus, RunStore& runs, ExtractorMetrics& metrics)
    : config_(std::move(config)),
      spotify_(std::move(spotify)),
      raw_(std::move(raw)),
      bus_(std::move(bus)),
      runs_(runs),
      metrics_(metrics) {}

RunExecutor::~RunExecutor() { stop(); }

void RunExecutor::start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void RunExecutor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (worker_.joinable()) {
    worker_.request_stop();
    worker_.join();
  }
  std::deque<Queued> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (const auto& q : left) fail_unstarted(q.run_id, kShutdown);
}

Result<RunRecord> RunExecutor::submit(RunRequest request) {
  if (request.sources.empty()) request.sources = config_.sources;
  if (request.sources.empty())
    return make_error(Errc::invalid_argument,
                      "no sources: give \"sources\" in the request body or set ETL_SOURCES (e.g. playlist:<id>)");
  if (request.market.empty()) request.market = config_.spotify_market;
  ETL_RETURN_IF_ERROR(validate_run_request(request));

  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  {
    std::lock_guard lock(mutex_);
    now = std::max(now, last_created_ + std::chrono::milliseconds(1));
    last_created_ = now;
  }
  RunRecord run;
  run.run_id = make_run_id(now);
  run.trigger = request.trigger;
  run.market = request.market;
  run.created_at = rfc3339(now);
  for (const auto& s : request.sources) {
    SourceRecord r;
    r.type = std::string(to_string(s.type));
    r.id = source_key_id(s);
    if (s.type == SourceType::search) r.query = s.id;
    run.sources.push_back(std::move(r));
  }

  std::lock_guard lock(mutex_);
  if (stopping_) return make_error(Errc::unavailable, "the extractor is shutting down");
  if (queue_.size() >= kMaxQueuedRuns)
    return make_error(Errc::conflict, std::to_string(queue_.size()) + " runs are already queued; try again later");
  if (Status s = runs_.add(run); !s.ok())
    return make_error(Errc::unavailable, "cannot record the run in the raw store: " + s.error().message);
  queue_.push_back(Queued{run.run_id, std::move(request)});
  metrics_.runs_in_progress().inc();
  log::info("run queued", {{"run_id", run.run_id}, {"sources", run.sources.size()}, {"trigger", run.trigger}});
  cv_.notify_one();
  return run;
}

void RunExecutor::loop(std::stop_token stop) {
  for (;;) {
    Queued next;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (stop.stop_requested()) return;  // stop() records what is left in the queue
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    execute(next, stop);
  }
}

void RunExecutor::fail_unstarted(const std::string& run_id, const std::string& why) {
  auto now = now_rfc3339();
  metrics_.runs_in_progress().dec();
  metrics_.run_finished(RunStatus::failed);
  (void)runs_.update(run_id, [&](RunRecord& r) {
    r.status = RunStatus::failed;
    r.error = why;
    r.finished_at = now;
    for (auto& s : r.sources) {
      s.status = SourceStatus::failed;
      s.error = why;
    }
  });
}

void RunExecutor::execute(const Queued& queued, std::stop_token service_stop) {
  RunState state;
  state.run_id = queued.run_id;
  state.request = &queued.request;
  state.market = queued.request.market;
  state.service_stop = service_stop;
  std::stop_callback forward(service_stop, [&state] { state.calls.request_stop(); });

  auto started = std::chrono::steady_clock::now();
  // Started: written behind (a crash before the end marks the run interrupted anyway).
  (void)runs_.note(state.run_id, [&](RunRecord& r) {
    r.status = RunStatus::running;
    r.started_at = now_rfc3339();
  });
  log::info("run started", {{"run_id", state.run_id}, {"sources", queued.request.sources.size()}});

  const std::size_t n = queued.request.sources.size();
  auto work = [this, &state, n] {
    for (std::size_t i; (i = state.next.fetch_add(1)) < n;) run_source(state, i);
  };
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, config_.extract_parallelism)), n);
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  }

  const bool interrupted = service_stop.stop_requested();
  std::string quota;
  {
    std::lock_guard lock(state.mutex);
    quota = state.quota_error;
  }
  auto final_run = runs_.update(state.run_id, [&](RunRecord& r) {
    std::size_t ok = 0;
    for (auto& s : r.sources) {
      if (s.status == SourceStatus::succeeded) ++ok;
      if (s.status == SourceStatus::queued || s.status == SourceStatus::running) {
        s.status = SourceStatus::failed;
        s.error = interrupted ? kShutdown : "not fetched";
      }
    }
    r.finished_at = now_rfc3339();
    if (ok == r.sources.size()) {
      r.status = RunStatus::succeeded;
    } else if (interrupted) {
      r.status = RunStatus::failed;
      r.error = kShutdown;
    } else {
      r.status = ok == 0 ? RunStatus::failed : RunStatus::partial;
      r.error = !quota.empty() ? quota
                : ok == 0      ? "every source failed"
                               : std::to_string(r.sources.size() - ok) + " of " + std::to_string(r.sources.size()) +
                                " sources failed";
    }
    // Counted before the record is visible, so whoever sees the final record also sees the metrics.
    metrics_.runs_in_progress().dec();
    metrics_.run_finished(r.status);
  });
  if (final_run) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log::info("run finished", {{"run_id", state.run_id},
                               {"status", to_string(final_run->status)},
                               {"seconds", std::round(seconds * 1000) / 1000},
                               {"error", final_run->error}});
  }
}

void RunExecutor::run_source(RunState& state, std::size_t index) {
  try {
    fetch_and_land(state, index);
  } catch (const std::exception& e) {
    const SourceSpec& spec = state.request->sources[index];
    const std::string why = std::string("internal error: ") + e.what();
    log::error("source threw", {{"run_id", state.run_id},
                                {"source", std::string(to_string(spec.type)) + ":" + source_key_id(spec)},
                                {"error", e.what()}});
    metrics_.source_finished(std::string(to_string(spec.type)), SourceStatus::failed);
    (void)runs_.update(state.run_id, [&](RunRecord& r) {
      r.sources[index].status = SourceStatus::failed;
      r.sources[index].error = why;
    });
  }
}

void RunExecutor::fetch_and_land(RunState& state, std::size_t index) {
  const SourceSpec& spec = state.request->sources[index];
  auto set = [&](const std::function<void(SourceRecord&)>& change) {
    (void)runs_.update(state.run_id, [&](RunRecord& r) { change(r.sources[index]); });
  };
  auto fail = [&](const std::string& why) {
    metrics_.source_finished(std::string(to_string(spec.type)), SourceStatus::failed);
    set([&](SourceRecord& s) {
      s.status = SourceStatus::failed;
      s.error = why;
    });
    log::warn("source failed", {{"run_id", state.run_id}, {"source", std::string(to_string(spec.type)) + ":" + source_key_id(spec)}, {"error", why}});
  };

  if (state.calls.stop_requested()) return fail(state.stop_reason());
  (void)runs_.note(state.run_id, [&](RunRecord& r) { r.sources[index].status = SourceStatus::running; });

  const auto extracted_at = std::chrono::system_clock::now();
  FetchOptions options;
  options.market = state.market;
  options.search_max_results = config_.search_max_results;
  auto fetched = fetch_source(*spotify_, spec, options, state.calls.get_token());
  if (!fetched) {
    const Error& e = fetched.error();
    if (e.code == Errc::quota_exceeded) {
      {
        std::lock_guard lock(state.mutex);
        if (state.quota_error.empty()) state.quota_error = e.message;
      }
      state.calls.request_stop();  // the run's other sources stop at their next call
      return fail(e.message);
    }
    return fail(e.code == Errc::cancelled ? state.stop_reason() : e.message);
  }
  metrics_.fetched(static_cast<int>(fetched->pages.size()), fetched->items);

  const std::string key = raw_object_key(extracted_at, spec, state.run_id);
  const std::string body = build_envelope(EnvelopeInput{state.run_id, spec, extracted_at, spotify_->base_url(),
                                                        fetched->endpoint, &fetched->pages});
  LandingOptions landing;
  landing.topic = config_.topic_raw;  // awsRegion stays us-east-1, whatever AWS_REGION says (docs/contract.md §6.2)
  // Once fetched, a source lands even during shutdown: one atomic put, whole or nothing.
  auto landed = land_raw_object(*raw_, *bus_, landing, key, body, state.service_stop);
  if (!landed) return fail("cannot write the raw object " + key + ": " + landed.error().message);
  metrics_.landed(landed->object.size);
  if (!landed->publish_error.empty()) metrics_.publish_failed();
  metrics_.source_finished(std::string(to_string(spec.type)), SourceStatus::succeeded);
  set([&](SourceRecord& s) {
    s.status = SourceStatus::succeeded;
    s.pages = static_cast<int>(fetched->pages.size());
    s.items = fetched->items;
    s.object_key = key;
    s.endpoint = fetched->endpoint;
    s.error = landed->publish_error;
  });
  log::info("source landed", {{"run_id", state.run_id},
                              {"source", std::string(to_string(spec.type)) + ":" + source_key_id(spec)},
                              {"key", key},
                              {"pages", fetched->pages.size()},
                              {"items", fetched->items},
                              {"bytes", landed->object.size}});
}

}  // namespace etl::extractor

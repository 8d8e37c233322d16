#include "extractor_service.h"

#include "etl/log.h"
#include "etl/s3_event.h"
#include "etl/schedule.h"
#include "extractor_metrics.h"
#include "routes.h"
#include "run_executor.h"
#include "run_store.h"
#include "scheduler.h"

namespace etl::extractor {

ExtractorService::ExtractorService(const Config& config) : config_(config) {}

ExtractorService::~ExtractorService() { stop(); }

Result<std::unique_ptr<ExtractorService>> ExtractorService::create(const Config& config, std::shared_ptr<EventBus> bus,
                                                                   std::shared_ptr<SpotifyApi> spotify) {
  std::unique_ptr<ExtractorService> svc(new ExtractorService(config));

  std::optional<Schedule> schedule;
  if (!config.schedule.empty()) {
    auto parsed = Schedule::parse(config.schedule);
    if (!parsed) return make_error(Errc::invalid_argument, "ETL_SCHEDULE: " + parsed.error().message);
    if (config.sources.empty())
      return make_error(Errc::invalid_argument,
                        "ETL_SCHEDULE is set but ETL_SOURCES is empty: a scheduled run needs sources "
                        "(e.g. ETL_SOURCES=playlist:<id>,search:<query>)");
    schedule = std::move(parsed).value();
  }
  if (!config.sources.empty()) {
    // The rules of a POST /v1/runs body: a list a scheduled run would refuse stops the start.
    RunRequest configured{config.sources, "", "schedule"};
    if (Status valid = validate_run_request(configured); !valid.ok())
      return make_error(Errc::invalid_argument, "ETL_SOURCES: " + valid.error().message);
  }

  auto raw = open_object_store(config.raw_url, config.aws);
  if (!raw) return std::move(raw).error();
  svc->raw_ = std::shared_ptr<ObjectStore>(std::move(raw).value());

  if (!bus) {
    auto opened = open_event_bus(config, "extractor");
    if (!opened) return std::move(opened).error();
    bus = *opened;
  }
  svc->bus_ = std::move(bus);

  if (!spotify) {
    if (config.spotify_client_id.empty() || config.spotify_client_secret.empty())
      log::warn("SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET are not set: every run will fail until they are");
    spotify = open_spotify_api(config, &svc->metrics_);
  }
  svc->spotify_ = std::move(spotify);

  svc->extractor_metrics_ = std::make_unique<ExtractorMetrics>(svc->metrics_);
  svc->runs_ = std::make_unique<RunStore>(svc->raw_);
  auto loaded = svc->runs_->load(rfc3339(std::chrono::system_clock::now()));
  if (!loaded)
    return make_error(loaded.error().code, "cannot load run records from " + config.raw_url + ": " + loaded.error().message);
  svc->executor_ = std::make_unique<RunExecutor>(config, svc->spotify_, svc->raw_, svc->bus_, *svc->runs_,
                                                 *svc->extractor_metrics_);
  if (schedule) {
    ExtractorService* self = svc.get();
    svc->scheduler_ = std::make_unique<Scheduler>(std::move(*schedule), [self](auto planned) { self->on_schedule(planned); });
  }

  http::ServerOptions options;
  options.service = "extractor";
  options.address = config.extractor_addr;
  options.api_token = config.api_token;
  options.read_token = config.read_token;
  options.max_body_bytes = config.max_request_body_bytes;
  options.http = config.http;
  svc->server_ = std::make_unique<http::Server>(options, svc->metrics_);
  install_routes(*svc->server_, *svc);
  svc->server_->set_openapi(extractor_openapi());
  std::shared_ptr<ObjectStore> store = svc->raw_;
  std::shared_ptr<EventBus> events = svc->bus_;
  // Probes come every few seconds: run records the store missed while it was down
  // are written as soon as it answers again.
  svc->server_->add_readiness_check("raw_store", [store, runs = svc->runs_.get()]() -> Status {
    ETL_RETURN_IF_ERROR(store->ping());
    (void)runs->flush();
    return Status{};
  });
  svc->server_->add_readiness_check("bus", [events] { return events->ping(); });
  log::info("extractor ready to start", {{"raw_url", config.raw_url},
                                         {"bus", svc->bus_->name()},
                                         {"runs_loaded", *loaded},
                                         {"schedule", config.schedule},
                                         {"sources", config.sources.size()}});
  return svc;
}

Status ExtractorService::start() {
  std::lock_guard lock(mutex_);
  if (started_) return {};
  if (stopped_) return make_error(Errc::conflict, "the extractor was stopped; create a new one");
  ETL_RETURN_IF_ERROR(server_->start());
  executor_->start();
  if (scheduler_) scheduler_->start();
  started_ = true;
  return {};
}

void ExtractorService::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (server_) server_->stop();
  if (scheduler_) scheduler_->stop();
  if (executor_) executor_->stop();
}

int ExtractorService::port() const { return server_->port(); }
std::string ExtractorService::base_url() const { return server_->base_url(); }

Result<RunRecord> ExtractorService::submit_run(const RunRequest& request) { return executor_->submit(request); }

Result<RunRecord> ExtractorService::get_run(const std::string& run_id) const { return runs_->get(run_id); }

std::vector<RunRecord> ExtractorService::list_runs(std::size_t limit) const { return runs_->recent(limit); }

void ExtractorService::on_schedule(std::chrono::system_clock::time_point planned) {
  std::lock_guard lock(mutex_);
  if (!last_scheduled_run_.empty()) {
    auto last = runs_->get(last_scheduled_run_);
    if (last && !is_final(last->status)) {
      extractor_metrics_->schedule_skipped();
      log::warn("scheduled run skipped: the previous one is still going",
                {{"planned", rfc3339(planned)}, {"previous_run_id", last_scheduled_run_}});
      return;
    }
  }
  RunRequest request;
  request.trigger = "schedule";
  auto run = executor_->submit(request);
  if (!run) {
    log::error("scheduled run not started", {{"planned", rfc3339(planned)}, {"error", run.error().message}});
    return;
  }
  last_scheduled_run_ = run->run_id;
}

}  // namespace etl::extractor

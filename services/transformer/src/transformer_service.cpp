#include "transformer_service.h"

#include "etl/log.h"
#include "etl/s3_event.h"

namespace etl::transformer {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

Result<std::string> validate_reprocess_prefix(std::string_view prefix) {
  std::string p(prefix);
  if (p == "to_be_processed" || p == "processed") p += '/';
  if (!starts_with(p, kPendingPrefix) && !starts_with(p, kProcessedPrefix))
    return make_error(Errc::invalid_argument, "prefix '" + std::string(prefix) +
                                                  "' is not under to_be_processed/ or processed/");
  std::size_t start = 0;
  while (start < p.size()) {
    auto end = p.find('/', start);
    auto part = std::string_view(p).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part == ".." || part == ".") return make_error(Errc::invalid_argument, "prefix must not contain '.' or '..' segments");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) return make_error(Errc::invalid_argument, "prefix has a control character");
  return p;
}

Result<std::unique_ptr<TransformerService>> TransformerService::create(const Config& config,
                                                                       std::shared_ptr<EventBus> bus) {
  std::unique_ptr<TransformerService> svc(new TransformerService());
  svc->config_ = config;
  svc->counters_ = std::make_unique<TransformerMetrics>(svc->metrics_);

  auto raw = open_object_store(config.raw_url, config.aws);
  if (!raw) return make_error(raw.error().code, "ETL_RAW_URL: " + raw.error().message);
  svc->raw_ = std::shared_ptr<ObjectStore>(std::move(raw).value());
  auto transformed = open_object_store(config.transformed_url, config.aws);
  if (!transformed) return make_error(transformed.error().code, "ETL_TRANSFORMED_URL: " + transformed.error().message);
  svc->transformed_ = std::shared_ptr<ObjectStore>(std::move(transformed).value());
  if (!bus) {
    auto opened = open_event_bus(config, "transformer");
    if (!opened) return std::move(opened).error();
    bus = *opened;
  }
  svc->bus_ = std::move(bus);

  svc->pipeline_ = std::make_unique<Pipeline>(
      svc->raw_, svc->transformed_, svc->bus_,
      PipelineOptions{config.output_format, config.max_raw_object_bytes, config.topic_transformed}, *svc->counters_);

  TransformerService* self = svc.get();
  svc->jobs_ = std::make_unique<JobRunner>(
      [self](const std::string& prefix) { return self->raw_->list(prefix); },
      // A job that finds an object already moved (the consumer got there first) counts it as done.
      [self](const std::string& key) { return self->run_recorded(key, "job", RunOptions{.redo_when_moved = false}); });

  ConsumerLoopOptions loop;
  loop.name = "transformer";
  loop.topics = {config.topic_raw};
  loop.group = kConsumerGroup;
  loop.dlq_topic = config.topic_dlq;
  svc->consumer_ = std::make_unique<ConsumerLoop>(
      svc->bus_, loop, [self](const Message& m) { return self->handle_event(m); }, svc->metrics_);

  http::ServerOptions server;
  server.service = "transformer";
  server.address = config.transformer_addr;
  server.api_token = config.api_token;
  server.max_body_bytes = config.max_request_body_bytes;
  server.http = config.http;
  svc->server_ = std::make_unique<http::Server>(server, svc->metrics_);
  svc->add_routes();
  return svc;
}

TransformerService::~TransformerService() { stop(); }

Status TransformerService::start() {
  if (started_) return {};
  ParquetWriter::remove_stale_scratch_folders();
  jobs_->start();
  if (Status s = consumer_->start(); !s.ok()) {
    jobs_->stop();
    return s;
  }
  if (Status s = server_->start(); !s.ok()) {
    consumer_->stop();
    jobs_->stop();
    return s;
  }
  started_ = true;
  // Objects whose events were lost (a crash between the extractor's put and its
  // publish, a bus outage, a memory bus that died with the process).
  if (auto job = jobs_->submit(std::string(kPendingPrefix))) startup_job_id_ = *job;  // the queue is empty at start
  log::info("transformer started", {{"address", base_url()}, {"raw", raw_->url()}, {"transformed", transformed_->url()},
                                    {"format", to_string(config_.output_format)}, {"startup_job_id", startup_job_id_}});
  return {};
}

void TransformerService::stop() {
  if (!started_) return;
  started_ = false;
  server_->stop();    // no new requests
  consumer_->stop();  // finishes the event in hand; the rest stays unacknowledged
  jobs_->stop();      // finishes the object in hand
}

int TransformerService::port() const { return server_->port(); }

std::string TransformerService::base_url() const { return server_->base_url(); }

Result<TransformResult> TransformerService::run_recorded(const std::string& key, const std::string& source,
                                                         RunOptions options) {
  auto result = pipeline_->run(key, options);
  if (!result && result.error().code != Errc::invalid_argument) errors_.add(source, key, result.error());
  return result;
}

Result<TransformResult> TransformerService::transform_key(const std::string& raw_key) {
  if (auto key = RawObjectKey::parse(raw_key); !key) return std::move(key).error();
  return run_recorded(raw_key, "http", RunOptions{});
}

Result<std::string> TransformerService::reprocess(const std::string& prefix) {
  auto valid = validate_reprocess_prefix(prefix);
  if (!valid) return std::move(valid).error();
  return jobs_->submit(*valid);
}

std::optional<JobSnapshot> TransformerService::job(const std::string& job_id) const { return jobs_->get(job_id); }

Status TransformerService::handle_event(const Message& message) {
  auto events = parse_s3_events(message.value);
  if (!events) {
    errors_.add("event", message.key, events.error());
    counters_->record_error(events.error().code);
    return std::move(events).error();
  }
  for (const auto& e : *events) {
    auto key = raw_->relative_key(e.bucket, e.key);
    const bool pending = key && starts_with(*key, kPendingPrefix);
    const bool processed = key && starts_with(*key, kProcessedPrefix);
    if (!pending && !processed) {
      counters_->events_ignored.inc();
      log::debug("event ignored: not a raw object of ours", {{"bucket", e.bucket}, {"key", e.key}});
      continue;
    }
    // On s3:// our own move is a CopyObject into processed/: a bucket
    // notification of it is not new data.
    if (processed && e.event_name.size() >= 5 && e.event_name.substr(e.event_name.size() - 5) == ":Copy") {
      counters_->events_ignored.inc();
      log::debug("event ignored: our own move to processed/", {{"key", *key}});
      continue;
    }
    auto result = run_recorded(*key, "event", RunOptions{.redo_when_moved = true});
    if (!result) {
      if (result.error().code == Errc::not_found || result.error().code == Errc::invalid_argument) {
        // Nothing to transform, now or later: retrying cannot help.
        counters_->events_ignored.inc();
        log::warn("event ignored: raw object not found", {{"key", *key}, {"error", result.error().message}});
        continue;
      }
      return std::move(result).error();
    }
  }
  return {};
}

}  // namespace etl::transformer

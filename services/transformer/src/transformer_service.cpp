#include "transformer_service.h"

#include "etl/log.h"
#include "etl/memory_bus.h"
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
      PipelineOptions{config.output_format, config.max_raw_object_bytes, config.topic_transformed,
                      config.table_format == "iceberg"}, *svc->counters_);

  TransformerService* self = svc.get();
  svc->jobs_ = std::make_unique<JobRunner>(
      [self](const std::string& prefix) { return self->raw_->list(prefix); },
      [self](const std::string& job_id, const std::string& key) {
        // The start-up scan hands its objects to the consumer; backfills run them here.
        if (starts_with(key, kPendingPrefix)) return self->announce_raw(key);
        return self->redo_object(key, "job", RunOptions{.redo_when_moved = false}, job_id);
      });

  BatchConsumerOptions loop;
  loop.topics = {config.topic_raw};
  loop.group = kConsumerGroup;
  loop.dlq_topic = config.topic_dlq;
  loop.batch_events = config.transform_batch_events;
  loop.batch_bytes = config.transform_batch_bytes;
  loop.linger = std::chrono::milliseconds(config.transform_linger_ms);
  loop.window = config.transform_window;
  loop.window_bytes = config.transform_window_bytes;
  loop.redo = [self](const std::string& key) -> Status {
    auto done = self->redo_object(key, "event", RunOptions{});
    if (!done) return std::move(done).error();
    return {};
  };
  // The in-process bus starts again at offset 0 with every process: its batches are named apart.
  if (auto* memory = dynamic_cast<MemoryBus*>(svc->bus_.get())) loop.scope = memory->incarnation();
  svc->pool_ = std::make_unique<TaskPool>(config.transform_concurrency);
  svc->index_ = std::make_unique<BatchIndex>(*svc->transformed_);
  svc->runner_ = std::make_unique<BatchRunner>(
      *svc->pipeline_, *svc->pool_, loop.max_attempts,
      [self](const std::string& key, const Error& e) { self->errors_.add("event", key, e); }, svc->index_.get());
  svc->consumer_ = std::make_unique<BatchConsumer>(
      svc->bus_, loop, [self](Message m) { return self->read_event(std::move(m)); }, *svc->runner_,
      *svc->transformed_, svc->metrics_);

  http::ServerOptions server;
  server.service = "transformer";
  server.address = config.transformer_addr;
  server.api_token = config.api_token;
  server.read_token = config.read_token;
  server.max_body_bytes = config.max_request_body_bytes;
  svc->server_ = std::make_unique<http::Server>(server, svc->metrics_);
  svc->add_routes();
  return svc;
}

TransformerService::~TransformerService() { stop(); }

Status TransformerService::start() {
  if (started_) return {};
  ParquetWriter::remove_stale_scratch_folders();
  // Batches a crash left half done are finished before anything new starts (with an
  // in-process bus nothing else would; over Kafka their owner would replay them too).
  if (Status s = runner_->recover(); !s.ok())
    log::warn("could not finish the batches left open; their events are replayed", {{"error", s.error().message}});
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
  return redo_object(raw_key, "http", RunOptions{});
}

// An object a batch transformed is redone with its whole batch, into the batch's
// files (its rows are in them: a file of its own would hold them twice). Within one
// backfill job each batch is redone once. Other objects run alone, as ever.
Result<TransformResult> TransformerService::redo_object(const std::string& key, const std::string& source,
                                                        RunOptions options, const std::string& job_id) {
  auto raw = RawObjectKey::parse(key);
  if (!raw) return run_recorded(key, source, options);  // says why
  const std::string& rest = raw->name;
  if (Status refreshed = index_->refresh(); !refreshed.ok()) {
    errors_.add(source, key, refreshed.error());
    return make_error(refreshed.error().code, "cannot read the batch manifests: " + refreshed.error().message);
  }
  auto manifest = index_->find(rest);
  if (!manifest) return run_recorded(key, source, options);
  TransformResult r;
  r.raw_key = std::string(kProcessedPrefix) + rest;
  const std::string batch = done_manifest_key(*manifest);
  {
    std::lock_guard lock(redone_mutex_);
    if (job_id != redone_job_) {
      redone_job_ = job_id;
      redone_.clear();
    }
    if (!job_id.empty() && redone_.count(batch)) return r;  // counted with the batch's first object
  }
  auto done = runner_->redo(*manifest);
  if (!done) {
    errors_.add(source, key, done.error());
    return std::move(done).error();
  }
  if (!job_id.empty()) {
    std::lock_guard lock(redone_mutex_);
    if (job_id == redone_job_) redone_.insert(batch);
  }
  r.outputs = done->files;
  r.albums_rows = done->albums_rows;
  r.artists_rows = done->artists_rows;
  r.songs_rows = done->songs_rows;
  r.skipped = done->skipped;
  r.bytes_in = done->bytes_in;
  r.bytes_out = done->bytes_out;
  return r;
}

Result<std::string> TransformerService::reprocess(const std::string& prefix) {
  auto valid = validate_reprocess_prefix(prefix);
  if (!valid) return std::move(valid).error();
  return jobs_->submit(*valid);
}

std::optional<JobSnapshot> TransformerService::job(const std::string& job_id) const { return jobs_->get(job_id); }

BatchEvent TransformerService::read_event(Message message) {
  BatchEvent out;
  auto events = parse_s3_events(message.value);
  out.message = std::move(message);
  if (!events) {
    errors_.add("event", out.message.key, events.error());
    counters_->record_error(events.error().code);
    out.error = std::move(events).error();
    return out;
  }
  for (const auto& e : *events) {
    auto key = raw_->relative_key(e.bucket, e.key);
    if (!key || !starts_with(*key, kPendingPrefix) || !RawObjectKey::parse(*key)) {
      // Not a raw object of ours. processed/ included: an object gets there once its rows
      // are durable (our own move, notified as a Copy on s3://); /v1/reprocess redoes one.
      counters_->events_ignored.inc();
      log::debug("event ignored: not a new raw object of ours", {{"bucket", e.bucket}, {"key", e.key}});
      continue;
    }
    out.rests.push_back(key->substr(kPendingPrefix.size()));
    out.bytes += e.size;
  }
  return out;
}

Result<TransformResult> TransformerService::announce_raw(const std::string& key) {
  auto info = raw_->head(key);
  if (!info) return std::move(info).error();
  ObjectCreated e;
  e.bucket = raw_->bucket();
  e.key = raw_->event_key(key);
  e.size = info->size;
  e.etag = info->etag;
  e.event_time = rfc3339_millis(std::chrono::system_clock::now());
  // Keyed by the object key, as the extractor does: the same partition as its first event.
  ETL_RETURN_IF_ERROR(bus_->publish(config_.topic_raw, e.key, build_s3_event(e)));
  TransformResult r;
  r.raw_key = key;
  return r;
}

}  // namespace etl::transformer

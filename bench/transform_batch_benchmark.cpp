// The embedded pipeline (in-process bus, file:// stores: `spotify-etl up`)
// against the transform core, in one run, on the same objects:
//   core      one thread, no I/O: every object transformed, rows appended, one
//             Parquet file per table (what one batch of them writes);
//   batched   the TransformerService at its defaults: N events published at
//             once, clock until every event is acknowledged;
//   1/batch   the same with ETL_TRANSFORM_BATCH_EVENTS=1 (an object per batch,
//             as the transformer worked before batching).
// Prints MB/s of raw input, the ratios, files per table and day, peak RSS.
//   transform_batch_benchmark [--objects 200] [--pages 1] [--rounds 3]
// Needs no servers; bench/run_distributed_bench.sh runs the Kafka + MinIO passes.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "etl/log.h"
#include "etl/memory_bus.h"
#include "etl/s3_event.h"
#include "spotify_raw_generator.h"
#include "table_writer.h"
#include "transform.h"
#include "transformer_service.h"

namespace {

namespace fs = std::filesystem;
namespace tf = etl::transformer;
using Clock = std::chrono::steady_clock;

std::string name(int round, int i) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "spotify_raw_20261121T060000Z_playlist_37i9dQZF1DXcBWIGoYBM5M_r%d_%04d.json", round, i);
  return buf;
}

double core_seconds(const std::vector<std::string>& objects) {
  tf::TableWriter writer;
  const auto t0 = Clock::now();
  tf::Table albums(tf::albums_schema()), artists(tf::artists_schema()), songs(tf::songs_schema());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    auto out = tf::transform_raw(objects[i], {"to_be_processed/" + name(0, static_cast<int>(i)), std::nullopt});
    if (!out) return 1e9;
    albums.append(out->albums);
    artists.append(out->artists);
    songs.append(out->songs);
  }
  for (const auto* t : {&albums, &artists, &songs})
    if (!writer.write(*t, etl::OutputFormat::parquet)) return 1e9;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Pass {
  double seconds = 0;
  std::size_t files = 0;  // songs_data files in the day partition
};

Pass pipeline_pass(const std::vector<std::string>& objects, const fs::path& dir, int round, int batch_events) {
  etl::Config c = etl::load_config({}, etl::ConfigDefaults{"memory"}).value();
  c.raw_url = "file://" + (dir / "raw").string();
  c.transformed_url = "file://" + (dir / "transformed").string();
  c.transformer_addr = {"127.0.0.1", 0};
  if (batch_events > 0) c.transform_batch_events = batch_events;
  auto bus = etl::make_memory_bus();
  auto svc = tf::TransformerService::create(c, bus).value();
  if (!svc->start().ok()) return {};
  for (int i = 0; i < 1000; ++i) {  // the start-up scan over, so it does not announce our objects again
    auto j = svc->job(svc->startup_job_id());
    if (j && j->state != tf::JobState::queued && j->state != tf::JobState::running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto raw = etl::open_object_store(c.raw_url, c.aws).value();
  std::vector<std::string> events;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const std::string key = "to_be_processed/" + name(round, static_cast<int>(i));
    if (!raw->put(key, objects[i]).ok()) return {};
    etl::ObjectCreated e;
    e.bucket = raw->bucket();
    e.key = raw->event_key(key);
    e.size = objects[i].size();
    events.push_back(etl::build_s3_event(e));
  }
  const auto before = bus->committed(tf::kConsumerGroup, c.topic_raw);
  const auto t0 = Clock::now();
  for (const auto& e : events) (void)bus->publish(c.topic_raw, "k", e);
  const auto target = before + static_cast<std::int64_t>(events.size());
  while (bus->committed(tf::kConsumerGroup, c.topic_raw) < target) std::this_thread::sleep_for(std::chrono::microseconds(500));
  Pass p;
  p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  svc->stop();
  auto out = etl::open_object_store(c.transformed_url, c.aws).value();
  p.files = out->list("songs_data/").value().size();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  int objects = 200, pages = 1, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--objects") objects = std::stoi(argv[i + 1]);
    else if (a == "--pages") pages = std::stoi(argv[i + 1]);
    else if (a == "--rounds") rounds = std::stoi(argv[i + 1]);
  }
  etl::log::init("transform-batch-benchmark", "error", "json");
  std::vector<std::string> raw;
  double mb = 0;
  for (int i = 0; i < objects; ++i) {
    raw.push_back(etl::bench::playlist_envelope(pages, 100, 1000 + static_cast<std::uint64_t>(i)));
    mb += static_cast<double>(raw.back().size()) / 1e6;
  }
  const fs::path dir = fs::temp_directory_path() / ("spotify-etl-batch-bench-" + std::to_string(::getpid()));
  std::printf("%d objects of %d page(s) x 100 items, %.1f MB; %u cores (shared)\n", objects, pages, mb,
              std::thread::hardware_concurrency());
  std::printf("%-6s %-34s %8s %8s %8s %7s\n", "round", "pass", "seconds", "MB/s", "vs core", "files");
  for (int r = 1; r <= rounds; ++r) {
    const double core = core_seconds(raw);
    std::printf("%-6d %-34s %8.3f %8.1f %8.2f %7s\n", r, "transform core (1 thread, no I/O)", core, mb / core, 1.0, "-");
    for (int events : {0, 1}) {
      auto p = pipeline_pass(raw, dir / (std::to_string(r) + "-" + std::to_string(events)), r, events);
      std::printf("%-6d %-34s %8.3f %8.1f %8.2f %7zu\n", r, events == 0 ? "embedded, batched (defaults)" : "embedded, 1 event per batch",
                  p.seconds, mb / p.seconds, core / p.seconds, p.files);
      std::fflush(stdout);
    }
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS of this process (all passes): %.1f MB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}

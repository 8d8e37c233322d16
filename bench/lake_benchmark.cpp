// The cataloger over a lake in S3 (MinIO), side by side in one run: reading it in
// place (ETL_CATALOG_READS=in_place, DuckDB's httpfs; `no_mdc`: the same with
// ETL_QUERY_S3_METADATA_CACHE=false, every query HEADs every file), the former full local copy
// (ETL_CATALOG_READS=mirror), and the same files in a local folder (file://, the
// reference). Each runs in a child process of its own, so its peak RSS is its own;
// the lake is `--days` daily partitions of songs_data and artists_data, and each
// engine gets `--memory-limit` (ETL_QUERY_MEMORY_LIMIT), so the lake can be made
// many times the engine's memory. Printed per mode: the start-up crawl (with the
// Iceberg commit of every file), the dashboard's top-10 queries (30 days, whole
// year) median / p95 in-process, the process's peak RSS, and the bytes on local
// disk (engine folder + table copy) afterwards; then each mode against file:// as
// ratios (crawl, both medians, peak RSS).
//
// Needs the test servers' MinIO (ETL_TEST_S3_*: scripts/test-servers.sh) and
// scripts/setup.sh's httpfs. Not a test: it prints figures.
//   bench/run_lake_bench.sh [--days 365 --songs 40000 --memory-limit 64M --rounds 15]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../tests/unit/shared/s3_test_env.h"
#include "cataloger_service.h"
#include "etl/log.h"
#include "etl/memory_bus.h"
#include "lake_generator.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct Args {
  int days = 365, songs = 40000, artists = 2000, rounds = 15, threads = 2;
  std::string memory_limit = "64M";
};

std::uint64_t bytes_under(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

// Runs `body` in a child process; returns its peak RSS in bytes (0 when it failed).
template <typename F>
std::uint64_t in_child(F body) {
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    int rc = body();
    std::fflush(stdout);
    std::_Exit(rc);
  }
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

const std::string kTop10Month =
    "SELECT a.artist_name, count(*) AS songs, round(avg(s.popularity), 1) AS avg_popularity "
    "FROM songs_data s JOIN artists_data a ON a.artist_id = s.artist_id AND a.dt = s.dt "
    "WHERE s.dt >= '2026-12-02' GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";
const std::string kTop10Year =
    "SELECT a.artist_name, count(*) AS songs FROM songs_data s JOIN artists_data a "
    "ON a.artist_id = s.artist_id AND a.dt = s.dt GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";

int run_mode(const std::string& mode, const std::string& url, const etl::AwsConfig& aws, const fs::path& work,
             const Args& args) {
  etl::Config config;
  config.transformed_url = url;
  config.aws = aws;
  config.cataloger_addr = {"127.0.0.1", 0};
  config.bus = "memory";
  config.iceberg_maintenance_interval = 0s;
  config.catalog_cache.reads = mode == "mirror" ? "mirror" : "in_place";
  config.query_s3_metadata_cache = mode != "no_mdc";  // in place, each query HEADs each file again
  config.catalog_cache.dir = (work / ("cache-" + mode)).string();
  config.query_data_dir = (work / ("engine-" + mode)).string();
  config.query_memory_limit = *etl::parse_byte_size(args.memory_limit);
  etl::cataloger::CatalogerOptions options;
  options.crawl_on_start = false;
  options.duckdb_threads = args.threads;
  auto created = etl::cataloger::CatalogerService::create(config, etl::make_memory_bus(), options);
  if (!created) {
    std::fprintf(stderr, "%s: %s\n", mode.c_str(), created.error().message.c_str());
    return 1;
  }
  auto svc = std::move(created).value();
  if (!svc->start().ok()) return 1;
  auto t0 = Clock::now();
  auto crawl = svc->catalog().start_crawl({}).value();
  auto done = svc->catalog().wait_crawl(crawl.crawl_id, 1800s).value();
  if (done.state != etl::CrawlState::succeeded) {
    std::fprintf(stderr, "%s: crawl %s\n", mode.c_str(), done.error.c_str());
    return 1;
  }
  const double crawl_ms = ms_since(t0);
  std::printf("%-9s start-up crawl, %lld new files (committed): %.1f s\n", mode.c_str(),
              static_cast<long long>(done.files_inspected), crawl_ms / 1000);
  std::vector<double> medians;
  for (const auto& [name, sql] : {std::pair{"30 days", kTop10Month}, std::pair{"whole year", kTop10Year}}) {
    std::vector<double> v;
    for (int i = 0; i <= args.rounds; ++i) {  // the first warms the views
      etl::QueryRequest q;
      q.sql = sql;
      auto t = Clock::now();
      auto s = svc->queries().start(q).value();
      auto w = svc->queries().wait(s.query_id, 600s).value();
      if (w.state != etl::QueryState::succeeded) {
        std::fprintf(stderr, "%s: %s\n", mode.c_str(), w.error ? w.error->message.c_str() : "failed");
        return 1;
      }
      if (i) v.push_back(ms_since(t));
    }
    std::sort(v.begin(), v.end());
    std::printf("%-9s top-10 %-10s median %8.1f ms  p95 %8.1f ms\n", mode.c_str(), name, v[v.size() / 2],
                v[std::min(v.size() - 1, v.size() * 95 / 100)]);
    medians.push_back(v[v.size() / 2]);
  }
  // For the parent's ratios: this process's figures outlive it in the work folder.
  std::ofstream(work / ("figures-" + mode)) << crawl_ms << ' ' << medians[0] << ' ' << medians[1] << '\n';
  std::printf("%-9s local disk after the queries: %.1f MB (engine folder + table copy)\n", mode.c_str(),
              static_cast<double>(bytes_under(work / ("cache-" + mode)) + bytes_under(work / ("engine-" + mode))) / 1e6);
  svc->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--days") args.days = std::stoi(v);
    else if (k == "--songs") args.songs = std::stoi(v);
    else if (k == "--artists") args.artists = std::stoi(v);
    else if (k == "--rounds") args.rounds = std::max(1, std::stoi(v));
    else if (k == "--memory-limit") args.memory_limit = v;
    else if (k == "--threads") args.threads = std::max(1, std::stoi(v));
    else {
      std::fprintf(stderr, "usage: lake_benchmark [--days N] [--songs N] [--artists N] [--rounds N] [--memory-limit 64M] [--threads 2]\n");
      return 2;
    }
  }
  if (!etl::parse_byte_size(args.memory_limit)) return 2;
  etl::log::init("lake_benchmark", "warn", "text");
  auto server = etl::testing::s3_test_server();
  if (!server) {
    std::fprintf(stderr, "lake_benchmark needs MinIO: ETL_TEST_S3_* (bench/run_lake_bench.sh starts the test servers)\n");
    return 2;
  }
  std::string tmpl = (fs::temp_directory_path() / "spotify-etl-lake-bench-XXXXXX").string();
  const fs::path work = ::mkdtemp(tmpl.data());
  const fs::path local = work / "transformed";
  const std::string url = "s3://" + server->bucket + "/" + etl::testing::unique_s3_prefix("lake-bench") + "/transformed";

  auto t0 = Clock::now();
  if (!in_child([&] {
        etl::bench::generate_year(local, args.days, args.songs, args.artists);
        auto store = etl::open_object_store(url, server->aws).value();
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(local, ec); !ec && it != fs::end(it); it.increment(ec)) {
          if (!it->is_regular_file()) continue;
          std::ifstream in(it->path(), std::ios::binary);
          std::string bytes((std::istreambuf_iterator<char>(in)), {});
          if (!store->put(fs::relative(it->path(), local).string(), bytes).ok()) return 1;
        }
        return 0;
      })) {
    std::fprintf(stderr, "generating or uploading the lake failed\n");
    return 1;
  }
  const std::uint64_t lake = bytes_under(local);
  const std::uint64_t memory = *etl::parse_byte_size(args.memory_limit);
  std::printf("lake: %d days x (%d songs_data + %d artists_data rows), %.1f MB of Parquet in %d files, generated and "
              "uploaded to MinIO in %.1f s\nengine memory limit %s, %d DuckDB threads: the lake is %.1fx the engine's memory\n\n",
              args.days, args.songs, args.artists, static_cast<double>(lake) / 1e6, args.days * 2, ms_since(t0) / 1000,
              args.memory_limit.c_str(), args.threads, static_cast<double>(lake) / static_cast<double>(memory));

  const std::vector<std::pair<std::string, std::string>> modes = {
      {"in_place", url}, {"no_mdc", url}, {"mirror", url}, {"file", "file://" + local.string()}};
  struct Figures {
    double crawl_ms = 0, month_ms = 0, year_ms = 0, rss = 0;
  };
  std::map<std::string, Figures> figures;
  for (const auto& [mode, where] : modes) {
    std::uint64_t rss = in_child([&] { return run_mode(mode, where, server->aws, work, args); });
    Figures f;
    if (!rss || !(std::ifstream(work / ("figures-" + mode)) >> f.crawl_ms >> f.month_ms >> f.year_ms)) {
      std::printf("%-9s FAILED\n", mode.c_str());
      continue;
    }
    f.rss = static_cast<double>(rss);
    figures[mode] = f;
    std::printf("%-9s peak RSS %.1f MB\n\n", mode.c_str(), f.rss / 1e6);
  }
  int failed = static_cast<int>(modes.size() - figures.size());
  if (auto ref = figures.find("file"); ref != figures.end()) {
    const Figures& r = ref->second;
    for (const auto& [mode, f] : figures) {
      if (mode == "file") continue;
      std::printf("%-9s / file: start-up crawl %.2f x, top-10 30 days median %.2f x, whole year median %.2f x, peak RSS %.2f x\n",
                  mode.c_str(), f.crawl_ms / r.crawl_ms, f.month_ms / r.month_ms, f.year_ms / r.year_ms, f.rss / r.rss);
    }
  }
  auto store = etl::open_object_store(url, server->aws).value();
  if (auto listed = store->list("")) {
    for (const auto& o : *listed) (void)store->remove(o.key);
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  return failed ? 1 : 0;
}

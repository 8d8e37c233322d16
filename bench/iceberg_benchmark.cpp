// Iceberg tables (issue 15) next to today's Hive folders, in one run, on the same
// year of data: 365 daily partitions of songs_data written as 4 small files each
// (as 4 transformer batches a day would), plus artists_data.
//   - the whole-year top-10 query (in-process, uncached) on the Hive layout, then
//     on the Iceberg table after compaction (goal: < 100 ms);
//   - files per partition before and after compaction, and what compaction cost;
//   - commit latency: a crawl of one landed file, Hive (catalog only) vs Iceberg
//     (catalog + snapshot commit), p50 / p99;
//   - a reprocessed file (an input written again: under its name for Hive, as a
//     newer generation for Iceberg), Hive (the catalog takes it) vs Iceberg after
//     compaction (its rows replaced inside the compacted file), p50 / p99, and
//     the rows both layouts then hold;
//   - the same Iceberg commits and compaction with the manifest cache off
//     (ETL_ICEBERG_MANIFEST_CACHE_BYTES=0) as the reference for it;
//   - the Iceberg run again with the tables kept in memory (ETL_QUERY_RESIDENT_BYTES
//     at its default; the runs above set it to 0): the top-10 queries (whole
//     year, last 30 days) once the copies serve, how long the copies took to
//     build, and the same landed and reprocessed files taken into them.
// Not a timed test: it prints figures and ratios.
//
//   build/bin/iceberg_benchmark [--days 365] [--files-per-day 4] [--songs 5000] [--artists 2000]
// (the suite's short form, ctest bench_iceberg_benchmark, runs a few days of it)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cataloger_service.h"
#include "etl/duck.h"
#include "etl/lake.h"
#include "etl/log.h"
#include "etl/memory_bus.h"
#include "query_manager.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct Stats {
  double p50, p95, p99;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](int pct) { return v[std::min(v.size() - 1, v.size() * pct / 100)]; };
  return {at(50), at(95), at(99)};
}

void copy(etl::duck::Connection& conn, const std::string& select, const fs::path& file) {
  fs::create_directories(file.parent_path());
  auto s = conn.execute("COPY (" + select + ") TO " + etl::duck::quote_literal(file.string()) + " (FORMAT parquet)");
  if (!s.ok()) throw std::runtime_error(s.error().message);
}

std::string songs(int first, int n, int artists) {
  return "SELECT 's' || (i + " + std::to_string(first) + ") AS song_id, 'Song ' || i AS song_name, "
         "(120000 + i * 7)::BIGINT AS duration_ms, i % 7 = 0 AS explicit, (i % 100)::INTEGER AS popularity, "
         "'a' || ((i * 7919) % " + std::to_string(artists) + ") AS artist_id FROM range(" + std::to_string(n) + ") t(i)";
}

// The data set's day `d` (0: 2026-01-01) as YYYY-MM-DD.
std::string day(etl::duck::Connection& conn, int d) {
  return conn.query("SELECT ((DATE '2026-01-01' + INTERVAL " + std::to_string(d) + " DAY)::DATE)::VARCHAR")
      .value()
      .text(0, 0)
      .value();
}

void generate(const fs::path& root, int days, int files_per_day, int songs_per_day, int artists) {
  auto db = etl::duck::Database::open(":memory:").value();
  auto conn = db->connect().value();
  for (int d = 0; d < days; ++d) {
    const std::string dt = day(*conn, d);
    for (int f = 0; f < files_per_day; ++f)
      copy(*conn, songs(d * songs_per_day + f * (songs_per_day / files_per_day), songs_per_day / files_per_day, artists),
           root / "songs_data" / ("dt=" + dt) / ("batch-" + std::to_string(f) + ".parquet"));
    copy(*conn, "SELECT 'a' || i AS artist_id, 'Artist ' || i AS artist_name FROM range(" + std::to_string(artists) + ") t(i)",
         root / "artists_data" / ("dt=" + dt) / "batch-0.parquet");
  }
}

struct Run {
  double crawl_ms = 0;
  std::map<std::string, std::size_t> files;  // table -> data files the catalog names
  Stats query{};
  Stats query30{};       // the top-10 of the last 30 days
  double warm_ms = 0;    // the copies built (resident runs)
  std::uint64_t resident_bytes = 0;
  Stats commit{};
  double compaction_ms = 0;
  std::size_t files_after = 0;
  Stats rewrite{};
  std::string rows_after_rewrites;  // count(*), count(DISTINCT song_id) after them: the same in both layouts
};

std::size_t count_files(etl::Catalog& catalog, const std::string& table) {
  std::size_t n = 0;
  auto parts = catalog.get_partitions(table);
  if (parts.ok())
    for (const auto& p : *parts) n += p.files.size();
  return n;
}

// `sql` empty: no queries (the run measures crawls and commits only).
const char* kLast30Days =
    "SELECT a.artist_name, count(*) AS songs FROM songs_data s JOIN artists_data a "
    "ON a.artist_id = s.artist_id AND a.dt = s.dt WHERE s.dt >= '2026-12-02' "
    "GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";

Run measure(const fs::path& root, int days, const std::string& format, const std::string& sql,
            std::uint64_t manifest_cache_bytes = etl::Config{}.iceberg_manifest_cache_bytes,
            std::uint64_t resident_bytes = 0) {
  Run run;
  etl::Config config;
  config.query_resident_bytes = resident_bytes;
  config.transformed_url = "file://" + root.string();
  config.cataloger_addr = {"127.0.0.1", 0};
  config.pg_enabled = false;
  config.bus = "memory";
  config.table_format = format;
  config.iceberg_maintenance_interval = 0s;
  config.iceberg_manifest_cache_bytes = manifest_cache_bytes;
  etl::cataloger::CatalogerOptions options;
  options.crawl_on_start = false;
  auto svc = etl::cataloger::CatalogerService::create(config, etl::make_memory_bus(), options).value();
  if (!svc->start().ok()) std::exit(1);
  auto crawl = [&](etl::CrawlRequest request) {
    auto started = svc->catalog().start_crawl(request).value();
    auto done = svc->catalog().wait_crawl(started.crawl_id, 600s).value();
    if (done.state != etl::CrawlState::succeeded) {
      std::fprintf(stderr, "crawl failed: %s\n", done.error.c_str());
      std::exit(1);
    }
  };
  auto t0 = Clock::now();
  crawl({});
  run.crawl_ms = ms_since(t0);
  run.files["songs_data"] = count_files(svc->catalog(), "songs_data");
  if (format == "iceberg") {
    etl::CrawlRequest maintenance;
    maintenance.trigger = "maintenance";
    t0 = Clock::now();
    crawl(maintenance);
    run.compaction_ms = ms_since(t0);
  }
  run.files_after = count_files(svc->catalog(), "songs_data");

  // Runs `text` (default: the measured query); its first row's JSON.
  auto query = [&](const std::string& text = "") {
    etl::QueryRequest q;
    q.sql = text.empty() ? sql : text;
    auto s = svc->queries().start(q).value();
    auto w = svc->queries().wait(s.query_id, 60s).value();
    auto page = svc->queries().page(s.query_id, "");
    if (w.state != etl::QueryState::succeeded || !page.ok()) std::exit(1);
    return page->rows.empty() ? std::string() : page->rows[0];
  };
  if (!sql.empty()) {
    t0 = Clock::now();
    query();  // warm the views and the OS cache (and start building the copies)
    if (resident_bytes > 0) {
      auto& engine = dynamic_cast<etl::cataloger::DuckDbEngine&>(
          dynamic_cast<etl::cataloger::QueryManager&>(svc->queries()).engine());
      for (bool serving = false; !serving;) {
        if (ms_since(t0) > 300'000) {
          std::fprintf(stderr, "the tables' copies were not built in 300 s\n");
          std::exit(1);
        }
        std::this_thread::sleep_for(20ms);
        auto report = engine.resident_report();
        serving = !report.empty();
        for (const auto& [table, r] : report) serving &= r.mode == "serving" && r.files == r.wanted;
      }
      run.warm_ms = ms_since(t0);
      run.resident_bytes = engine.resident_bytes();
      query();
    }
    auto timed = [&](const std::string& text) {
      std::vector<double> times;
      for (int i = 0; i < 30; ++i) {
        const auto started = Clock::now();
        query(text);
        times.push_back(ms_since(started));
      }
      return stats(times);
    };
    run.query = timed(sql);
    query(kLast30Days);
    run.query30 = timed(kLast30Days);
  }

  // A file written under `key` and crawled by its event (as the transformer's
  // events do): the crawl's time, ms.
  auto db = etl::duck::Database::open(":memory:").value();
  auto conn = db->connect().value();
  auto land = [&](const std::string& key, const std::string& select) {
    copy(*conn, select, root / key);
    etl::CrawlRequest request;
    request.trigger = "events";
    request.changed_keys = {key};
    const auto started = Clock::now();
    crawl(request);
    return ms_since(started);
  };

  // Commit latency: one landed file.
  std::vector<double> commits;
  for (int i = 0; i < 60; ++i)
    commits.push_back(land("songs_data/dt=2027-01-01/landed-" + std::to_string(i) + ".parquet",
                           songs(10'000'000 + i * 100, 100, 2000)));
  run.commit = stats(commits);

  // A reprocessed file: batch-1 of a day written again with other rows (POST
  // /v1/reprocess). Hive: under its name, and the catalog takes the new version.
  // Iceberg, after compaction: as a newer generation (etl/lake.h "Generations"),
  // whose rows replace the old ones inside the day's compacted file (a refold and
  // its replace commit).
  if (!sql.empty()) {
    std::vector<double> rewrites;
    for (int d = 0; d < 30; ++d) {
      const std::string stem = format == "iceberg" ? etl::generation_stem("batch-1", 1795240800000 + d) : "batch-1";
      rewrites.push_back(land("songs_data/dt=" + day(*conn, d * 12 % days) + "/" + stem + ".parquet",
                              songs(20'000'000 + d * 10'000, 1250, 2000)));
    }
    run.rewrite = stats(rewrites);
    run.rows_after_rewrites = query("SELECT count(*), count(DISTINCT song_id) FROM songs_data");
  }
  svc->stop();
  return run;
}

// A row of a side-by-side table: the reference, the measured figure, and their ratio.
void ratio_row(const char* label, double reference, double measured, int decimals = 1) {
  std::printf("%-44s %12.*f %12.*f %8.2f\n", label, decimals, reference, decimals, measured, measured / reference);
}

}  // namespace

int main(int argc, char** argv) {
  int days = 365, files_per_day = 4, songs_per_day = 5000, artists = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--days") days = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--files-per-day") files_per_day = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--songs") songs_per_day = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--artists") artists = std::max(1, std::stoi(argv[i + 1]));
    else return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  etl::log::init("iceberg_benchmark", "warn", "text");
  std::string tmpl = (fs::temp_directory_path() / "spotify-etl-iceberg-bench-XXXXXX").string();
  fs::path dir = ::mkdtemp(tmpl.data());
  auto t0 = Clock::now();
  generate(dir / "hive", days, files_per_day, songs_per_day, artists);
  fs::copy(dir / "hive", dir / "iceberg", fs::copy_options::recursive);
  fs::copy(dir / "hive", dir / "iceberg-uncached", fs::copy_options::recursive);
  fs::copy(dir / "hive", dir / "iceberg-resident", fs::copy_options::recursive);
  std::printf("generated %d partitions x %d songs_data files (%d rows a day) + artists_data, three times, in %.1f s\n", days,
              files_per_day, songs_per_day, ms_since(t0) / 1000);

  const std::string year =
      "SELECT a.artist_name, count(*) AS songs FROM songs_data s JOIN artists_data a "
      "ON a.artist_id = s.artist_id AND a.dt = s.dt GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";
  Run hive = measure(dir / "hive", days, "hive", year);
  Run ice = measure(dir / "iceberg", days, "iceberg", year);
  // The same Iceberg run with ETL_ICEBERG_MANIFEST_CACHE_BYTES=0: every commit
  // fetches and decodes the current snapshot's manifests again.
  Run uncached = measure(dir / "iceberg-uncached", days, "iceberg", "", 0);
  // The Iceberg run with the tables kept in memory (ETL_QUERY_RESIDENT_BYTES's default).
  Run resident = measure(dir / "iceberg-resident", days, "iceberg", year, etl::Config{}.iceberg_manifest_cache_bytes,
                         etl::Config{}.query_resident_bytes);

  std::printf("\n%-44s %12s %12s %8s\n", "", "hive (ref)", "iceberg", "ratio");
  ratio_row("full crawl (iceberg: + first commit), ms", hive.crawl_ms, ice.crawl_ms, 0);
  std::printf("%-44s %12.2f %12.2f\n", "songs_data files per partition", hive.files_after / double(days),
              ice.files_after / double(days));
  std::printf("%-44s %12s %12.0f\n", "compaction (maintenance crawl), ms", "-", ice.compaction_ms);
  ratio_row("whole-year top-10, p50 ms", hive.query.p50, ice.query.p50);
  ratio_row("whole-year top-10, p95 ms", hive.query.p95, ice.query.p95);
  ratio_row("one landed file: crawl (+ commit), p50 ms", hive.commit.p50, ice.commit.p50);
  ratio_row("one landed file: crawl (+ commit), p99 ms", hive.commit.p99, ice.commit.p99);
  ratio_row("one reprocessed file: crawl (+ refold), p50 ms", hive.rewrite.p50, ice.rewrite.p50);
  ratio_row("one reprocessed file: crawl (+ refold), p99 ms", hive.rewrite.p99, ice.rewrite.p99);
  std::printf("rows after the 30 reprocessed files (count, distinct ids): hive %s, iceberg %s%s\n",
              hive.rows_after_rewrites.c_str(), ice.rows_after_rewrites.c_str(),
              hive.rows_after_rewrites == ice.rows_after_rewrites ? "" : "  <- DIFFERENT");
  std::printf("\n%-44s %12s %12s %8s\n", "", "no cache (ref)", "cache", "ratio");
  ratio_row("iceberg, manifest cache: one landed file p50", uncached.commit.p50, ice.commit.p50);
  ratio_row("iceberg, manifest cache: one landed file p99", uncached.commit.p99, ice.commit.p99);
  ratio_row("iceberg, manifest cache: compaction, ms", uncached.compaction_ms, ice.compaction_ms, 0);
  std::printf("\n%-44s %12s %12s %8s\n", "iceberg, compacted", "files (ref)", "in memory", "ratio");
  ratio_row("whole-year top-10, p50 ms", ice.query.p50, resident.query.p50);
  ratio_row("whole-year top-10, p95 ms", ice.query.p95, resident.query.p95);
  ratio_row("top-10 last 30 days, p50 ms", ice.query30.p50, resident.query30.p50);
  ratio_row("top-10 last 30 days, p95 ms", ice.query30.p95, resident.query30.p95);
  ratio_row("one landed file: crawl + commit, p50 ms", ice.commit.p50, resident.commit.p50);
  ratio_row("one reprocessed file: crawl + refold, p50 ms", ice.rewrite.p50, resident.rewrite.p50);
  std::printf("copies built in %.0f ms after the first query, %.1f MiB in memory (budget %.0f MiB)\n", resident.warm_ms,
              resident.resident_bytes / 1048576.0, etl::Config{}.query_resident_bytes / 1048576.0);
  std::printf("rows after the 30 reprocessed files (count, distinct ids): iceberg %s, in memory %s%s\n",
              ice.rows_after_rewrites.c_str(), resident.rows_after_rewrites.c_str(),
              ice.rows_after_rewrites == resident.rows_after_rewrites ? "" : "  <- DIFFERENT");
  std::printf("(before compaction: %.2f songs_data files per partition in all four)\n", hive.files["songs_data"] / double(days));
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}

// Query endpoint latency and throughput over a year of daily partitions
// (365 x 5,000 songs_data rows in Parquet, plus artists_data), through the
// cataloger's real HTTP API. The reference in the same run: the same query
// in-process (engine only, no HTTP), and the cached path next to the uncached one.
// Not a timed test: it prints figures (goals: < 100 ms uncached, < 1 ms cached).
//
//   build/bin/query_benchmark [--days 365] [--songs 5000] [--artists 2000]
// (the suite's short form, ctest bench_query_benchmark, runs a few days of it)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cataloger_service.h"
#include "etl/duck.h"
#include "etl/http_client.h"
#include "etl/log.h"
#include "etl/memory_bus.h"
#include "lake_generator.h"
#include "sql_gate.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct Stats {
  double median, p95;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 95 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  int days = 365, songs = 5000, artists = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--days") days = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--songs") songs = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--artists") artists = std::max(1, std::stoi(argv[i + 1]));
    else return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  etl::log::init("query_benchmark", "warn", "text");
  std::string tmpl = (std::filesystem::temp_directory_path() / "spotify-etl-bench-XXXXXX").string();
  std::filesystem::path dir = ::mkdtemp(tmpl.data());
  std::filesystem::path root = dir / "transformed";

  auto t0 = Clock::now();
  etl::bench::generate_year(root, days, songs, artists);
  std::printf("generated %d partitions x %d songs_data rows (+ %d artists_data rows each) in %.1f s\n", days, songs,
              artists, ms_since(t0) / 1000);

  etl::Config config;
  config.transformed_url = "file://" + root.string();
  config.cataloger_addr = {"127.0.0.1", 0};
  config.bus = "memory";
  etl::cataloger::CatalogerOptions options;
  options.crawl_on_start = false;
  auto svc = etl::cataloger::CatalogerService::create(config, etl::make_memory_bus(), options).value();
  if (!svc->start().ok()) return 1;

  t0 = Clock::now();
  auto crawl = svc->catalog().start_crawl({}).value();
  auto done = svc->catalog().wait_crawl(crawl.crawl_id, 600s).value();
  std::printf("full crawl: %lld files inspected, %lld partitions, %.0f ms\n", static_cast<long long>(done.files_inspected),
              static_cast<long long>(done.partitions_added), ms_since(t0));
  t0 = Clock::now();
  crawl = svc->catalog().start_crawl({}).value();
  done = svc->catalog().wait_crawl(crawl.crawl_id, 600s).value();
  std::printf("incremental crawl, nothing new: %lld files inspected, %.0f ms\n",
              static_cast<long long>(done.files_inspected), ms_since(t0));

  const std::string top10_30d =
      "SELECT a.artist_name, count(*) AS songs, round(avg(s.popularity), 1) AS avg_popularity "
      "FROM songs_data s JOIN artists_data a ON a.artist_id = s.artist_id AND a.dt = s.dt "
      "WHERE s.dt >= '2026-12-02' GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";
  const std::string top10_year =
      "SELECT a.artist_name, count(*) AS songs FROM songs_data s JOIN artists_data a "
      "ON a.artist_id = s.artist_id AND a.dt = s.dt GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";

  etl::http::Client client;
  double last_engine_ms = 0;
  auto post_to = [&](const std::string& base_url, const std::string& sql, bool cached) {
    nlohmann::json body = {{"sql", sql}};
    if (cached) body["max_age_s"] = 3600;
    etl::http::ClientRequest req;
    req.method = "POST";
    req.url = base_url + "/v1/query";
    req.body = body.dump();
    req.headers.emplace_back("Content-Type", "application/json");
    auto r = client.send(req);
    if (!r || r->status != 200) {
      std::fprintf(stderr, "query failed: %s\n", r ? r->body.c_str() : r.error().message.c_str());
      std::exit(1);
    }
    if (!cached) last_engine_ms = nlohmann::json::parse(r->body)["stats"]["elapsed_ms"].get<double>();
  };
  auto post = [&](const std::string& sql, bool cached) { post_to(svc->base_url(), sql, cached); };
  // Queries per second from 8 concurrent HTTP clients for `seconds`.
  auto throughput = [&](const std::string& base_url, bool cached, std::chrono::seconds seconds) {
    std::atomic<long> n{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    auto t = Clock::now();
    for (int c = 0; c < 8; ++c)
      clients.emplace_back([&] {
        while (!stop) {
          post_to(base_url, top10_30d, cached);
          ++n;
        }
      });
    std::this_thread::sleep_for(seconds);
    stop = true;
    for (auto& th : clients) th.join();
    return n.load() / (ms_since(t) / 1000);
  };
  auto in_process = [&](const std::string& sql) {
    etl::QueryRequest q;
    q.sql = sql;
    auto s = svc->queries().start(q).value();
    auto w = svc->queries().wait(s.query_id, 60s).value();
    if (w.state != etl::QueryState::succeeded) std::exit(1);
    (void)svc->queries().page(s.query_id, "");
  };

  for (const auto& [name, sql] : {std::pair{"top-10 artists, last 30 days", top10_30d},
                                  std::pair{"top-10 artists, whole year", top10_year}}) {
    post(sql, false);  // warm the views and the OS cache
    std::vector<double> http_uncached, engine_uncached, http_cached, engine_only;
    for (int i = 0; i < 30; ++i) {
      auto t = Clock::now();
      post(sql, false);
      http_uncached.push_back(ms_since(t));
      engine_only.push_back(last_engine_ms);
    }
    for (int i = 0; i < 30; ++i) {
      auto t = Clock::now();
      in_process(sql);
      engine_uncached.push_back(ms_since(t));
    }
    post(sql, true);
    for (int i = 0; i < 300; ++i) {
      auto t = Clock::now();
      post(sql, true);
      http_cached.push_back(ms_since(t));
    }
    auto hu = stats(http_uncached), eu = stats(engine_uncached), hc = stats(http_cached), eo = stats(engine_only);
    std::printf("\n%s\n", name);
    std::printf("  uncached over HTTP     median %7.2f ms   p95 %7.2f ms\n", hu.median, hu.p95);
    std::printf("  uncached in-process    median %7.2f ms   p95 %7.2f ms   (reference: no HTTP)\n", eu.median, eu.p95);
    std::printf("  DuckDB execution       median %7.2f ms   p95 %7.2f ms   (stats.elapsed_ms of the HTTP runs)\n", eo.median, eo.p95);
    std::printf("  cached over HTTP       median %7.3f ms   p95 %7.3f ms\n", hc.median, hc.p95);
  }

  // Reference: the same query on a bare DuckDB (no cataloger), views over folder
  // globs with union_by_name, as one would write them by hand.
  {
    auto db = etl::duck::Database::open(":memory:", {{"threads", "2"}}).value();
    auto conn = db->connect().value();
    for (std::string table : {"songs_data", "artists_data"})
      (void)conn->execute("CREATE VIEW " + table + " AS SELECT * FROM read_parquet(" +
                          etl::duck::quote_literal((root / table).string() + "/*/*.parquet") +
                          ", hive_partitioning = true, union_by_name = true, hive_types = {'dt': 'VARCHAR'})");
    (void)conn->query(top10_30d);
    std::vector<double> bare;
    for (int i = 0; i < 30; ++i) {
      auto t = Clock::now();
      if (!conn->query(top10_30d).ok()) return 1;
      bare.push_back(ms_since(t));
    }
    auto b = stats(bare);
    std::printf("\nreference: bare DuckDB, glob + union_by_name views, top-10 last 30 days: median %.2f ms  p95 %.2f ms\n",
                b.median, b.p95);
  }

  for (bool cached : {false, true})
    std::printf("\n8 concurrent HTTP clients, top-10 artists last 30 days, %s: %.1f queries/s\n",
                cached ? "cached (max_age_s)" : "uncached", throughput(svc->base_url(), cached, cached ? 3s : 5s));

  // Reference for the cached path: the SQL gate alone, and a second cataloger on
  // the same store whose gate remembers no verdict (each request parsed by DuckDB
  // again, as before the verdict cache), measured in alternating rounds.
  {
    auto db = etl::duck::Database::open(":memory:").value();
    const std::set<std::string> tables{"songs_data", "artists_data"};
    for (std::size_t entries : {std::size_t{0}, std::size_t{1024}}) {
      etl::cataloger::SqlGate gate(db->connect().value(), "spotify", {entries, 4u << 20, 64u << 10});
      std::vector<double> v;
      for (int i = 0; i < 300; ++i) {
        auto t = Clock::now();
        if (!gate.check(top10_30d, tables, 1).ok()) return 1;
        v.push_back(ms_since(t));
      }
      auto g = stats(v);
      std::printf("\nSQL gate alone, top-10 last 30 days, %s: median %.1f us  p95 %.1f us",
                  entries ? "verdict remembered" : "parsed every time (no verdict cache)", g.median * 1000, g.p95 * 1000);
    }
    std::printf("\n");
  }
  {
    etl::cataloger::CatalogerOptions off = options;
    off.gate_verdicts.max_entries = 0;
    auto ref = etl::cataloger::CatalogerService::create(config, etl::make_memory_bus(), off).value();
    if (!ref->start().ok()) return 1;
    crawl = ref->catalog().start_crawl({}).value();
    (void)ref->catalog().wait_crawl(crawl.crawl_id, 600s).value();
    // [0]: this cataloger (verdicts remembered), [1]: the reference (none remembered).
    const std::string urls[2] = {svc->base_url(), ref->base_url()};
    std::vector<double> latency[2];
    double qps[2] = {0, 0};
    post_to(urls[1], top10_30d, true);
    const int rounds = 3;
    for (int round = 0; round < rounds; ++round) {
      for (int k = 0; k < 2; ++k) {
        for (int i = 0; i < 100; ++i) {
          auto t = Clock::now();
          post_to(urls[k], top10_30d, true);
          latency[k].push_back(ms_since(t));
        }
        qps[k] += throughput(urls[k], true, 2s) / rounds;
      }
    }
    auto a = stats(latency[0]), b = stats(latency[1]);
    std::printf("\ncached over HTTP, top-10 last 30 days, %d alternating rounds:\n", rounds);
    std::printf("  gate verdict remembered     median %6.3f ms  p95 %6.3f ms   8 clients %7.1f queries/s\n", a.median,
                a.p95, qps[0]);
    std::printf("  gate parses every request   median %6.3f ms  p95 %6.3f ms   8 clients %7.1f queries/s   (reference)\n",
                b.median, b.p95, qps[1]);
    std::printf("  ratio (reference / remembered): latency %.2fx, throughput %.2fx\n", b.median / a.median,
                qps[0] / qps[1]);
    ref->stop();
  }

  svc->stop();
  svc.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

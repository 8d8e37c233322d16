// Issue 13's load benchmark: a real cataloger under N concurrent heavy queries
// plus M slow clients (headers dribbled a byte at a time), while a prober
// measures GET /healthz. Reports /healthz p50/p99/max, the queries' statuses
// (429 = admission refused), any 5xx other than 503, and the process's peak
// RSS against a limit given with --limit-mib. Goals (issue 13): p99 < 50 ms
// under 64 queries and 500 slow clients; RSS <= limit + 20%; no other 5xx.
//   probe_load_benchmark [--queries 64] [--slow 500] [--seconds 20] [--limit-mib N] [--sql "..."]
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "child_process.h"
#include "etl/http_client.h"
#include "raw_http.h"
#include "test_support.h"

namespace {

using namespace std::chrono;
using etl::testing::RawConnection;

struct Options {
  int queries = 64, slow = 500, seconds = 20;
  long limit_mib = 0;
  std::string sql = "SELECT count(*) AS n, sum(a.range * b.range) AS s FROM range(3000) a, range(3000) b";
};

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--queries") o.queries = std::stoi(v);
    else if (a == "--slow") o.slow = std::stoi(v);
    else if (a == "--seconds") o.seconds = std::stoi(v);
    else if (a == "--limit-mib") o.limit_mib = std::stol(v);
    else if (a == "--sql") o.sql = v;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  etl::testing::TempDir dir;
  const int port = etl::testing::free_port();
  etl::testing::ChildProcess cataloger((std::filesystem::read_symlink("/proc/self/exe").parent_path() / "cataloger").string(), {},
                                       {{"ETL_CATALOGER_ADDR", "127.0.0.1:" + std::to_string(port)},
                                        {"ETL_BUS", "memory"},
                                        {"ETL_TRANSFORMED_URL", dir.url("transformed")},
                                        {"ETL_LOG_LEVEL", "warn"}},
                                       (dir.path() / "cataloger.log").string());
  if (!cataloger.start()) return std::fprintf(stderr, "cannot start the cataloger\n"), 1;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  if (!etl::testing::wait_until([&] { return etl::testing::call("GET", base + "/healthz").status == 200; }, seconds(20)))
    return std::fprintf(stderr, "the cataloger did not come up:\n%s\n", cataloger.log().c_str()), 1;

  std::atomic<bool> stop{false};
  std::mutex m;
  std::map<int, int> statuses;
  std::vector<std::thread> threads;
  const std::string body = nlohmann::json{{"sql", o.sql}, {"timeout_ms", 20000}}.dump();
  for (int i = 0; i < o.queries; ++i)
    threads.emplace_back([&] {
      etl::http::Client client;
      while (!stop) {
        etl::http::ClientRequest req{"POST", base + "/v1/query", {{"Content-Type", "application/json"}}, body};
        req.timeout = seconds(60);
        auto r = client.send(req);
        std::lock_guard lock(m);
        ++statuses[r ? r->status : 0];
      }
    });
  std::atomic<long> slow_reconnects{0};
  for (int t = 0; t < 4; ++t)  // slow clients, a quarter per thread, a byte per second each
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<RawConnection>> conns;
      for (int i = t; i < o.slow; i += 4) {
        conns.push_back(std::make_unique<RawConnection>(port));
        conns.back()->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      }
      while (!stop) {
        for (auto& c : conns)
          if (!c->send("X")) {
            c = std::make_unique<RawConnection>(port);
            c->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            ++slow_reconnects;
          }
        for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(milliseconds(100));
      }
    });
  std::atomic<long> peak_kib{0};
  threads.emplace_back([&] {
    while (!stop) {
      peak_kib = std::max(peak_kib.load(), rss_kib(cataloger.pid()));
      std::this_thread::sleep_for(milliseconds(50));
    }
  });

  std::this_thread::sleep_for(seconds(2));  // let the load build up
  std::vector<double> probe_ms;
  int probe_failures = 0;
  etl::http::Client prober;
  const auto end = steady_clock::now() + seconds(o.seconds);
  while (steady_clock::now() < end) {
    auto t0 = steady_clock::now();
    etl::http::ClientRequest req{"GET", base + "/healthz", {}, ""};
    req.timeout = seconds(30);
    auto r = prober.send(req);
    probe_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    if (!r || r->status != 200) ++probe_failures;
    std::this_thread::sleep_for(milliseconds(50));
  }
  stop = true;
  for (auto& t : threads) t.join();

  int other_5xx = 0, total = 0;
  for (auto [s, n] : statuses) {
    total += n;
    if (s >= 500 && s != 503) other_5xx += n;
  }
  std::printf("load: %d heavy queries in flight, %d slow clients (%ld reconnects after the server closed them), %d s\n",
              o.queries, o.slow, slow_reconnects.load(), o.seconds);
  std::printf("/healthz: %zu probes, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d failed (goal p99 < 50 ms)\n", probe_ms.size(),
              percentile(probe_ms, 0.5), percentile(probe_ms, 0.99), percentile(probe_ms, 1.0), probe_failures);
  std::printf("queries: %d answered:", total);
  for (auto [s, n] : statuses) std::printf(" %d x %d", n, s);
  std::printf("; 429 (queue full) %d; 5xx other than 503: %d (goal 0)\n", statuses[429], other_5xx);
  std::printf("peak RSS: %.1f MiB", static_cast<double>(peak_kib) / 1024);
  if (o.limit_mib > 0)
    std::printf(" = %.2f x the configured %ld MiB (goal <= 1.20)", static_cast<double>(peak_kib) / 1024 / static_cast<double>(o.limit_mib), o.limit_mib);
  std::printf("\n");
  return 0;
}

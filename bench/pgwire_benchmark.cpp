// The PostgreSQL endpoint against POST /v1/query in the same run: 8 clients each
// send a cached dashboard query (top-10 artists of the last 30 days, result reuse
// on: max_age_s=3600 over HTTP, SET etl.max_age_s = 3600 over PostgreSQL) as fast as
// they can; rounds alternate between the two and the ratio of throughputs is
// reported (goal: PostgreSQL >= 90 % of HTTP). The PostgreSQL clients speak the
// simple query protocol over plain sockets (a libpq-like client without libpq).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cataloger_service.h"
#include "etl/duck.h"
#include "etl/http_client.h"
#include "etl/log.h"
#include "etl/memory_bus.h"
#include "pgwire/wire.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kSql =
    "SELECT a.artist_name, count(*) AS songs, round(avg(s.popularity), 1) AS avg_popularity "
    "FROM songs_data s JOIN artists_data a ON a.artist_id = s.artist_id AND a.dt = s.dt "
    "WHERE s.dt >= '2026-01-02' GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10";

void generate(const std::filesystem::path& root, int days) {
  auto db = etl::duck::Database::open(":memory:").value();
  auto conn = db->connect().value();
  for (int d = 0; d < days; ++d) {
    char dt[16];
    std::snprintf(dt, sizeof dt, "2026-01-%02d", d + 1);
    auto sdir = root / "songs_data" / (std::string("dt=") + dt), adir = root / "artists_data" / (std::string("dt=") + dt);
    std::filesystem::create_directories(sdir);
    std::filesystem::create_directories(adir);
    auto s = conn->execute("COPY (SELECT 's' || i AS song_id, (i % 100)::INTEGER AS popularity, 'a' || (i * 7919 % 2000) "
                           "AS artist_id FROM range(5000) t(i)) TO " +
                           etl::duck::quote_literal((sdir / "x.parquet").string()) + " (FORMAT parquet)");
    if (s.ok())
      s = conn->execute("COPY (SELECT 'a' || i AS artist_id, 'Artist ' || i AS artist_name FROM range(2000) t(i)) TO " +
                        etl::duck::quote_literal((adir / "x.parquet").string()) + " (FORMAT parquet)");
    if (!s.ok()) throw std::runtime_error(s.error().message);
  }
}

// A minimal PostgreSQL client: trust authentication, simple queries.
class PgClient {
 public:
  explicit PgClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    etl::pgwire::Writer w;
    std::string body;
    etl::pgwire::Writer b;
    b.i32(etl::pgwire::kProtocolV3);
    b.cstring("user");
    b.cstring("bench");
    b.cstring("database");
    b.cstring("spotify");
    b.byte(0);
    w.i32(static_cast<std::int32_t>(b.buffer().size() + 4));
    w.raw(b.buffer());
    send(w.buffer());
    until_ready();
  }
  ~PgClient() { ::close(fd_); }
  // Runs one query, reading everything up to ReadyForQuery; false on an ErrorResponse.
  bool query(const std::string& sql) {
    etl::pgwire::Writer w;
    w.begin('Q');
    w.cstring(sql);
    w.end();
    rows_ = 0;
    send(w.buffer());
    return until_ready();
  }
  int rows() const noexcept { return rows_; }

 private:
  void send(const std::string& data) {
    if (::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size())) throw std::runtime_error("send");
  }
  void read(char* out, std::size_t n) {
    while (n > 0) {
      if (buf_pos_ == buf_.size()) {
        buf_.resize(65536);
        ssize_t k = ::recv(fd_, buf_.data(), buf_.size(), 0);
        if (k <= 0) throw std::runtime_error("recv");
        buf_.resize(static_cast<std::size_t>(k));
        buf_pos_ = 0;
      }
      std::size_t take = std::min(n, buf_.size() - buf_pos_);
      std::memcpy(out, buf_.data() + buf_pos_, take);
      buf_pos_ += take;
      out += take;
      n -= take;
    }
  }
  bool until_ready() {
    bool ok = true;
    std::string body;
    while (true) {
      char header[5];
      read(header, 5);
      etl::pgwire::Reader r(std::string_view(header + 1, 4));
      body.resize(static_cast<std::size_t>(*r.i32() - 4));
      read(body.data(), body.size());
      if (header[0] == 'E') ok = false;
      if (header[0] == 'D') ++rows_;
      if (header[0] == 'Z') return ok;
    }
  }
  int fd_ = -1;
  std::string buf_;
  std::size_t buf_pos_ = 0;
  int rows_ = 0;
};

double run_clients(int clients, std::chrono::milliseconds span, const std::function<void(std::atomic<bool>&, std::atomic<long>&)>& body) {
  std::atomic<long> n{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto t = Clock::now();
  for (int c = 0; c < clients; ++c) threads.emplace_back([&] { body(stop, n); });
  std::this_thread::sleep_for(span);
  stop = true;
  for (auto& th : threads) th.join();
  return n.load() / std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  etl::log::init("pgwire_benchmark", "warn", "text");
  std::string tmpl = (std::filesystem::temp_directory_path() / "spotify-etl-pgbench-XXXXXX").string();
  std::filesystem::path dir = ::mkdtemp(tmpl.data());
  generate(dir / "transformed", 30);

  etl::Config config;
  config.transformed_url = "file://" + (dir / "transformed").string();
  config.cataloger_addr = {"127.0.0.1", 0};
  config.pg_addr = {"127.0.0.1", 0};
  config.pg_addr_set = true;
  config.bus = "memory";
  etl::cataloger::CatalogerOptions options;
  options.crawl_on_start = false;
  auto svc = etl::cataloger::CatalogerService::create(config, etl::make_memory_bus(), options).value();
  if (!svc->start().ok()) return 1;
  auto crawl = svc->catalog().start_crawl({}).value();
  (void)svc->catalog().wait_crawl(crawl.crawl_id, 600s);

  const std::string url = svc->base_url() + "/v1/query";
  const std::string http_body = nlohmann::json{{"sql", kSql}, {"max_age_s", 3600}}.dump();
  auto http = [&](std::atomic<bool>& stop, std::atomic<long>& n) {
    etl::http::Client client;
    while (!stop) {
      etl::http::ClientRequest req;
      req.method = "POST";
      req.url = url;
      req.body = http_body;
      req.headers.emplace_back("Content-Type", "application/json");
      auto r = client.send(req);
      if (!r || r->status != 200) std::exit((std::fprintf(stderr, "HTTP query failed\n"), 1));
      ++n;
    }
  };
  auto pg = [&](std::atomic<bool>& stop, std::atomic<long>& n) {
    PgClient client(svc->pg_port());
    client.query("SET etl.max_age_s = 3600");
    while (!stop) {
      if (!client.query(kSql)) std::exit((std::fprintf(stderr, "PostgreSQL query failed\n"), 1));
      ++n;
    }
  };
  {
    PgClient check(svc->pg_port());
    if (!check.query(kSql) || check.rows() != 10) return (std::fprintf(stderr, "PostgreSQL: expected 10 rows\n"), 1);
    etl::http::Client client;
    etl::http::ClientRequest req;
    req.method = "POST";
    req.url = url;
    req.body = http_body;
    req.headers.emplace_back("Content-Type", "application/json");
    auto r = client.send(req);
    if (!r || nlohmann::json::parse(r->body)["rows"].size() != 10) return (std::fprintf(stderr, "HTTP: expected 10 rows\n"), 1);
  }
  run_clients(8, 1s, http);  // warm: the result is cached after the first query
  run_clients(8, 1s, pg);
  std::printf("8 clients, cached top-10 artists of 30 days (%d rounds of 3 s each, alternating)\n", rounds);
  double http_sum = 0, pg_sum = 0;
  for (int i = 0; i < rounds; ++i) {
    double h = run_clients(8, 3s, http), p = run_clients(8, 3s, pg);
    http_sum += h;
    pg_sum += p;
    std::printf("round %d: HTTP %.0f queries/s, PostgreSQL %.0f queries/s, ratio %.2f\n", i + 1, h, p, p / h);
  }
  std::printf("mean: HTTP %.0f queries/s, PostgreSQL %.0f queries/s, PostgreSQL/HTTP = %.2f (goal >= 0.90)\n",
              http_sum / rounds, pg_sum / rounds, pg_sum / http_sum);
  svc->stop();
  svc.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

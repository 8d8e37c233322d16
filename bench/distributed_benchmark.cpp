// The distributed deployment against the embedded one, in one run, on the same
// machine and the same bytes:
//  (a) events/s through the transformer: N raw objects (extractor envelopes of
//      100-item playlist pages, spotify_raw_generator.h) already in the raw
//      store, their S3 ObjectCreated events published on a fresh raw topic; the
//      clock runs from the first publish until every object's three outputs
//      are announced on the transformed topic. Passes: embedded (in-process
//      service, in-process bus, file:// stores: the reference), two one-change
//      steps (MinIO stores only; Kafka only, one `transformer` process), then
//      Kafka + MinIO with 1 and with 2 `transformer` processes; ratios to the
//      embedded pass, and Kafka + MinIO to the in-process bus on MinIO (same stores).
//      The -quota passes hold each transformer process to --transformer-cpus cores
//      (a cgroup CFS quota, as a Kubernetes CPU limit; left out, with a note, where
//      no cgroup is writable) and compare 2 processes with 1, beside the most the
//      keys' split over the partitions allowed; embedded-quota holds the embedded
//      pass (this process, for its measured part) to the same share, so Kafka +
//      MinIO with one process is also compared with embedded at equal CPU, with
//      MinIO and Kafka on the rest of the machine, as on cores of their own. Each pass's clock starts after a
//      sync() and quiet servers (MinIO, Kafka); what the passes wrote is deleted at the end.
//  (b) freshness: `POST /v1/runs` of a 100-track playlist (local fake Spotify)
//      -> 100 rows answering `/v1/query`, alternately on the embedded services
//      (freshness_benchmark's method) and on three processes (`extractor`,
//      `transformer`, `cataloger`) over Kafka with the raw store on MinIO.
//
// Needs the test servers' variables (ETL_TEST_KAFKA_BOOTSTRAP, ETL_TEST_S3_*):
// bench/run_distributed_bench.sh starts private servers and runs this.
//
//   distributed_benchmark [--objects 60] [--pages 1] [--per-page 100] [--warmup 12] [--rounds 5]
//                         [--runs 15] [--transformed-url URL] [--only throughput|freshness]
//                         [--work-dir DIR] [--bin-dir DIR] [--transformer-cpus 0.05]
//                         [--passes minio,kafka,kafka-minio,kafka-minio-2,kafka-minio-quota,kafka-minio-quota-2,embedded-quota]
// --transformed-url: the transformed store of the distributed freshness pipeline,
// shared by its transformer and cataloger (default: a prefix of the test bucket in
// MinIO, as deployed, the cataloger querying its local copy; file:///dir for a
// shared folder). --rounds: the throughput passes are run that many times in turn
// and compared round by round (other work on the machine comes and goes). --passes: the
// throughput passes to run beside the embedded one (always run: the reference), by id.
// ETL_TOPIC_PARTITIONS (default 6): the partitions of the pass's topics, for the benchmark and
// the service processes alike.
// ETL_BENCH_SERVICE_LOG_LEVEL (default warn): the service processes' ETL_LOG_LEVEL (info
// logs every batch and what cut it); ETL_BENCH_KEEP=1 keeps --work-dir and their logs.
//
// Over 400 lines on purpose: every pass of the comparison (the embedded reference and
// the distributed passes) runs in one process and one run, so the servers, workloads and
// passes are set up here together; each piece is its own function.
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "cataloger_service.h"
#include "etl/http_client.h"
#include "etl/log.h"
#include "etl/memory_bus.h"
#include "etl/object_store.h"
#include "etl/s3_event.h"
#include "extractor_service.h"
#include "fake_spotify.h"
#include "percentile.h"
#include "spotify_raw_generator.h"
#include "table_writer.h"
#include "transform.h"
#include "transformer_service.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

struct Options {
  int objects = 60;
  int pages = 1;
  int per_page = 100;
  int warmup = 12;
  int runs = 15;
  int rounds = 5;
  std::string transformed_url;  // freshness, distributed
  std::string only;
  std::string passes = "minio,kafka,kafka-minio,kafka-minio-2,kafka-minio-quota,kafka-minio-quota-2,embedded-quota";
  // The CPU share of each transformer process in the -quota passes: small enough that
  // Kafka and MinIO on the same 2 cores keep CPU to spare for two of them (bench/README, run Q).
  double transformer_cpus = 0.05;
  std::string work_dir = (fs::temp_directory_path() / ("spotify-etl-dist-bench-" + std::to_string(::getpid()))).string();
  std::string bin_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
};

struct Servers {
  std::string kafka, endpoint, access_key, secret_key, region, bucket;
  int kafka_pid = 0, minio_pid = 0;
  etl::AwsConfig aws() const {
    etl::AwsConfig a;
    a.region = region;
    a.access_key_id = access_key;
    a.secret_access_key = secret_key;
    a.endpoint_url_s3 = endpoint;
    return a;
  }
};

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

using etl::bench::percentile;

std::string unique_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000);
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout, std::chrono::milliseconds every = 20ms) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// --- HTTP ---------------------------------------------------------------------
etl::http::Client& http() {
  static etl::http::Client client;
  return client;
}

std::pair<int, json> call(const std::string& method, const std::string& url, const json& body = nullptr) {
  etl::http::ClientRequest req{method, url, {}, {}};
  if (!body.is_null()) {
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
  }
  auto res = http().send(req);
  if (!res) return {0, nullptr};
  return {res->status, json::parse(res->body, nullptr, false)};
}

// A string member of a JSON object, "" for anything else.
std::string field(const json& j, const char* name) {
  return j.is_object() && j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string();
}

std::string get_text(const std::string& url) {
  etl::http::ClientRequest req;
  req.url = url;
  auto res = http().send(req);
  return res ? res->body : std::string();
}

// A sample (no labels) from Prometheus text: "name 12.5".
double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + " ", 0) == 0) return std::atof(line.c_str() + name.size() + 1);
  return 0;
}

// --- CPU accounting from /proc ------------------------------------------------
struct Proc {
  int pid = 0, ppid = 0;
  std::string comm;
  double cpu = 0;  // user + system seconds so far
};

std::vector<Proc> processes() {
  std::vector<Proc> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    Proc p;
    p.pid = std::atoi(name.c_str());
    p.comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
    if (f.size() < 13) continue;
    p.ppid = std::atoi(f[1].c_str());
    p.cpu = (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / tick;
    out.push_back(p);
  }
  return out;
}

double tree_cpu(const std::vector<Proc>& all, int root) {
  double sum = 0;
  for (const auto& p : all)
    if (p.pid == root) sum += p.cpu;
  for (const auto& p : all)
    if (p.ppid == root && root > 0) sum += tree_cpu(all, p.pid);
  return sum;
}

// Seconds the live threads of `pid` waited, runnable, for a CPU (schedstat's second field).
double runqueue_wait(int pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    double on_cpu = 0, waiting = 0;
    if (in >> on_cpu >> waiting) ns += waiting;
  }
  return ns / 1e9;
}

// VmHWM (peak resident set) of `pid`, MB.
double peak_rss_mb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return 0;
}

struct Cpu {
  double self = 0, transformers = 0, kafka = 0, minio = 0;
  double waited = 0;              // runqueue wait of the transformer(s) and this process
  long long busy = 0, total = 0;  // jiffies of the whole machine
  Cpu operator-(const Cpu& o) const {
    return {self - o.self, transformers - o.transformers, kafka - o.kafka, minio - o.minio, waited - o.waited,
            busy - o.busy, total - o.total};
  }
};

Cpu cpu_now(const Servers& s) {
  Cpu c;
  auto all = processes();
  const int me = ::getpid();
  for (const auto& p : all) {
    if (p.pid == me) c.self = p.cpu;
    if (p.ppid == me && p.comm == "transformer") {
      c.transformers += p.cpu;
      c.waited += runqueue_wait(p.pid);
    }
  }
  c.waited += runqueue_wait(me);
  c.kafka = tree_cpu(all, s.kafka_pid);
  c.minio = tree_cpu(all, s.minio_pid);
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long v[8] = {};
  in >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  for (long long x : v) c.total += x;
  c.busy = c.total - v[3] - v[4];  // minus idle and iowait
  return c;
}

// Before a pass's clock starts: the pages its upload left dirty written out, and
// MinIO and Kafka quiet again (writing out what the upload left them), for at most
// 10 s, so that work does not fall into the measured part. Other work on the machine
// is not waited for.
void settle(const Servers& s) {
  ::sync();
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    const Cpu before = cpu_now(s);
    std::this_thread::sleep_for(250ms);
    const Cpu d = cpu_now(s) - before;
    if (d.minio + d.kafka < 0.05 * 0.25) return;  // under 5 % of a core between them
  }
}

// --- Kafka group membership (librdkafka's ListGroups) ---------------------------
class GroupProbe {
 public:
  explicit GroupProbe(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) rd_kafka_conf_destroy(conf);
  }
  ~GroupProbe() {
    if (rk_) rd_kafka_destroy(rk_);
  }
  GroupProbe(const GroupProbe&) = delete;
  GroupProbe& operator=(const GroupProbe&) = delete;

  // Deletes a pass's topics when it is over. Without it the broker's partition count
  // grows pass by pass, and with it the broker's own CPU (mostly system time: each
  // new partition maps fresh index files): on this machine, from the third round
  // on, Kafka spent 17-30 ms of CPU per event instead of 1-3, and every later
  // pass measured the broker's backlog, not the transformer.
  void delete_topics(const std::vector<std::string>& names) {
    if (rk_ == nullptr || names.empty()) return;
    std::vector<rd_kafka_DeleteTopic_t*> topics;
    for (const auto& n : names) topics.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_);
    rd_kafka_DeleteTopics(rk_, topics.data(), topics.size(), nullptr, queue);
    if (rd_kafka_event_t* done = rd_kafka_queue_poll(queue, 10000)) rd_kafka_event_destroy(done);  // best effort
    rd_kafka_queue_destroy(queue);
    rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
  }

  // Partitions held by each member while the group is Stable; empty otherwise.
  std::vector<int> stable_assignment(const std::string& group) {
    std::vector<int> out;
    const rd_kafka_group_list* list = nullptr;
    if (rk_ == nullptr || rd_kafka_list_groups(rk_, group.c_str(), &list, 3000) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
    if (list->group_cnt == 1 && std::string(list->groups[0].state) == "Stable")
      for (int m = 0; m < list->groups[0].member_cnt; ++m) out.push_back(partitions(list->groups[0].members[m]));
    rd_kafka_group_list_destroy(list);
    return out;
  }

 private:
  // ConsumerProtocolAssignment: int16 version, [int16-string topic, [int32 partition]], user data.
  static int partitions(const rd_kafka_group_member_info& m) {
    const auto* b = static_cast<const unsigned char*>(m.member_assignment);
    const std::size_t n = static_cast<std::size_t>(m.member_assignment_size);
    std::size_t at = 2;
    auto i32 = [&](std::size_t p) { return p + 4 <= n ? (b[p] << 24 | b[p + 1] << 16 | b[p + 2] << 8 | b[p + 3]) : 0; };
    const int topics = i32(at);
    at += 4;
    int total = 0;
    for (int t = 0; t < topics && at + 2 <= n; ++t) {
      at += 2 + static_cast<std::size_t>(b[at] << 8 | b[at + 1]);
      const int count = i32(at);
      total += count;
      at += 4 + 4 * static_cast<std::size_t>(count);
    }
    return total;
  }
  rd_kafka_t* rk_ = nullptr;
};

// --- What arrives on a transformed topic ----------------------------------------
// Reads a topic on its own thread and timestamps every event on arrival, by the
// raw object it came from (the output file's stem).
class EventWatcher {
 public:
  explicit EventWatcher(std::unique_ptr<etl::Consumer> consumer)
      : consumer_(std::move(consumer)), thread_([this] { run(); }) {}
  ~EventWatcher() {
    stop_ = true;
    thread_.join();
    consumer_->close();
  }
  EventWatcher(const EventWatcher&) = delete;
  EventWatcher& operator=(const EventWatcher&) = delete;

  // When the last of `stems` had its `outputs` distinct events; nullopt while one is missing.
  std::optional<Clock::time_point> done(const std::vector<std::string>& stems, std::size_t outputs) const {
    std::lock_guard lock(mutex_);
    Clock::time_point last{};
    for (const auto& s : stems) {
      auto it = stems_.find(s);
      if (it == stems_.end() || it->second.keys.size() < outputs) return std::nullopt;
      last = std::max(last, it->second.last);
    }
    return last;
  }
  // The first event whose key holds both strings, at or after `after`.
  std::optional<Clock::time_point> first(const std::string& a, const std::string& b, Clock::time_point after = {}) const {
    std::lock_guard lock(mutex_);
    for (const auto& [key, at] : events_)
      if (at >= after && key.find(a) != std::string::npos && key.find(b) != std::string::npos) return at;
    return std::nullopt;
  }
  // When the last event arrived.
  Clock::time_point last() const {
    std::lock_guard lock(mutex_);
    return events_.empty() ? Clock::time_point{} : events_.back().second;
  }
  // Distinct keys holding `a` announced at or after `after`, by their folder (the day partition).
  std::map<std::string, std::set<std::string>> keys(const std::string& a, Clock::time_point after) const {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [key, at] : events_)
      if (at >= after && key.find(a) != std::string::npos) out[key.substr(0, key.rfind('/'))].insert(key);
    return out;
  }

 private:
  struct Stem {
    std::set<std::string> keys;
    Clock::time_point last{};
  };
  void run() {
    while (!stop_) {
      auto m = consumer_->poll(50ms);
      if (!m.ok() || !m->has_value()) continue;
      const auto at = Clock::now();
      const std::string& key = (**m).key;  // the object key (the services publish it as the Kafka key)
      std::string file = key.substr(key.rfind('/') == std::string::npos ? 0 : key.rfind('/') + 1);
      std::lock_guard lock(mutex_);
      events_.emplace_back(key, at);
      auto& s = stems_[file.substr(0, file.rfind('.'))];
      if (s.keys.insert(key).second) s.last = at;
    }
  }
  std::unique_ptr<etl::Consumer> consumer_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Clock::time_point>> events_;
  std::map<std::string, Stem> stems_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- A CPU share for one process ------------------------------------------------------
// A cgroup of the `cpu` controller holding a CFS quota: `cpus` cores' worth of
// time per 100 ms period, what a Kubernetes pod's `resources.limits.cpu` sets.
// cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us); both need a writable hierarchy
// (root, or a delegated subtree). The group is removed once its process is gone.
class CpuQuota {
 public:
  static std::unique_ptr<CpuQuota> create(double cpus, std::string* error) {
    constexpr long period = 100000;  // us
    const long quota = std::max(1000L, std::lround(cpus * period));
    const std::string name = "spotify-etl-bench-" + unique_suffix();
    (void)home();  // read before this process first moves into a group: it is where leave() returns
    std::error_code ec;
    const bool v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers", ec);
    const fs::path dir = v2 ? fs::path("/sys/fs/cgroup") / name : fs::path("/sys/fs/cgroup/cpu") / name;
    if (v2) write("/sys/fs/cgroup/cgroup.subtree_control", "+cpu");  // may be on already
    if (!fs::create_directory(dir, ec)) return *error = "cannot create " + dir.string() + ": " + ec.message(), nullptr;
    auto q = std::unique_ptr<CpuQuota>(new CpuQuota(dir));
    const bool set = v2 ? write(dir / "cpu.max", std::to_string(quota) + " " + std::to_string(period))
                        : write(dir / "cpu.cfs_period_us", std::to_string(period)) &&
                              write(dir / "cpu.cfs_quota_us", std::to_string(quota));
    if (!set) return *error = "cannot set the CPU quota in " + dir.string(), nullptr;
    return q;
  }
  ~CpuQuota() {
    std::error_code ec;
    fs::remove(dir_, ec);  // rmdir: fails while a process is still in it
  }
  CpuQuota(const CpuQuota&) = delete;
  CpuQuota& operator=(const CpuQuota&) = delete;

  // Moves the process, with every thread it has, into the group.
  bool add(int pid) const { return write(dir_ / "cgroup.procs", std::to_string(pid)); }
  // Moves this process back into the cgroup (of the cpu controller) it started in,
  // and checks that it is there.
  static bool leave() {
    return !home().empty() && write(home() / "cgroup.procs", std::to_string(::getpid())) && current_group() == home();
  }

 private:
  explicit CpuQuota(fs::path dir) : dir_(std::move(dir)) {}
  static const fs::path& home() {
    static const fs::path group = current_group();
    return group;
  }
  // This process's group now, from /proc/self/cgroup: "0::/path" (v2) or
  // "N:cpu,cpuacct:/path" (v1).
  static fs::path current_group() {
    std::error_code ec;
    const bool v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers", ec);
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",";
      const std::string path = line.substr(b + 1);
      if (v2 && line.starts_with("0::")) return fs::path("/sys/fs/cgroup" + path);
      if (!v2 && controllers.find(",cpu,") != std::string::npos) return fs::path("/sys/fs/cgroup/cpu" + path);
    }
    return {};
  }
  static bool write(const fs::path& file, const std::string& value) {
    std::ofstream out(file);
    out << value;
    out.flush();
    return static_cast<bool>(out);
  }
  fs::path dir_;
};

// --- Service processes ------------------------------------------------------------
struct Service {
  std::string name, url;
  std::unique_ptr<CpuQuota> quota;  // declared first: removed after the process is gone
  std::unique_ptr<etl::testing::ChildProcess> process;
};

Service spawn(const Options& o, const std::string& name, std::map<std::string, std::string> env, const std::string& tag) {
  const int port = etl::testing::free_port();
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  env["ETL_" + upper + "_ADDR"] = "127.0.0.1:" + std::to_string(port);
  Service s{name, "http://127.0.0.1:" + std::to_string(port), nullptr, nullptr};
  s.process = std::make_unique<etl::testing::ChildProcess>(o.bin_dir + "/" + name, std::vector<std::string>{}, env,
                                                          o.work_dir + "/" + name + "-" + tag + ".log");
  if (!s.process->start()) s.process.reset();
  return s;
}

// SIGTERM: consumers leave their group at once (a SIGKILLed one would hold the next rebalance).
void stop_all(std::vector<Service>& services) {
  for (auto& s : services)
    if (s.process) s.process->kill(SIGTERM);
  for (auto& s : services)
    if (s.process) s.process->wait_exit(15s);
}

bool all_ready(const std::vector<Service>& services) {
  for (const auto& s : services)
    if (call("GET", s.url + "/readyz").first != 200) return false;
  return true;
}

void print_logs(const std::vector<Service>& services) {
  for (const auto& s : services) {
    if (!s.process) continue;
    const std::string log = s.process->log();
    std::fprintf(stderr, "--- %s log (tail)\n%s\n", s.name.c_str(), log.substr(log.size() > 3000 ? log.size() - 3000 : 0).c_str());
  }
}

std::map<std::string, std::string> service_env(const Servers& s, const etl::Config& c) {
  return {{"ETL_BUS", "kafka"},
          {"ETL_KAFKA_BOOTSTRAP_SERVERS", s.kafka},
          {"ETL_TOPIC_RAW", c.topic_raw},
          {"ETL_TOPIC_TRANSFORMED", c.topic_transformed},
          {"ETL_TOPIC_DLQ", c.topic_dlq},
          {"ETL_RAW_URL", c.raw_url},
          {"ETL_TRANSFORMED_URL", c.transformed_url},
          {"AWS_ENDPOINT_URL_S3", s.endpoint},
          {"AWS_ACCESS_KEY_ID", s.access_key},
          {"AWS_SECRET_ACCESS_KEY", s.secret_key},
          {"AWS_REGION", s.region},
          {"ETL_LOG_LEVEL", env_or("ETL_BENCH_SERVICE_LOG_LEVEL", "warn")}};
}

etl::Config base_config(const Servers& s, const std::string& suffix) {
  etl::Config c = etl::load_config({}, etl::ConfigDefaults{"memory"}).value();
  c.kafka_bootstrap_servers = s.kafka;
  c.aws = s.aws();
  c.topic_raw = "bench.raw." + suffix;
  c.topic_transformed = "bench.transformed." + suffix;
  c.topic_dlq = "bench.dlq." + suffix;
  // The service processes inherit the environment: the benchmark must expect the
  // partition count they create the raw topic with.
  if (const std::string p = env_or("ETL_TOPIC_PARTITIONS"); !p.empty()) c.topic_partitions = std::stoi(p);
  return c;
}

// --- (a) throughput ---------------------------------------------------------------
struct Variant {
  std::string id;  // --passes
  std::string name;
  bool kafka = false;  // else the in-process bus and an in-process TransformerService
  bool s3 = false;     // else file:// stores
  int processes = 0;   // `transformer` processes (kafka only)
  double cpus = 0;     // > 0: each process held to this many cores (a CFS quota), as a Kubernetes CPU limit does
};

struct Pass {
  Variant variant;
  double wall = 0;                // s, from the first publish to the last output announced
  double pipeline_ms = 0;         // mean Pipeline::run (get .. announce), from /metrics
  std::vector<long> per_process;  // objects each transformer did
  Cpu cpu;
  double files_per_partition = 0;  // songs_data files announced per day partition in the measured part
  double peak_rss_mb = 0;          // the largest VmHWM of the transformer processes (0: in-process)
};

struct Workload {
  std::vector<std::string> bytes;  // one raw object each (the warm-up ones reuse them)
  std::uint64_t measured_bytes = 0;
  static std::string name(char kind, int i) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "spotify_raw_20261121T060000Z_playlist_37i9dQZF1DXcBWIGoYBM5M_%c%04d.json", kind, i);
    return buf;
  }
  static std::string stem(char kind, int i) {
    std::string n = name(kind, i);
    return n.substr(0, n.size() - 5);
  }
};

// Deletes what the passes wrote. Without it the raw objects, their processed/ copies
// and the tables of every pass stayed in the bucket: on test servers kept between
// runs, 3,000-object passes filled this machine's disk. A file:// pass's folder goes
// as soon as the pass is measured; the bucket's prefixes only when every pass is
// done (written_to_s3), because MinIO frees a deleted object later, in a sweep of
// its trash every few minutes, which would land in the middle of a later pass.
struct WrittenToS3 {
  std::vector<std::string> urls;
  etl::AwsConfig aws;
};
WrittenToS3& written_to_s3() {
  static WrittenToS3 written;
  return written;
}

void remove_pass_objects(const std::vector<std::string>& urls, const etl::AwsConfig& aws) {
  for (const auto& url : urls) {
    auto store = etl::open_object_store(url, aws);
    if (!store) continue;
    auto listed = (*store)->list("");
    if (!listed) {
      std::fprintf(stderr, "cannot list %s to clean it up: %s\n", url.c_str(), listed.error().message.c_str());
      continue;
    }
    std::vector<std::string> keys;
    for (const auto& info : *listed) keys.push_back(info.key);
    if (etl::Status removed = (*store)->remove_all(keys); !removed.ok())
      std::fprintf(stderr, "cannot clean up %s: %s\n", url.c_str(), removed.error().message.c_str());
  }
}

std::optional<Pass> run_pass(const Options& o, const Servers& s, const Workload& w, const Variant& v) {
  const std::string suffix = unique_suffix();
  etl::Config cfg = base_config(s, suffix);
  const std::string root = "bench-" + suffix;
  cfg.raw_url = v.s3 ? "s3://" + s.bucket + "/" + root + "/raw" : "file://" + o.work_dir + "/" + root + "/raw";
  cfg.transformed_url = v.s3 ? "s3://" + s.bucket + "/" + root + "/transformed" : "file://" + o.work_dir + "/" + root + "/transformed";
  cfg.transformer_addr = {"127.0.0.1", 0};
  cfg.bus = v.kafka ? "kafka" : "memory";
  cfg.log_level = "error";

  auto raw = etl::open_object_store(cfg.raw_url, cfg.aws);
  if (!raw) return std::fprintf(stderr, "raw store: %s\n", raw.error().message.c_str()), std::nullopt;
  std::shared_ptr<etl::EventBus> bus;
  if (v.kafka) {
    auto k = etl::open_event_bus(cfg, "distributed-benchmark");
    if (!k) return std::fprintf(stderr, "kafka: %s\n", k.error().message.c_str()), std::nullopt;
    bus = *k;
  } else {
    bus = etl::make_memory_bus();
  }
  auto sub = bus->subscribe({cfg.topic_transformed}, "bench-watch-" + suffix);
  if (!sub) return std::fprintf(stderr, "subscribe: %s\n", sub.error().message.c_str()), std::nullopt;
  auto watcher = std::make_unique<EventWatcher>(std::move(sub).value());

  std::vector<Service> procs;
  std::unique_ptr<etl::transformer::TransformerService> inproc;
  std::vector<std::string> urls;
  // An in-process pass held to a share: this process, for the measured part only.
  std::unique_ptr<CpuQuota> held;
  bool inside = false;
  auto fail = [&](const char* what) -> std::optional<Pass> {
    if (inside) CpuQuota::leave();
    std::fprintf(stderr, "%s: %s\n", v.name.c_str(), what);
    print_logs(procs);
    stop_all(procs);
    if (inproc) inproc->stop();
    return std::nullopt;
  };
  if (v.kafka) {
    for (int p = 0; p < v.processes; ++p) {
      procs.push_back(spawn(o, "transformer", service_env(s, cfg), suffix + "-" + std::to_string(p)));
      if (!procs.back().process) return fail("cannot start the transformer binary");
      if (v.cpus > 0) {
        std::string error;
        procs.back().quota = CpuQuota::create(v.cpus, &error);
        if (procs.back().quota && !procs.back().quota->add(procs.back().process->pid()))
          error = "cannot move the process into its cgroup";
        if (!error.empty()) return fail(("cannot hold the transformer to its CPU share: " + error).c_str());
      }
      urls.push_back(procs.back().url);
    }
    if (!wait_until([&] { return all_ready(procs); }, 60s, 100ms)) return fail("transformers not ready");
  } else {
    if (v.cpus > 0) {
      std::string error;
      if (!(held = CpuQuota::create(v.cpus, &error))) return fail(("cannot make a cgroup for the CPU share: " + error).c_str());
    }
    auto created = etl::transformer::TransformerService::create(cfg, bus);
    if (!created || !(*created)->start().ok()) return fail("cannot start the in-process transformer");
    inproc = std::move(created).value();
    urls.push_back(inproc->base_url());
  }
  // The start-up scan of to_be_processed/ must be over before our objects land there.
  for (const auto& url : urls) {
    const std::string job = field(call("GET", url + "/v1/status").second, "startup_job_id");
    if (!wait_until([&] {
          auto state = field(call("GET", url + "/v1/jobs/" + job).second, "state");
          return state != "" && state != "queued" && state != "running";
        }, 60s))
      return fail("the start-up scan did not finish");
  }

  std::vector<std::string> warm_stems, stems;
  std::vector<std::pair<std::string, std::string>> warm_events, events;  // (Kafka key, S3 event document)
  auto land = [&](char kind, int i, std::vector<std::string>& st, std::vector<std::pair<std::string, std::string>>& ev) {
    const std::string& bytes = w.bytes[static_cast<std::size_t>(i) % w.bytes.size()];
    const std::string key = "to_be_processed/" + Workload::name(kind, i);
    auto put = (*raw)->put(key, bytes);
    if (!put) return false;
    etl::ObjectCreated e;
    e.bucket = (*raw)->bucket();
    e.key = (*raw)->event_key(key);
    e.size = bytes.size();
    e.etag = put->etag;
    e.event_time = etl::rfc3339_millis(std::chrono::system_clock::now());
    st.push_back(Workload::stem(kind, i));
    ev.emplace_back(e.key, etl::build_s3_event(e));
    return true;
  };
  for (int i = 0; i < o.warmup; ++i)
    if (!land('w', i, warm_stems, warm_events)) return fail("cannot write the warm-up objects");
  for (int i = 0; i < o.objects; ++i)
    if (!land('m', i, stems, events)) return fail("cannot write the raw objects");

  GroupProbe probe(s.kafka);
  auto group_stable = [&] {
    if (!v.kafka) return true;
    auto members = probe.stable_assignment(etl::transformer::kConsumerGroup);
    int sum = 0;
    for (int n : members) sum += n;
    return static_cast<int>(members.size()) == v.processes && sum == cfg.topic_partitions &&
           std::none_of(members.begin(), members.end(), [](int n) { return n == 0; });
  };
  auto publish_all = [&](const std::vector<std::pair<std::string, std::string>>& ev) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> ok{true};
    std::vector<std::thread> threads;
    constexpr std::size_t chunk = 10;  // as an extractor run lands its objects: several at once
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (std::size_t i; (i = next.fetch_add(chunk)) < ev.size();) {
          std::vector<etl::OutgoingMessage> batch;
          for (std::size_t j = i; j < std::min(ev.size(), i + chunk); ++j) batch.push_back({ev[j].first, ev[j].second, {}});
          if (!bus->publish_batch(cfg.topic_raw, batch).ok()) ok = false;
        }
      });
    for (auto& t : threads) t.join();
    return ok.load();
  };

  const char* consumed = "spotify_etl_events_consumed_total{consumer=\"transformer\"}";
  auto consumed_now = [&] {
    double n = 0;
    for (const auto& url : urls) n += metric(get_text(url + "/metrics"), consumed);
    return n;
  };
  if (!wait_until(group_stable, 60s, 200ms)) return fail("the transformer group never became stable");
  if (!publish_all(warm_events)) return fail("publish failed");
  if (!wait_until([&] { return consumed_now() >= o.warmup; }, 120s)) return fail("warm-up objects never transformed");
  if (!wait_until(group_stable, 30s, 200ms)) return fail("the transformer group is rebalancing");

  settle(s);
  std::vector<std::string> before;
  for (const auto& url : urls) before.push_back(get_text(url + "/metrics"));
  if (held) {
    if (!held->add(::getpid())) return fail("cannot move this process into its cgroup");
    inside = true;
  }
  const double consumed0 = consumed_now();
  const Cpu cpu0 = cpu_now(s);
  const auto t0 = Clock::now();
  if (!publish_all(events)) return fail("publish failed");
  // Done when every event is acknowledged (after its outputs were announced); the
  // clock stops at the last announcement seen, so asking every 100 ms costs no
  // precision (asking every 10 ms took a tenth of a transformer held to 0.15 CPU).
  if (!wait_until([&] { return consumed_now() >= consumed0 + o.objects; }, 600s, 100ms))
    return fail("not every event was handled");
  // The announcements reach the watcher through the bus, a little after the acks:
  // without one of this pass, its time would be measured from nothing.
  if (!wait_until([&] { return watcher->last() >= t0; }, 30s))
    return fail("the watcher saw no announcement of this pass");
  const Cpu used = cpu_now(s) - cpu0;
  if (inside && !CpuQuota::leave()) return fail("cannot move this process back out of its cgroup");
  inside = false;
  Pass pass;
  pass.cpu = used;
  pass.variant = v;
  pass.wall = seconds(watcher->last() - t0);
  const auto files = watcher->keys("songs_data/", t0);
  std::size_t nfiles = 0;
  for (const auto& [folder, k] : files) nfiles += k.size();
  pass.files_per_partition = files.empty() ? 0 : static_cast<double>(nfiles) / static_cast<double>(files.size());
  const int me = ::getpid();
  for (const auto& p : processes())
    if (p.ppid == me && p.comm == "transformer") pass.peak_rss_mb = std::max(pass.peak_rss_mb, peak_rss_mb(p.pid));
  double sum = 0, count = 0;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    const std::string after = get_text(urls[i] + "/metrics");
    const char* objects = "spotify_etl_objects_transformed_total";
    pass.per_process.push_back(std::lround(metric(after, objects) - metric(before[i], objects)));
    sum += metric(after, "spotify_etl_transform_duration_seconds_sum") - metric(before[i], "spotify_etl_transform_duration_seconds_sum");
    count += metric(after, "spotify_etl_transform_duration_seconds_count") - metric(before[i], "spotify_etl_transform_duration_seconds_count");
  }
  pass.pipeline_ms = count > 0 ? 1000 * sum / count : 0;
  stop_all(procs);
  if (inproc) inproc->stop();
  watcher.reset();
  if (v.kafka) probe.delete_topics({cfg.topic_raw, cfg.topic_transformed, cfg.topic_dlq});
  for (const auto& url : {cfg.raw_url, cfg.transformed_url}) {
    if (url.rfind("s3://", 0) != 0) remove_pass_objects({url}, cfg.aws);
    else written_to_s3().urls.push_back(url);
  }
  written_to_s3().aws = cfg.aws;
  return pass;
}

// The transform core alone, one thread, on the same objects: raw bytes -> rows of
// all objects -> one Parquet file per table (what one batch of them writes), no I/O.
double core_seconds(const Workload& w, int objects) {
  etl::transformer::TableWriter writer;
  const auto t0 = Clock::now();
  etl::transformer::Table albums(etl::transformer::albums_schema()), artists(etl::transformer::artists_schema()),
      songs(etl::transformer::songs_schema());
  for (int i = 0; i < objects; ++i) {
    auto out = etl::transformer::transform_raw(w.bytes[static_cast<std::size_t>(i) % w.bytes.size()],
                                              {"to_be_processed/" + Workload::name('m', i), std::nullopt});
    if (!out) return std::fprintf(stderr, "core: %s\n", out.error().message.c_str()), 1e9;
    albums.append(out->albums);
    artists.append(out->artists);
    songs.append(out->songs);
  }
  for (const auto* t : {&albums, &artists, &songs})
    if (!writer.write(*t, etl::OutputFormat::parquet)) return 1e9;
  return seconds(Clock::now() - t0);
}

// One line per pass. Per event, in ms: CPU of the transformer(s) (with this
// process, which is the transformer in the in-process passes), the time their
// threads waited runnable for a CPU, CPU of the Kafka broker and of MinIO.
void print_pass(const Pass& p, const Workload& w, int objects, const Pass& reference, const char* tag) {
  const double eps = objects / p.wall, mbs = static_cast<double>(w.measured_bytes) / 1e6 / p.wall;
  std::string split;
  for (long n : p.per_process) split += (split.empty() ? "" : "/") + std::to_string(n);
  const double per = 1000.0 / objects;
  std::printf("%-3s %-41s %6.2f s %6.1f %6.1f %6.2f x %6.1f ms  %-6s %5.1f %5.1f %5.1f %5.1f  %3.0f %%  %5.1f  %5.0f\n", tag,
              p.variant.name.c_str(), p.wall, eps, mbs, reference.wall / p.wall, p.pipeline_ms, split.c_str(),
              (p.cpu.transformers + p.cpu.self) * per, p.cpu.waited * per, p.cpu.kafka * per, p.cpu.minio * per,
              p.cpu.total > 0 ? 100.0 * static_cast<double>(p.cpu.busy) / static_cast<double>(p.cpu.total) : 0.0,
              p.files_per_partition, p.peak_rss_mb);
  std::fflush(stdout);
}

// Median time of one publish (acks=all, the bus's linger.ms=5), one at a time, as
// the transformer announces its three outputs.
double publish_latency_ms(const Servers& s) {
  etl::Config cfg = base_config(s, unique_suffix());
  cfg.bus = "kafka";
  auto bus = etl::open_event_bus(cfg, "distributed-benchmark");
  if (!bus || !(*bus)->publish(cfg.topic_dlq, "k", "warm-up").ok()) return 0;
  std::vector<double> v;
  for (int i = 0; i < 30; ++i) {
    const auto t0 = Clock::now();
    if (!(*bus)->publish(cfg.topic_dlq, "k" + std::to_string(i), "{}").ok()) return 0;
    v.push_back(ms(Clock::now() - t0));
  }
  return percentile(v, 0.5);
}

int throughput(const Options& o, const Servers& s) {
  Workload w;
  for (int i = 0; i < std::max(o.objects, o.warmup); ++i)
    w.bytes.push_back(etl::bench::playlist_envelope(o.pages, o.per_page, 1000 + static_cast<std::uint64_t>(i)));
  for (int i = 0; i < o.objects; ++i) w.measured_bytes += w.bytes[static_cast<std::size_t>(i) % w.bytes.size()].size();
  std::printf("(a) transformer throughput: %d raw objects of %d page(s) x %d items (%.2f MB each, %.1f MB in all),\n"
              "    events published from 4 threads after %d warm-up objects; clock: first publish -> last of the 3 x %d\n"
              "    output events seen on the transformed topic. %d round(s) of the passes.\n"
              "    Machine: %u cores, shared by the transformers, Kafka, MinIO, this process (and other work).\n\n",
              o.objects, o.pages, o.per_page, static_cast<double>(w.bytes[0].size()) / 1e6,
              static_cast<double>(w.measured_bytes) / 1e6, o.warmup, o.objects, o.rounds, std::thread::hardware_concurrency());
  std::printf("%-45s %8s %6s %6s %8s %9s  %-6s %s\n", "    pass", "wall", "ev/s", "MB/s", "vs emb", "batch",
              "split", "ms/event: transf. CPU, its wait for a CPU, kafka CPU, minio CPU; machine busy; "
              "songs_data files per day partition; peak RSS MB of a transformer process");
  std::vector<Variant> variants = {{"embedded", "embedded: in-process bus, file:// stores", false, false, 0},
                                   {"minio", "in-process bus, MinIO stores", false, true, 0},
                                   {"kafka", "Kafka, file:// stores, 1 process", true, false, 1},
                                   {"kafka-minio", "Kafka + MinIO, 1 transformer process", true, true, 1},
                                   {"kafka-minio-2", "Kafka + MinIO, 2 transformer processes", true, true, 2}};
  // Two processes against one when each has a CPU share of its own, as pods with a
  // CPU limit have: whether the consumer group scales, apart from the 2 cores that
  // the unlimited passes above share with Kafka and MinIO.
  char share[32];
  std::snprintf(share, sizeof share, "%.2f", o.transformer_cpus);
  variants.push_back({"kafka-minio-quota", std::string("Kafka + MinIO, 1 process, ") + share + " CPU", true, true, 1, o.transformer_cpus});
  variants.push_back({"kafka-minio-quota-2", std::string("Kafka + MinIO, 2 processes, ") + share + " CPU each", true, true, 2, o.transformer_cpus});
  // The embedded pipeline at the same share: Kafka + MinIO at equal CPU for the pipeline,
  // MinIO and Kafka on the rest of the machine (as on cores of their own, in a deployment).
  variants.push_back({"embedded-quota", std::string("embedded, ") + share + " CPU", false, false, 0, o.transformer_cpus});
  const std::string wanted = "," + o.passes + ",";
  std::erase_if(variants, [&](const Variant& v) {
    return v.id != "embedded" && wanted.find("," + v.id + ",") == std::string::npos;
  });
  if (std::any_of(variants.begin(), variants.end(), [](const Variant& v) { return v.cpus > 0; })) {
    std::string error;
    if (!CpuQuota::create(o.transformer_cpus, &error)) {
      std::printf("    (the passes with a CPU share are left out: %s; they need a writable cgroup cpu controller)\n", error.c_str());
      std::erase_if(variants, [](const Variant& v) { return v.cpus > 0; });
    }
  }
  auto index_of = [&](const std::string& id) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < variants.size(); ++i)
      if (variants[i].id == id) return i;
    return std::nullopt;
  };
  std::vector<std::vector<Pass>> passes(variants.size());  // [variant][round]
  std::vector<double> core;                               // MB/s per round
  for (int r = 0; r < o.rounds; ++r) {
    const double core_s = core_seconds(w, o.objects);
    core.push_back(static_cast<double>(w.measured_bytes) / 1e6 / core_s);
    std::printf("r%-2d %-41s %6.2f s %6.1f %6.1f   (one thread, no I/O: the reference for the embedded pass)\n", r + 1,
                "transform core: raw -> rows -> 3 Parquet", core_s, o.objects / core_s, core.back());
    for (std::size_t i = 0; i < variants.size(); ++i) {
      auto p = run_pass(o, s, w, variants[i]);
      if (!p) return 1;
      passes[i].push_back(*p);
      print_pass(*p, w, o.objects, passes[0].back(), ("r" + std::to_string(r + 1)).c_str());
    }
  }
  // Other work on the machine comes and goes: a pass is compared with the
  // passes of its own round, and the rounds' ratios are summarised by their median.
  auto ratios = [&](std::size_t a, std::size_t b) {  // events/s of a / events/s of b, per round
    std::vector<double> v;
    for (int r = 0; r < o.rounds; ++r) v.push_back(passes[b][static_cast<std::size_t>(r)].wall / passes[a][static_cast<std::size_t>(r)].wall);
    return v;
  };
  auto list = [](const std::vector<double>& v) {
    std::string out;
    for (double x : v) out += (out.empty() ? "" : " ") + std::to_string(x).substr(0, 4);
    return out;
  };
  const double mb = static_cast<double>(w.measured_bytes) / 1e6;
  std::printf("\n%-45s %9s %9s %9s   %s\n", "    over the rounds", "median", "best", "MB/s", "vs embedded, same round (median; each round)");
  for (std::size_t i = 0; i < variants.size(); ++i) {
    std::vector<double> eps;
    for (const auto& p : passes[i]) eps.push_back(o.objects / p.wall);
    const auto vs = ratios(i, 0);
    std::printf("    %-41s %6.1f/s %6.1f/s %9.1f   %5.2f x  (%s)\n", variants[i].name.c_str(), percentile(eps, 0.5),
                *std::max_element(eps.begin(), eps.end()), percentile(eps, 0.5) * mb / o.objects, percentile(vs, 0.5),
                list(vs).c_str());
  }
  std::vector<double> emb_vs_core;
  for (int r = 0; r < o.rounds; ++r)
    emb_vs_core.push_back(static_cast<double>(w.measured_bytes) / 1e6 / passes[0][static_cast<std::size_t>(r)].wall /
                          core[static_cast<std::size_t>(r)]);
  std::printf("\n    embedded pipeline / transform core (MB/s, same round): %.2f x (median; rounds: %s); core median %.1f MB/s\n",
              percentile(emb_vs_core, 0.5), list(emb_vs_core).c_str(), percentile(core, 0.5));
  if (auto same = index_of("minio"), one = index_of("kafka-minio"); same && one) {
    // The same stores on both sides: what the bus and the process boundary cost
    // apart from MinIO's own CPU, which caps both on a machine that also runs it.
    const auto apart = ratios(*one, *same);
    std::printf("\n    Kafka + MinIO, 1 process / in-process bus with MinIO stores (same stores): %.2f x (median; rounds: %s)\n",
                percentile(apart, 0.5), list(apart).c_str());
  }
  if (auto one = index_of("kafka-minio"), two = index_of("kafka-minio-2"); one && two) {
    const auto two_one = ratios(*two, *one);
    std::printf("\n    Kafka + MinIO, 2 processes / 1 process: %.2f x (median; rounds: %s) on %u cores\n",
                percentile(two_one, 0.5), list(two_one).c_str(), std::thread::hardware_concurrency());
  }
  if (auto one = index_of("kafka-minio-quota"), two = index_of("kafka-minio-quota-2"); one && two) {
    // How much of its share a transformer used: near 100 % when the share, not
    // Kafka, MinIO or the machine, is what holds the pass back.
    auto used = [&](std::size_t i) {
      std::vector<double> v;
      for (const auto& p : passes[i])
        v.push_back(100.0 * p.cpu.transformers / p.wall / (p.variant.cpus * p.variant.processes));
      return percentile(v, 0.5);
    };
    // The keys' split over the partitions is uneven by chance, and the process with
    // more events sets the pass's time: 2 / 1 can reach at most objects / its events.
    std::vector<double> bound;
    for (const auto& p : passes[*two]) {
      const long most = p.per_process.empty() ? 0 : *std::max_element(p.per_process.begin(), p.per_process.end());
      bound.push_back(most > 0 ? static_cast<double>(o.objects) / static_cast<double>(most) : 0.0);
    }
    const auto two_one = ratios(*two, *one);
    std::printf("    Kafka + MinIO, each process held to %.2f CPU: 2 processes / 1 process: %.2f x (median; rounds: %s);"
                " share used %.0f %% (1 process), %.0f %% (2); the split allowed at most %s x\n",
                o.transformer_cpus, percentile(two_one, 0.5), list(two_one).c_str(), used(*one), used(*two),
                list(bound).c_str());
  }
  if (auto one = index_of("kafka-minio-quota"), emb = index_of("embedded-quota"); one && emb) {
    const auto same_share = ratios(*one, *emb);
    // Share used: the transformer process's CPU; on the embedded side this process's,
    // which holds the pipeline (and the benchmark's own publishing and polling).
    auto used = [&](std::size_t i, bool self) {
      std::vector<double> v;
      for (const auto& p : passes[i]) v.push_back(100.0 * (self ? p.cpu.self : p.cpu.transformers) / p.wall / p.variant.cpus);
      return percentile(v, 0.5);
    };
    std::printf("    Kafka + MinIO, 1 process / embedded, each held to %.2f CPU (MinIO and Kafka on the rest of the machine):"
                " %.2f x (median; rounds: %s); share used %.0f %% (Kafka + MinIO), %.0f %% (embedded)\n",
                o.transformer_cpus, percentile(same_share, 0.5), list(same_share).c_str(), used(*one, false), used(*emb, true));
  }
  std::printf("    one Kafka publish (acks=all, linger.ms=5), one at a time: median %.1f ms (the transformer announces its 3"
              " outputs together: one such wait per object)\n\n", publish_latency_ms(s));
  return 0;
}

// --- (b) freshness -------------------------------------------------------------------
struct Sample {
  double total = 0;      // POST /v1/runs -> rows answer
  double succeeded = 0;  // -> GET /v1/runs/{id} says succeeded (polled)
  double landed = 0;     // -> the raw object's event seen on the raw topic
  double announced = 0;  // -> its songs_data output's event seen on the transformed topic
};

std::optional<Sample> fresh_run(const std::string& extractor, const std::string& cataloger, const EventWatcher& watcher) {
  const auto t0 = Clock::now();
  auto [status, started] =
      call("POST", extractor + "/v1/runs", {{"sources", {{{"type", "playlist"}, {"id", etl::fakespotify::kDemoPlaylistId}}}}});
  if (status != 202 || !started.contains("run_id")) {
    std::fprintf(stderr, "run not accepted (%d): %s\n", status, started.dump().c_str());
    return std::nullopt;
  }
  const std::string run_id = started["run_id"];
  const json count = {{"sql", "SELECT count(*) FROM songs_data WHERE run_id = '" + run_id + "'"}};
  Clock::time_point succeeded{};
  for (;;) {  // freshness_benchmark's loop
    if (succeeded == Clock::time_point{} && field(call("GET", extractor + "/v1/runs/" + run_id).second, "status") == "succeeded")
      succeeded = Clock::now();
    auto q = call("POST", cataloger + "/v1/query", count).second;
    if (q.is_object() && q["rows"].is_array() && q["rows"].size() == 1 && q["rows"][0][0] == 100) break;
    if (ms(Clock::now() - t0) > 60000) {
      std::fprintf(stderr, "rows never arrived for %s\n", run_id.c_str());
      return std::nullopt;
    }
    std::this_thread::sleep_for(2ms);
  }
  const auto t1 = Clock::now();
  if (succeeded == Clock::time_point{}) succeeded = t1;
  const auto raw_event = watcher.first("to_be_processed/", run_id).value_or(t1);
  // Batch files are not named after the raw object: the first songs_data file after its event.
  const auto announced = watcher.first("songs_data/", "", raw_event).value_or(t1);
  const auto landed = std::min(raw_event, announced);
  return Sample{ms(t1 - t0), ms(succeeded - t0), ms(landed - t0), ms(announced - t0)};
}

void print_freshness(const char* name, const std::vector<Sample>& v) {  // times in ms
  std::vector<double> total, succeeded, extract, transform, rest;
  for (const auto& x : v) {
    total.push_back(x.total);
    succeeded.push_back(x.succeeded);
    extract.push_back(x.landed);
    transform.push_back(x.announced - x.landed);
    rest.push_back(x.total - x.announced);
  }
  std::printf("%-42s %7.1f %7.1f %7.1f %7.1f   %7.1f %7.1f %7.1f   %7.1f\n", name, percentile(total, 0.5),
              percentile(total, 0.9), *std::min_element(total.begin(), total.end()),
              *std::max_element(total.begin(), total.end()), percentile(extract, 0.5), percentile(transform, 0.5),
              percentile(rest, 0.5), percentile(succeeded, 0.5));
}

int freshness(const Options& o, const Servers& s) {
  etl::fakespotify::FakeSpotifyServer spotify;
  if (spotify.start() <= 0) return 1;
  const etl::fakespotify::FakeSpotifyOptions creds;

  // Embedded, as freshness_benchmark and `spotify-etl up`.
  const std::string suffix = unique_suffix();
  etl::Config emb = base_config(s, suffix + "-emb");
  emb.extractor_addr = emb.transformer_addr = emb.cataloger_addr = {"127.0.0.1", 0};
  emb.raw_url = "file://" + o.work_dir + "/fresh-" + suffix + "/embedded/raw";
  emb.transformed_url = "file://" + o.work_dir + "/fresh-" + suffix + "/embedded/transformed";
  emb.spotify_api_url = spotify.api_url();
  emb.spotify_accounts_url = spotify.accounts_url();
  emb.spotify_client_id = creds.client_id;
  emb.spotify_client_secret = creds.client_secret;
  std::shared_ptr<etl::EventBus> memory = etl::make_memory_bus();
  auto cataloger = etl::cataloger::CatalogerService::create(emb, memory);
  auto transformer = etl::transformer::TransformerService::create(emb, memory);
  auto extractor = etl::extractor::ExtractorService::create(emb, memory);
  if (!cataloger || !transformer || !extractor) return std::fprintf(stderr, "cannot create the embedded services\n"), 1;
  if (!(*cataloger)->start().ok() || !(*transformer)->start().ok() || !(*extractor)->start().ok()) return 1;
  EventWatcher emb_watch(memory->subscribe({emb.topic_raw, emb.topic_transformed}, "bench-watch").value());

  // Distributed: three processes, Kafka, raw objects on MinIO.
  etl::Config dist = base_config(s, suffix);
  dist.raw_url = "s3://" + s.bucket + "/fresh-" + suffix + "/raw";
  // As deployed: the transformed tables in MinIO too, the cataloger querying its local copy.
  dist.transformed_url =
      o.transformed_url.empty() ? "s3://" + s.bucket + "/fresh-" + suffix + "/transformed" : o.transformed_url;
  dist.bus = "kafka";
  auto env = service_env(s, dist);
  env["ETL_CATALOG_CACHE_DIR"] = o.work_dir + "/fresh-" + suffix + "/cataloger-cache";
  env["SPOTIFY_API_URL"] = spotify.api_url();
  env["SPOTIFY_ACCOUNTS_URL"] = spotify.accounts_url();
  env["SPOTIFY_CLIENT_ID"] = creds.client_id;
  env["SPOTIFY_CLIENT_SECRET"] = creds.client_secret;
  std::vector<Service> procs;
  for (const char* name : {"cataloger", "transformer", "extractor"}) {
    procs.push_back(spawn(o, name, env, "fresh-" + suffix));
    if (!procs.back().process) return std::fprintf(stderr, "cannot start %s\n", name), 1;
  }
  auto kafka = etl::open_event_bus(dist, "distributed-benchmark");
  if (!kafka) return std::fprintf(stderr, "kafka: %s\n", kafka.error().message.c_str()), 1;
  EventWatcher dist_watch((*kafka)->subscribe({dist.topic_raw, dist.topic_transformed}, "bench-watch-" + suffix).value());
  if (!wait_until([&] { return all_ready(procs); }, 60s, 100ms)) {
    print_logs(procs);
    stop_all(procs);
    return 1;
  }

  std::printf("(b) freshness: POST /v1/runs (one 100-track playlist, local fake Spotify) -> 100 rows answering /v1/query;\n"
              "    %d runs each after one warm-up run, embedded and distributed alternately. Distributed: 3 processes,\n"
              "    Kafka, raw store %s, transformed store %s.\n\n",
              o.runs, dist.raw_url.c_str(), dist.transformed_url.c_str());
  std::vector<Sample> e_samples, d_samples;
  const std::string e_runs = (*extractor)->base_url(), e_query = (*cataloger)->base_url();
  const std::string d_runs = procs[2].url, d_query = procs[0].url;
  int rc = 0;
  for (int i = 0; i < o.runs + 1 && rc == 0; ++i) {
    auto e = fresh_run(e_runs, e_query, emb_watch);
    auto d = fresh_run(d_runs, d_query, dist_watch);
    if (!e || !d) {
      print_logs(procs);
      rc = 1;
    } else if (i > 0) {
      e_samples.push_back(*e);
      d_samples.push_back(*d);
    }
  }
  if (rc == 0) {
    std::printf("%-42s %7s %7s %7s %7s   %7s %7s %7s   %7s   (ms)\n", "", "median", "p90", "min", "max", "extract",
                "transf.", "crawl+q", "run ok");
    print_freshness("embedded (in-process bus, file://)", e_samples);
    const std::string name = std::string("distributed (Kafka, MinIO raw, ") +
                             (dist.transformed_url.rfind("s3://", 0) == 0 ? "S3" : "file://") + " out)";
    print_freshness(name.c_str(), d_samples);
    std::vector<double> et, dt;
    for (const auto& x : e_samples) et.push_back(x.total);
    for (const auto& x : d_samples) dt.push_back(x.total);
    std::printf("distributed / embedded: median %.2f x, p90 %.2f x\n"
                "(stages, medians of each: extract = until the raw object's event is seen on the raw topic; transf. = until\n"
                " its songs_data event is seen on the transformed topic; crawl+q = debounced crawl + the query answering;\n"
                " run ok = until GET /v1/runs/{id} said succeeded, polled between queries as freshness_benchmark does)\n",
                percentile(dt, 0.5) / percentile(et, 0.5), percentile(dt, 0.9) / percentile(et, 0.9));
  }
  stop_all(procs);
  (*extractor)->stop();
  (*transformer)->stop();
  (*cataloger)->stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--objects") o.objects = std::stoi(v);
    else if (a == "--pages") o.pages = std::stoi(v);
    else if (a == "--per-page") o.per_page = std::stoi(v);
    else if (a == "--warmup") o.warmup = std::stoi(v);
    else if (a == "--runs") o.runs = std::stoi(v);
    else if (a == "--rounds") o.rounds = std::max(1, std::stoi(v));
    else if (a == "--transformed-url") o.transformed_url = v;
    else if (a == "--only") o.only = v;
    else if (a == "--work-dir") o.work_dir = v;
    else if (a == "--bin-dir") o.bin_dir = v;
    else if (a == "--passes") o.passes = v;
    else if (a == "--transformer-cpus") o.transformer_cpus = std::stod(v);
    else return std::fprintf(stderr, "unknown option %s (see the comment at the top of bench/distributed_benchmark.cpp)\n", a.c_str()), 2;
  }
  Servers s{env_or("ETL_TEST_KAFKA_BOOTSTRAP"), env_or("ETL_TEST_S3_ENDPOINT"), env_or("ETL_TEST_S3_ACCESS_KEY"),
            env_or("ETL_TEST_S3_SECRET_KEY"),  env_or("ETL_TEST_S3_REGION", "us-east-1"), env_or("ETL_TEST_S3_BUCKET"),
            std::atoi(env_or("ETL_TEST_KAFKA_PID", "0").c_str()), std::atoi(env_or("ETL_TEST_MINIO_PID", "0").c_str())};
  if (s.kafka.empty() || s.endpoint.empty() || s.bucket.empty()) {
    std::fprintf(stderr, "needs ETL_TEST_KAFKA_BOOTSTRAP, ETL_TEST_S3_ENDPOINT, ETL_TEST_S3_BUCKET (and keys): "
                         "run bench/run_distributed_bench.sh\n");
    return 2;
  }
  etl::log::init("distributed-benchmark", "error", "json");
  fs::create_directories(o.work_dir);
  int rc = 0;
  if (o.only.empty() || o.only == "throughput") rc = throughput(o, s);
  if (rc == 0 && (o.only.empty() || o.only == "freshness")) rc = freshness(o, s);
  remove_pass_objects(written_to_s3().urls, written_to_s3().aws);
  if (rc == 0) {
    std::error_code ec;
    if (!std::getenv("ETL_BENCH_KEEP")) fs::remove_all(o.work_dir, ec);
  } else {
    std::fprintf(stderr, "service logs kept in %s\n", o.work_dir.c_str());
  }
  return rc;
}

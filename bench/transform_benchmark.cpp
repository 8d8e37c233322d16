// The transformer's hot path against references, in one run, on the same bytes:
//  (1) simdjson alone: DOM parse, and On-Demand visiting every value;
//  (2) the transformer: raw bytes -> rows -> Parquet bytes of the three tables, one thread;
//  (3) the seed pipelines' pandas transform (bench/pandas_transform.py), CSV and Parquet;
// then, in a child process, the peak RSS of the service path on the largest
// realistic object, and a refused too-large object.
//
// Usage: transform_benchmark [--pages 100] [--per-page 100] [--repeat 5] [--work-dir DIR]
//                            [--python PYTHON --pandas-script bench/pandas_transform.py]
// (bench/run_transform_bench.sh passes the last two.)
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <iostream>
#include <string>
#include <vector>

#include "etl/memory_bus.h"
#include "etl/object_store.h"
#include "pipeline.h"
#include "spotify_raw_generator.h"
#include "table_writer.h"
#include "transform.h"

namespace {

namespace fs = std::filesystem;
namespace od = simdjson::ondemand;
using etl::OutputFormat;

struct Options {
  int pages = 100;
  int per_page = 100;
  int repeat = 5;
  std::string work_dir = (fs::temp_directory_path() / "spotify-etl-bench").string();
  std::string python;
  std::string pandas_script;
  std::string rss_child;  // internal: measure memory on this raw file, print JSON
};

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The best of `repeat` runs, in CPU time of this thread: everything measured
// here runs on the calling thread (DuckDB is opened with threads=1), and CPU
// time is not inflated when other processes share the cores. Wall time of the
// best run is kept too.
struct Timing {
  double cpu = 0, wall = 0;
};

Timing best_of(int repeat, const std::function<void()>& body) {
  Timing best{1e30, 1e30};
  for (int i = 0; i < repeat; ++i) {
    auto w0 = std::chrono::steady_clock::now();
    double c0 = thread_cpu_seconds();
    body();
    best.cpu = std::min(best.cpu, thread_cpu_seconds() - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
  }
  return best;
}

double mb_s(std::size_t bytes, double seconds) { return static_cast<double>(bytes) / 1e6 / seconds; }

// Visits every value the way a consumer that needs all of it would: keys and
// strings unescaped, numbers parsed.
simdjson::error_code visit(od::value v, std::uint64_t& n) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  ++n;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto f : o) {
        std::string_view k;
        if (auto e = f.unescaped_key().get(k)) return e;
        od::value child;
        if (auto e = f.value().get(child)) return e;
        if (auto e = visit(child, n)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto el : a) {
        od::value child;
        if (auto e = el.get(child)) return e;
        if (auto e = visit(child, n)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number: {
      double d;
      return v.get_double().get(d);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;
}

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  return -1;
}

// The child: the service path (Pipeline::run: get, transform, three Parquet
// puts, move, announce) on one large object, with RSS before and at the peak.
int rss_child(const std::string& file) {
  const long cold_kb = status_kb("VmRSS:");
  const fs::path dir = fs::path(file).parent_path() / "rss";
  fs::remove_all(dir);
  etl::AwsConfig aws;
  std::shared_ptr<etl::ObjectStore> raw = etl::open_object_store("file://" + (dir / "raw").string(), aws).value();
  std::shared_ptr<etl::ObjectStore> out = etl::open_object_store("file://" + (dir / "out").string(), aws).value();
  auto bus = etl::make_memory_bus();
  etl::MetricsRegistry registry;
  etl::transformer::TransformerMetrics metrics(registry);
  const std::string big_key = "to_be_processed/spotify_raw_20261121T060000Z_playlist_big_r.json";
  const std::string small_key = "to_be_processed/spotify_raw_20261121T060000Z_playlist_small_r.json";
  const auto size = fs::file_size(file);
  fs::create_directories(dir / "raw/to_be_processed");
  fs::copy_file(file, dir / "raw" / big_key);
  raw->put(small_key, etl::bench::playlist_envelope(1, 20, 7)).value();

  // A service that has done some work and sits idle: DuckDB open, parser allocated.
  etl::transformer::Pipeline warm(raw, out, bus, {OutputFormat::parquet, 256ull << 20, "t"}, metrics);
  if (!warm.run(small_key)) return 1;
  const long idle_kb = status_kb("VmRSS:");
  const long idle_hwm_kb = status_kb("VmHWM:");

  // Over the limit: refused before reading a byte.
  etl::transformer::Pipeline limited(raw, out, bus, {OutputFormat::parquet, size - 1, "t"}, metrics);
  auto refused = limited.run(big_key);
  const long after_refusal_hwm_kb = status_kb("VmHWM:");

  auto done = warm.run(big_key);
  const long peak_kb = status_kb("VmHWM:");
  std::printf(
      "{\"file_bytes\":%llu,\"cold_rss_kb\":%ld,\"idle_rss_kb\":%ld,\"idle_hwm_kb\":%ld,\"peak_kb\":%ld,"
      "\"refused\":\"%s\",\"refusal_hwm_growth_kb\":%ld,\"ok\":%s,\"songs\":%llu}\n",
      static_cast<unsigned long long>(size), cold_kb, idle_kb, idle_hwm_kb, peak_kb,
      refused ? "accepted" : etl::to_string(refused.error().code), after_refusal_hwm_kb - idle_hwm_kb,
      done ? "true" : "false", done ? static_cast<unsigned long long>(done->songs_rows) : 0ull);
  fs::remove_all(dir);
  return done ? 0 : 1;
}

std::string run_command(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  return out;
}

nlohmann::json last_json_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') last = line;
  return nlohmann::json::parse(last, nullptr, false);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--pages") o.pages = std::stoi(v);
    else if (a == "--per-page") o.per_page = std::stoi(v);
    else if (a == "--repeat") o.repeat = std::stoi(v);
    else if (a == "--work-dir") o.work_dir = v;
    else if (a == "--python") o.python = v;
    else if (a == "--pandas-script") o.pandas_script = v;
    else if (a == "--rss-child") o.rss_child = v;
  }
  if (!o.rss_child.empty()) return rss_child(o.rss_child);

  fs::create_directories(o.work_dir);
  const std::string raw = etl::bench::playlist_envelope(o.pages, o.per_page);
  const std::string file = (fs::path(o.work_dir) / "spotify_raw_20261121T060000Z_playlist_37i9dQZF1DXcBWIGoYBM5M_bench.json").string();
  std::ofstream(file, std::ios::binary) << raw;
  const simdjson::padded_string padded(raw);
  std::printf("input: %d pages x %d items, %.1f MB (%s), %zu markets per track and album\n", o.pages, o.per_page,
              raw.size() / 1e6, file.c_str(), std::size(etl::bench::kMarkets));
  std::printf("each figure: the best of %d runs, one thread; CPU time of the measuring thread and wall time\n\n", o.repeat);

  // (1) simdjson alone.
  simdjson::dom::parser dom;
  const Timing dom_t = best_of(o.repeat, [&] {
    simdjson::dom::element doc;
    if (dom.parse(padded).get(doc)) std::abort();
  });
  od::parser ondemand;
  std::uint64_t values = 0;
  const Timing od_t = best_of(o.repeat, [&] {
    od::document doc;
    if (ondemand.iterate(padded).get(doc)) std::abort();
    od::value root;
    if (doc.get_value().get(root)) std::abort();
    values = 0;
    if (visit(root, values)) std::abort();
  });

  // (2) the transformer, end to end and by stage. Like simdjson above (and the
  // service, which pads the string it read), it parses a padded buffer in place.
  etl::transformer::RawObjectMeta meta{file, std::nullopt};
  std::string in_place = raw;
  in_place.reserve(raw.size() + simdjson::SIMDJSON_PADDING);
  std::uint64_t parquet_bytes = 0, songs = 0;
  const Timing e2e_t = best_of(o.repeat, [&] {
    auto out = etl::transformer::transform_raw_in_place(in_place, meta);
    if (!out) std::abort();
    parquet_bytes = 0;
    for (const auto* t : {&out->albums, &out->artists, &out->songs}) {
      auto bytes = etl::transformer::write_table(*t, OutputFormat::parquet);
      if (!bytes) std::abort();
      parquet_bytes += bytes->size();
    }
    songs = out->songs.rows();
  });
  const Timing rows_t = best_of(o.repeat, [&] {
    if (!etl::transformer::transform_raw_in_place(in_place, meta)) std::abort();
  });
  const Timing copy_t = best_of(o.repeat, [&] {
    if (!etl::transformer::transform_raw(raw, meta)) std::abort();  // the string_view API copies first
  });
  auto rows = etl::transformer::transform_raw(raw, meta).value();
  const Timing parquet_t = best_of(o.repeat, [&] {
    for (const auto* t : {&rows.albums, &rows.artists, &rows.songs})
      if (!etl::transformer::write_table(*t, OutputFormat::parquet)) std::abort();
  });
  const Timing csv_t = best_of(o.repeat, [&] {
    for (const auto* t : {&rows.albums, &rows.artists, &rows.songs})
      if (!etl::transformer::write_table(*t, OutputFormat::csv)) std::abort();
  });

  const std::size_t n = raw.size();
  std::printf("                                              CPU time      wall time\n");
  std::printf("(1) simdjson DOM parse                       %6.0f MB/s   %6.0f MB/s\n", mb_s(n, dom_t.cpu), mb_s(n, dom_t.wall));
  std::printf("(1) simdjson On-Demand, every value visited  %6.0f MB/s   %6.0f MB/s  (%llu values)\n", mb_s(n, od_t.cpu),
              mb_s(n, od_t.wall), static_cast<unsigned long long>(values));
  std::printf("(2) transformer raw -> Parquet bytes         %6.0f MB/s   %6.0f MB/s  (%llu songs/object, %.2f MB of Parquet, %.0f songs/s)\n",
              mb_s(n, e2e_t.cpu), mb_s(n, e2e_t.wall), static_cast<unsigned long long>(songs), parquet_bytes / 1e6,
              songs / e2e_t.cpu);
  std::printf("    of which raw -> rows (simdjson + rules)  %6.0f MB/s   %6.0f MB/s  (%.1f ms)\n", mb_s(n, rows_t.cpu),
              mb_s(n, rows_t.wall), rows_t.cpu * 1e3);
  std::printf("    (raw -> rows from an unpadded string_view %6.0f MB/s   %6.0f MB/s: one copy more)\n", mb_s(n, copy_t.cpu),
              mb_s(n, copy_t.wall));
  std::printf("    of which rows -> Parquet (DuckDB)        %6.1f ms      %6.1f ms\n", parquet_t.cpu * 1e3, parquet_t.wall * 1e3);
  std::printf("    (rows -> CSV instead                     %6.1f ms      %6.1f ms)\n", csv_t.cpu * 1e3, csv_t.wall * 1e3);
  std::printf("(2)/(1) vs simdjson On-Demand, every value   %6.0f %%       %6.0f %%     (goal >= 50 %%)\n",
              100.0 * od_t.cpu / e2e_t.cpu, 100.0 * od_t.wall / e2e_t.wall);
  std::printf("(2)/(1) vs simdjson DOM parse                %6.0f %%       %6.0f %%\n", 100.0 * dom_t.cpu / e2e_t.cpu,
              100.0 * dom_t.wall / e2e_t.wall);
  const Timing e2e = e2e_t;

  if (!o.python.empty() && !o.pandas_script.empty()) {
    auto p = last_json_line(run_command(o.python + " " + o.pandas_script + " " + file + " --repeat " +
                                        std::to_string(std::max(1, o.repeat / 2)) + " 2>&1"));
    if (p.is_object() && p.contains("csv_seconds")) {
      const double pandas_csv = p["csv_seconds"], pandas_parquet = p.value("parquet_seconds", 0.0);
      std::printf("(3) pandas (seed transform) -> CSV           %6.1f MB/s  (%s songs, pandas %s)\n",
                  mb_s(n, pandas_csv), p["songs"].dump().c_str(), p.value("pandas", "?").c_str());
      if (pandas_parquet > 0)
        std::printf("(3) pandas (seed transform) -> Parquet       %6.1f MB/s  (pyarrow %s)\n", mb_s(n, pandas_parquet),
                    p.value("pyarrow", "?").c_str());
      std::printf("(2)/(3) transformer vs pandas                %6.0f x      (both Parquet; %s)\n",
                  (pandas_parquet > 0 ? pandas_parquet : pandas_csv) / e2e.cpu, "pandas: process CPU time");
    } else {
      std::printf("(3) pandas: no result (%s)\n", p.dump().c_str());
    }
  } else {
    std::printf("(3) pandas: skipped (run bench/run_transform_bench.sh, or pass --python and --pandas-script)\n");
  }

  // Memory, in a fresh process: the service path on this object.
  auto m = last_json_line(run_command(std::string(argv[0]) + " --rss-child " + file + " 2>/dev/null"));
  if (m.is_object() && m.contains("peak_kb")) {
    const double size_kb = m["file_bytes"].get<double>() / 1024.0;
    const long idle = m["idle_rss_kb"], cold = m["cold_rss_kb"], peak = m["peak_kb"];
    std::printf("\nmemory, service path (get, transform, 3 Parquet puts, move) on the %.1f MB object:\n",
                m["file_bytes"].get<double>() / 1e6);
    std::printf("    RSS idle (warm service) %ld KB, cold start %ld KB, peak (VmHWM) %ld KB\n", idle, cold, peak);
    std::printf("    peak above idle: %.2f x the object (limit 3 x); above cold start: %.2f x\n", (peak - idle) / size_kb,
                (peak - cold) / size_kb);
    std::printf("    over the size limit: %s, peak grew %ld KB while refusing it\n",
                m["refused"].get<std::string>().c_str(), m["refusal_hwm_growth_kb"].get<long>());
  } else {
    std::printf("\nmemory: the child run failed\n");
  }
  return 0;
}

// What our S3 client costs this process per request, side by side in one run with
// bare libcurl fetching the same MinIO object: one easy handle, headers signed once
// before the loop, the body appended to a reserved string. The difference is ours:
// signing each request, building and checking it, parsing the response headers,
// the handle pool. CPU is this process's (getrusage: user + system), so MinIO's
// work is not in it. Per object size: the median of --rounds rounds of --requests
// GETs each, and ours / bare libcurl.
//
// Needs the test servers' MinIO (ETL_TEST_S3_*: scripts/test-servers.sh). Not a
// test: it prints figures.
//   s3_client_benchmark [--requests 1000] [--rounds 5] [--sizes 20000,556000]
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../tests/unit/shared/s3_test_env.h"
#include "etl/object_store.h"
#include "etl/sigv4.h"
#include "percentile.h"

namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Args {
  int requests = 1000, rounds = 5;
  std::vector<std::size_t> sizes = {20000, 556000};
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--requests") args.requests = std::max(1, std::atoi(v.c_str()));
    else if (k == "--rounds") args.rounds = std::max(1, std::atoi(v.c_str()));
    else if (k == "--sizes") {
      args.sizes.clear();
      for (std::size_t at = 0; at <= v.size();) {
        const std::size_t comma = std::min(v.find(',', at), v.size());
        args.sizes.push_back(std::strtoull(v.substr(at, comma - at).c_str(), nullptr, 10));
        at = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: s3_client_benchmark [--requests N] [--rounds N] [--sizes B,B,...]\n");
      return 2;
    }
  }
  auto server = etl::testing::s3_test_server();
  if (!server || !server->aws.endpoint_url_s3.starts_with("http://")) {
    std::fprintf(stderr, "s3_client_benchmark needs MinIO over http: ETL_TEST_S3_* (scripts/test-servers.sh)\n");
    return 2;
  }
  const std::string prefix = etl::testing::unique_s3_prefix("s3-client-bench");
  auto opened = etl::open_object_store("s3://" + server->bucket + "/" + prefix, server->aws);
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  std::printf("S3 GET from MinIO on loopback, CPU of this process per request (user + system), median of %d rounds x %d "
              "requests\n",
              args.rounds, args.requests);
  int failed = 0;
  for (const std::size_t size : args.sizes) {
    std::string body(size, '\0');
    for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 26);
    const std::string key = "object-" + std::to_string(size);
    if (!store->put(key, body).ok()) {
      std::fprintf(stderr, "cannot put the %zu-byte object\n", size);
      return 1;
    }
    // The reference: the same GET, signed once, through one bare easy handle.
    const std::string host = server->aws.endpoint_url_s3.substr(7);
    const std::string path = "/" + server->bucket + "/" + prefix + "/" + key;
    etl::SigningRequest signing{"GET", host, path, {}, {}, etl::sha256_hex("")};
    curl_slist* headers = nullptr;
    for (const auto& [name, value] :
         etl::sigv4_sign(signing, {server->aws.access_key_id, server->aws.secret_access_key, ""}, server->aws.region,
                         "s3", std::chrono::system_clock::now(), true))
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    CURL* bare = curl_easy_init();
    curl_easy_setopt(bare, CURLOPT_URL, (server->aws.endpoint_url_s3 + path).c_str());
    curl_easy_setopt(bare, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(bare, CURLOPT_WRITEFUNCTION, append);

    std::vector<double> ours, reference;
    for (int round = 0; round < args.rounds && !failed; ++round) {
      double t0 = cpu_seconds();
      for (int i = 0; i < args.requests; ++i) {
        auto got = store->get(key);
        if (!got.ok() || got->size() != size) {
          std::fprintf(stderr, "GET through the S3 store failed\n");
          failed = 1;
          break;
        }
      }
      ours.push_back((cpu_seconds() - t0) / args.requests * 1e6);
      t0 = cpu_seconds();
      for (int i = 0; i < args.requests && !failed; ++i) {
        std::string out;
        out.reserve(size + 64);
        curl_easy_setopt(bare, CURLOPT_WRITEDATA, &out);
        long status = 0;
        if (curl_easy_perform(bare) != CURLE_OK || curl_easy_getinfo(bare, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
            status != 200 || out.size() != size) {
          std::fprintf(stderr, "GET through bare libcurl failed (status %ld)\n", status);
          failed = 1;
        }
      }
      reference.push_back((cpu_seconds() - t0) / args.requests * 1e6);
    }
    curl_easy_cleanup(bare);
    curl_slist_free_all(headers);
    (void)store->remove(key);
    if (failed) break;
    const double a = etl::bench::percentile(ours, 0.5), b = etl::bench::percentile(reference, 0.5);
    std::printf("GET %8zu B: ours %7.1f us, bare libcurl %7.1f us: ours / bare libcurl %.2f x (ours %+.1f us)\n", size, a,
                b, a / b, a - b);
  }
  return failed;
}

#include "demo.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "all_in_one.h"
#include "cli.h"
#include "etl/http_client.h"
#include "etl/log.h"
#include "etl/service_main.h"
#include "fake_spotify.h"

namespace etl::app {
namespace {

using namespace std::chrono_literals;

struct Api {
  http::Client client;
  std::string token;  // ETL_API_TOKEN: the services want it on /v1 when it is set
  Result<nlohmann::json> call(const std::string& method, const std::string& url, const nlohmann::json& body = nullptr) {
    http::ClientRequest req{method, url, {}, body.is_null() ? "" : body.dump()};
    if (!body.is_null()) req.headers.emplace_back("Content-Type", "application/json");
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    auto res = client.send(req);
    if (!res) return std::move(res).error();
    auto parsed = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status >= 400 || parsed.is_discarded())
      return make_error(Errc::internal, method + " " + url + " -> " + std::to_string(res->status) + ": " + res->body);
    return parsed;
  }
};

// Waits for `done` to return true, up to `timeout`.
bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::vector<std::vector<std::string>> rows_of(const nlohmann::json& page) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : page["rows"]) {
    std::vector<std::string> row;
    for (const auto& v : r) row.push_back(cell_text(v));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> header_of(const nlohmann::json& page) {
  std::vector<std::string> header;
  for (const auto& c : page["columns"]) header.push_back(c.value("name", ""));
  return header;
}

// The offline sample's sources: two playlists, an album and a search. They are
// also the extractor's ETL_SOURCES in the demo, so `spotify-etl run` (no
// --source) and a schedule run them again; the sample server knows no others.
std::vector<SourceSpec> demo_sources() {
  return {{SourceType::playlist, fakespotify::kDemoPlaylistId},
          {SourceType::playlist, fakespotify::kEdgeCasePlaylistId},
          {SourceType::album, fakespotify::kDemoAlbumId},
          {SourceType::search, fakespotify::kDemoSearchQuery}};
}

// POSTs the demo run (the extractor's default sources) and waits until it ends;
// the run's final document, or why not.
Result<nlohmann::json> run_and_wait(Api& api, const std::string& extractor) {
  const nlohmann::json request = nlohmann::json::object();
  auto run = api.call("POST", extractor + "/v1/runs", request);
  if (!run) return std::move(run).error();
  nlohmann::json final_run = *run;
  const std::string run_id = run->value("run_id", "");
  wait_for([&] {
    auto r = api.call("GET", extractor + "/v1/runs/" + run_id);
    if (!r) return false;
    final_run = *r;
    auto status = r->value("status", "");
    return status != "queued" && status != "running";
  }, 60s);
  return final_run;
}

// Rows are queryable once the transformer wrote them and the cataloger crawled them;
// waits until the count for this run stops changing.
void wait_for_rows(Api& api, const std::string& cataloger, const std::string& run_id) {
  const auto count_sql = "SELECT count(*) FROM songs_data WHERE run_id = '" + run_id + "'";
  long long last = -1;
  int stable = 0;
  wait_for([&] {
    auto q = api.call("POST", cataloger + "/v1/query", {{"sql", count_sql}});
    long long n = q && !(*q)["rows"].empty() ? (*q)["rows"][0][0].get<long long>() : -1;
    stable = (n > 0 && n == last) ? stable + 1 : 0;
    last = n;
    return stable >= 3;
  }, 60s);
}

// The run's sources and three answers from /v1/query; false when a query failed.
bool print_results(Api& api, const std::string& cataloger, const nlohmann::json& final_run) {
  const std::string run_id = final_run.value("run_id", "");
  std::cout << "\nspotify-etl demo — offline Spotify sample, everything embedded\n\n";
  std::vector<std::vector<std::string>> sources;
  for (const auto& s : final_run.value("sources", nlohmann::json::array()))
    sources.push_back({cell_text(s.value("type", nlohmann::json())), cell_text(s.value("id", nlohmann::json())),
                       cell_text(s.value("status", nlohmann::json())), cell_text(s.value("pages", nlohmann::json())),
                       cell_text(s.value("items", nlohmann::json()))});
  std::cout << "Run " << run_id << ": " << final_run.value("status", "?") << "\n"
            << render_table({"type", "id", "status", "pages", "items"}, sources) << "\n";
  // albums_data and artists_data hold one row per raw object: de-duplicate before joining.
  const std::vector<std::pair<std::string, std::string>> queries = {
      {"Rows per table",
       "SELECT 'albums_data' AS table_name, count(*) AS rows FROM albums_data "
       "UNION ALL SELECT 'artists_data', count(*) FROM artists_data "
       "UNION ALL SELECT 'songs_data', count(*) FROM songs_data"},
      {"Top artists by songs",
       "SELECT a.artist_name, count(*) AS songs, round(avg(s.popularity), 1) AS avg_popularity "
       "FROM songs_data s JOIN (SELECT DISTINCT artist_id, artist_name FROM artists_data) a USING (artist_id) "
       "WHERE s.run_id = '" + run_id + "' GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 5"},
      {"Newest albums",
       "SELECT DISTINCT album_name, release_date, total_tracks FROM albums_data "
       "ORDER BY release_date DESC NULLS LAST, album_name LIMIT 5"},
  };
  bool ok = true;
  for (const auto& [title, sql] : queries) {
    auto page = api.call("POST", cataloger + "/v1/query", {{"sql", sql}});
    if (!page) {
      std::cout << title << ": " << page.error().message << "\n\n";
      ok = false;
      continue;
    }
    std::cout << title << "\n" << render_table(header_of(*page), rows_of(*page)) << "\n";
  }
  return ok;
}

// `word` as one shell word: as it is when it needs no quotes, else in single quotes.
std::string shell_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+=:,@%") ==
                           std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Where to go next while the demo serves: the dashboard, the APIs, the CLI and
// the files. The CLI lines call the program as the user did (`build/bin/spotify-etl`,
// or `spotify-etl` where it is on the PATH, as in the container image).
void print_urls(const Config& config, const AllInOne& app, const std::string& program) {
  const std::string cli = shell_word(program);
  const std::string cataloger = app.cataloger_url();
  std::cout << "Dashboard:\n  " << cataloger << "/ui/"
            << (config.api_token.empty() ? "" : "   (asks for the API token, ETL_API_TOKEN)") << "\n\n"
            << "Explore:\n"
            << "  extractor    " << app.extractor_url() << "/v1/runs\n"
            << "  transformer  " << app.transformer_url() << "/v1/status\n"
            << "  cataloger    " << cataloger << "/v1/tables\n"
            << "  query        curl -s " << cataloger << "/v1/query -H 'Content-Type: application/json'"
            << (config.api_token.empty() ? "" : " -H \"Authorization: Bearer $ETL_API_TOKEN\"")
            << " -d '{\"sql\":\"SELECT * FROM songs_data LIMIT 5\"}'\n"
            << "  run again    " << cli << " run --wait\n"
            << "  CLI          " << cli << " query \"SELECT song_name, popularity FROM songs_data ORDER BY popularity DESC NULLS LAST LIMIT 10\"\n";
  if (const int pg = app.pg_port(); pg > 0)  // BI tools' way in (README.md, "Connecting BI tools")
    std::cout << "  psql         " << (config.api_token.empty() ? "" : "PGPASSWORD=\"$ETL_API_TOKEN\" ") << "psql \"host="
              << reachable_host(config.pg_addr) << " port=" << pg << " dbname=spotify user=demo\"\n";
  std::cout << "  files        " << config.transformed_url << "\n";
  std::cout.flush();
}

// With --once the services stop after the report, so no URL of theirs would
// answer: the report ends with the tables' folder and the command that serves
// them (the next `demo` clears its folders).
void print_serve_again(const Config& config, const std::string& program) {
  std::cout << "Tables:\n  " << config.transformed_url << "\n\n"
            << "The services have stopped (--once). To query these tables (dashboard, HTTP, psql):\n"
            << "  ETL_RAW_URL=" << shell_word(config.raw_url) << " ETL_TRANSFORMED_URL=" << shell_word(config.transformed_url)
            << " " << shell_word(program) << " up\n";
  std::cout.flush();
}

}  // namespace

int run_demo(Config config, const DemoOptions& options) {
  block_shutdown_signals();
  fakespotify::FakeSpotifyServer spotify;
  int port = spotify.start("127.0.0.1", 0);
  if (port <= 0) {
    std::fprintf(stderr, "spotify-etl demo: cannot start the offline Spotify sample server\n");
    return 1;
  }
  config.spotify_api_url = spotify.api_url();
  config.spotify_accounts_url = spotify.accounts_url();
  config.spotify_client_id = fakespotify::FakeSpotifyOptions{}.client_id;
  config.spotify_client_secret = fakespotify::FakeSpotifyOptions{}.client_secret;
  config.sources = demo_sources();
  // The demo keeps its data apart from `up`'s and starts from a clean slate each time.
  if (!options.user_set_raw) {
    std::filesystem::remove_all("data/demo/raw");
    config.raw_url = "file://./data/demo/raw";
  }
  if (!options.user_set_transformed) {
    std::filesystem::remove_all("data/demo/transformed");
    config.transformed_url = "file://./data/demo/transformed";
  }

  auto app = AllInOne::create(config);
  if (!app) {
    std::fprintf(stderr, "spotify-etl demo: %s\n", app.error().message.c_str());
    return app.error().code == Errc::invalid_argument ? 2 : 1;  // as `up` (docs/contract.md §2.1)
  }
  if (Status s = (*app)->start(); !s.ok()) {
    std::fprintf(stderr, "spotify-etl demo: %s (is `spotify-etl up` already running? set ETL_*_ADDR)\n",
                 s.error().message.c_str());
    return 1;
  }

  Api api;
  api.token = config.api_token;
  const auto started_at = std::chrono::steady_clock::now();
  int rc = 0;
  auto final_run = run_and_wait(api, (*app)->extractor_url());
  if (!final_run) {
    std::fprintf(stderr, "spotify-etl demo: %s\n", final_run.error().message.c_str());
    rc = 1;
  } else {
    wait_for_rows(api, (*app)->cataloger_url(), final_run->value("run_id", ""));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
    if (!print_results(api, (*app)->cataloger_url(), *final_run)) rc = 1;
    char took[64];
    std::snprintf(took, sizeof took, "%.2f", seconds);
    std::cout << "From POST /v1/runs to rows answering in /v1/query: " << took << " s\n\n";
    if (options.once) print_serve_again(config, options.program);
    else print_urls(config, **app, options.program);
  }

  if (rc == 0 && !options.once) {
    std::cout << "\nServing until Ctrl-C.\n" << std::flush;
    wait_for_shutdown_signal();
  }
  stop_with_deadline([&] { (*app)->stop(); });
  spotify.stop();
  return rc;
}

}  // namespace etl::app

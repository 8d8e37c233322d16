// Issue 13 (the query path and the data side) against the real `cataloger`
// binary over real HTTP: hidden statements, memory, admission, stored-result
// bounds, host leaks, unguessable ids, glob characters in object names and CSV
// formulas. One process for the suite, configured with small limits.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "child_process.h"
#include "etl/http_client.h"
#include "raw_http.h"
#include "test_support.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using testing::call;
using testing::wait_until;

class QueryHardening : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    root_ = dir_->path() / "transformed";
    std::filesystem::create_directories(root_);
    namespace f = cataloger::testing;
    f::write_file(root_, "songs_data", "2026-11-01", "run1", "parquet", f::songs_select(6));
    f::write_file(root_, "artists_data", "2026-11-01", "run1", "parquet", f::artists_select());
    // An object whose name holds glob characters: never read as a pattern.
    f::write_file(root_, "songs_data", "2026-11-01", "x[1]*", "parquet", f::songs_select(50));
    base_ = "http://127.0.0.1:" + std::to_string(testing::free_port());
    process_ = new testing::ChildProcess(std::string(ETL_BIN_DIR) + "/cataloger", {},
                                         {{"ETL_CATALOGER_ADDR", base_.substr(7)},
                                          {"ETL_BUS", "memory"},
                                          {"ETL_TRANSFORMED_URL", "file://" + root_.string()},
                                          {"ETL_QUERY_DATA_DIR", (dir_->path() / "cataloger").string()},
                                          {"ETL_QUERY_MEMORY_LIMIT", "256M"},
                                          {"ETL_QUERY_MAX_TEMP_BYTES", "64M"},
                                          {"ETL_QUERY_WORKERS", "2"},
                                          {"ETL_QUERY_MAX_QUEUED", "4"},
                                          {"ETL_QUERY_MAX_TIMEOUT_MS", "60000"},
                                          {"ETL_QUERY_RESULTS_MAX_BYTES", "12K"},  // 3 files: each counts 4 KiB at least
                                          {"ETL_LOG_LEVEL", "warn"}},
                                         (dir_->path() / "cataloger.log").string());
    ASSERT_TRUE(process_->start());
    ASSERT_TRUE(wait_until([] { return call("GET", base_ + "/readyz").status == 200; }, 30s, 50ms)) << process_->log();
    ASSERT_TRUE(wait_until([] { return call("GET", base_ + "/v1/tables").json()["tables"].size() == 2; }, 30s))
        << process_->log();
  }
  static void TearDownTestSuite() {
    delete process_;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(process_->running()) << "the cataloger died:\n" << process_->log(); }

  static testing::HttpResult query(const nlohmann::json& body, const std::string& accept = {}) {
    return call("POST", base_ + "/v1/query", body.dump(), {}, accept);
  }
  static std::string detail(const testing::HttpResult& r) { return r.json().value("detail", r.body); }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::filesystem::path root_;
  static inline std::string base_;
  static inline testing::ChildProcess* process_ = nullptr;
};

// Item 1: what DuckDB ends at \r the gate ends there too; the results folder is not readable.
TEST_F(QueryHardening, HiddenStatementsAndTheResultsFolderAreRefused) {
  ASSERT_EQ(query({{"sql", "SELECT 1 AS n"}}).status, 200);  // leaves a stored result
  const std::string results = (root_ / "_query_results").string();
  for (const std::string& sql :
       {std::string("SELECT 1 AS a --\r, (SELECT count(*) FROM glob('") + results + "/*')) AS b",
        std::string("SELECT 1 --\r; SELECT * FROM read_csv('") + results + "/*.csv')",
        std::string("SELECT * FROM '") + results + "/*.csv'", std::string("SELECT * FROM duckdb_settings()"),
        std::string("SELECT 1 --\r, getenv('HOME')"), std::string("SELECT * FROM query('SELECT 1')")}) {
    auto r = query({{"sql", sql}});
    EXPECT_EQ(r.status, 400) << sql << "\n" << r.body;
    EXPECT_EQ(r.body.find(root_.string()), std::string::npos) << "no host path in the reason: " << r.body;
  }
}

TEST_F(QueryHardening, CacheKeysAreTheExactTextTheEngineRuns) {
  auto first = query({{"sql", "SELECT count(*) AS n FROM songs_data"}, {"max_age_s", 600}});
  ASSERT_EQ(first.status, 200) << first.body;
  auto same = query({{"sql", "SELECT count(*) AS n FROM songs_data"}, {"max_age_s", 600}});
  EXPECT_TRUE(same.json()["stats"]["cached"].get<bool>());
  auto commented = query({{"sql", "SELECT count(*) AS n FROM songs_data -- x"}, {"max_age_s", 600}});
  ASSERT_EQ(commented.status, 200) << commented.body;
  EXPECT_FALSE(commented.json()["stats"]["cached"].get<bool>()) << "another text is another key";
}

// Item 2: a query past the engine's memory limit fails alone, with a clear error.
TEST_F(QueryHardening, AQueryOverTheMemoryLimitFailsAloneNotTheProcess) {
  auto r = query({{"sql", "WITH RECURSIVE r(s, i) AS (SELECT 'xxxxxxxx', 0 UNION ALL SELECT s || s || s, i + 1 "
                          "FROM r WHERE i < 40) SELECT max(length(s)) AS l FROM r"},
                  {"timeout_ms", 60000}});
  EXPECT_TRUE(r.status == 503 || r.status == 400 || r.status == 413) << r.status << " " << r.body;
  EXPECT_NE(r.status, 500);
  EXPECT_EQ(call("GET", base_ + "/healthz").status, 200);
  std::ifstream status("/proc/" + std::to_string(process_->pid()) + "/status");
  std::string line;
  std::uint64_t hwm_kb = 0;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) hwm_kb = std::stoull(line.substr(6));
  EXPECT_LT(hwm_kb, 1024u * 1024u) << "peak RSS stays near the 256 MiB engine limit, far from the host's memory";
  EXPECT_EQ(query({{"sql", "SELECT 42 AS x"}}).json()["rows"][0][0], 42) << "the next query answers";
}

// Item 3: timeout cap, bounded queue (429 + Retry-After), cancel stops at once.
TEST_F(QueryHardening, TimeoutIsCappedQueueIsBoundedAndCancelIsImmediate) {
  auto long_timeout = query({{"sql", "SELECT 1"}, {"timeout_ms", 3600000}});
  EXPECT_EQ(long_timeout.status, 400);
  EXPECT_NE(detail(long_timeout).find("ETL_QUERY_MAX_TIMEOUT_MS"), std::string::npos) << long_timeout.body;

  const std::string slow = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 3";
  std::vector<std::string> ids;
  http::Client client;
  int refused = 0;
  std::string retry_after;
  for (int i = 0; i < 8; ++i) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = base_ + "/v1/query";
    req.body = nlohmann::json({{"sql", slow + " AND " + std::to_string(i) + " = " + std::to_string(i)},
                               {"async", true}, {"timeout_ms", 60000}}).dump();
    req.headers.emplace_back("Content-Type", "application/json");
    auto res = client.send(req).value();
    if (res.status == 202) ids.push_back(nlohmann::json::parse(res.body)["query_id"]);
    if (res.status == 429) {
      ++refused;
      retry_after = res.header("retry-after");
    }
  }
  EXPECT_GT(refused, 0) << "2 running + at most 4 waiting (2 per client)";
  EXPECT_FALSE(retry_after.empty());
  EXPECT_LE(ids.size(), 6u);
  ASSERT_TRUE(wait_until([&] { return call("GET", base_ + "/v1/query/" + ids[0]).json()["state"] == "RUNNING"; }, 20s));
  auto before = std::chrono::steady_clock::now();
  for (const auto& id : ids) call("DELETE", base_ + "/v1/query/" + id);
  for (const auto& id : ids)
    EXPECT_TRUE(wait_until([&] { return call("GET", base_ + "/v1/query/" + id).json()["state"] == "CANCELLED"; }, 5s)) << id;
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s) << "cancel interrupts the engine at once";
  EXPECT_EQ(query({{"sql", "SELECT 7 AS x"}}).json()["rows"][0][0], 7) << "the workers are free again";
}

// A blocking query nobody waits for any more is cancelled at once: both
// workers held by queries of 60 s whose clients left are free for the next one.
TEST_F(QueryHardening, ABlockingQueryWhoseClientClosesItsConnectionIsCancelled) {
  const auto cancelled_so_far = [] {
    std::smatch m;
    const std::string metrics = call("GET", base_ + "/metrics").body;
    static const std::regex line(R"re(spotify_etl_cataloger_queries_total\{state="CANCELLED"\} (\d+))re");
    return std::regex_search(metrics, m, line) ? std::stoi(m[1]) : 0;
  };
  const int before = cancelled_so_far();
  const int port = std::stoi(base_.substr(base_.rfind(':') + 1));
  std::vector<std::unique_ptr<testing::RawConnection>> clients;
  for (int i = 0; i < 2; ++i) {
    const std::string body =
        nlohmann::json({{"sql", "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 4 AND " +
                                    std::to_string(i) + " = " + std::to_string(i)},
                        {"timeout_ms", 60000}})
            .dump();
    clients.push_back(std::make_unique<testing::RawConnection>(port));
    ASSERT_TRUE(clients.back()->send("POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  }
  EXPECT_TRUE(clients[0]->read_response(1500ms).empty()) << "the query runs, the client waits";
  clients.clear();  // both clients go away (their FIN)
  const auto gone = std::chrono::steady_clock::now();
  auto next = query({{"sql", "SELECT 7 AS x"}});
  EXPECT_EQ(next.status, 200) << next.body;
  EXPECT_LT(std::chrono::steady_clock::now() - gone, 10s) << "the workers were freed, not held to the 60 s timeout";
  EXPECT_TRUE(wait_until([&] { return cancelled_so_far() == before + 2; }, 5s)) << cancelled_so_far() - before;
}

// Item 5: stored result CSVs stay within ETL_QUERY_RESULTS_MAX_BYTES (in 4 KiB blocks), oldest evicted first.
TEST_F(QueryHardening, StoredResultsAreBoundedInBytes) {
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    auto r = query({{"sql", "SELECT repeat('r', 300) AS pad, " + std::to_string(i) + " AS i"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(r.json()["query_id"]);
  }
  std::uint64_t total = 0;
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(root_ / "_query_results")) {
    total += e.file_size();
    ++files;
  }
  EXPECT_LE(total, 12u * 1024);
  EXPECT_EQ(files, 3u) << "each file counts at least a 4 KiB block against 12K, however small it is";
  EXPECT_FALSE(std::filesystem::exists(root_ / "_query_results" / (ids.front() + ".csv"))) << "oldest went first";
  EXPECT_TRUE(std::filesystem::exists(root_ / "_query_results" / (ids.back() + ".csv")));
}

// Item 6: system catalogs are refused; what clients see holds no host path.
TEST_F(QueryHardening, NoHostPathsOrSettingsReachClients) {
  for (const char* sql : {"SELECT * FROM information_schema.views", "SELECT * FROM information_schema.tables",
                          "SELECT * FROM duckdb_views()", "SELECT sql FROM sqlite_master", "SELECT * FROM pg_settings",
                          "SELECT current_setting('temp_directory')"}) {
    auto r = query({{"sql", sql}});
    EXPECT_EQ(r.status, 400) << sql << ": " << r.body;
  }
  for (const char* sql : {"SHOW ALL TABLES", "DESCRIBE songs_data", "EXPLAIN SELECT * FROM songs_data"}) {
    auto r = query({{"sql", sql}});
    ASSERT_EQ(r.status, 200) << sql << ": " << r.body;
    EXPECT_EQ(r.body.find(dir_->path().string()), std::string::npos) << sql << " shows a host path: " << r.body;
  }
  auto r = query({{"sql", "SELECT 1 AS n"}});
  std::string location = r.json()["result_location"];
  EXPECT_EQ(location.find(dir_->path().string()), std::string::npos) << location;
  EXPECT_TRUE(std::filesystem::exists(root_ / location)) << "the key in the transformed store: " << location;
}

// Item 7 (query ids): 128 random bits.
// Random UUID v4s (docs/contract.md §4.2): 122 bits from the CSPRNG, not guessable.
TEST_F(QueryHardening, QueryIdsAreRandomUuidV4s) {
  std::set<std::string> ids;
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 20; ++i) {
    std::string id = query({{"sql", "SELECT 1 AS n"}}).json()["query_id"];
    EXPECT_TRUE(std::regex_match(id, v4)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 20u);
  std::set<char> variants, firsts;
  for (const auto& id : ids) {
    variants.insert(id[19]);
    firsts.insert(id[0]);
  }
  EXPECT_GT(variants.size(), 1u) << "the variant's two free bits are random";
  EXPECT_GT(firsts.size(), 1u);
}

// Item 8: glob characters in an object name, formulas in CSV cells.
TEST_F(QueryHardening, GlobCharactersInObjectNamesAreNotExpanded) {
  auto r = query({{"sql", "SELECT count(*) AS n FROM songs_data"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["rows"][0][0], 6) << "the file named x[1]* is not a data file";
}

TEST_F(QueryHardening, CsvCellsThatLookLikeFormulasAreNeutralised) {
  auto r = query({{"sql", "SELECT '=HYPERLINK(1)' AS a, '@x' AS b, -5 AS n, 'plain' AS c"}}, "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "a,b,n,c\n'=HYPERLINK(1),'@x,-5,plain\n");
}

// DuckDB runs a statement up to a NUL; the gate read all of it: refused before either.
TEST_F(QueryHardening, SqlWithANulCharacterIsRefused) {
  std::string sql = "SELECT count(*) AS n FROM songs_data";
  sql += '\0';
  sql += " WHERE popularity > 1000";
  auto r = query({{"sql", sql}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.content_type.find("application/problem+json"), std::string::npos) << r.content_type;
  EXPECT_NE(detail(r).find("NUL"), std::string::npos) << r.body;
}

TEST_F(QueryHardening, CsvPagesCarryExactDecimalsAndHugeints) {
  auto r = query({{"sql", "SELECT 12345678901234567.89::DECIMAL(38,2) AS d, "
                          "170141183460469231731687303715884105727::HUGEINT AS h"}},
                 "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "d,h\n12345678901234567.89,170141183460469231731687303715884105727\n");
}

}  // namespace
}  // namespace etl

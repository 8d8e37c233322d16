// What a query leaves behind is bounded by configuration, whatever the SQL:
// records and cached results keep no copy of a statement (up to 1 MiB), stored
// CSVs count at least a block each, and a CSV page carries the exact values.
#include <gtest/gtest.h>
#include <malloc.h>

#include <nlohmann/json.hpp>

#include "cataloger_fixtures.h"
#include "query_manager.h"
#include "result_cache.h"
#include "result_files.h"
#include "routes.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using testing::Stack;

QueryRequest req(std::string sql) {
  QueryRequest r;
  r.sql = std::move(sql);
  return r;
}

QueryStatus run_to_end(QueryManager& q, const QueryRequest& request) {
  auto started = q.start(request);
  if (!started) throw std::runtime_error(started.error().message);
  return q.wait(started->query_id, 30s).value();
}

// A statement of about 1 MB (under the gate's 1 MiB limit) that is cheap to run.
std::string long_sql(int i) {
  return "SELECT length('" + std::string(1000 * 1000, 'x') + "') + " + std::to_string(i) + " AS n";
}

TEST(ResultCache, AnEntryCountsItsKeyLocationAndBookkeepingAgainstTheBudget) {
  ResultCache cache(64 * 1024);
  for (int i = 0; i < 1000; ++i) {
    StoredResult r;  // no rows: what used to count as nothing
    r.key = std::string(1024, static_cast<char>('a' + i % 26)) + std::to_string(i);
    r.location = "_query_results/" + std::to_string(i) + ".csv";
    cache.keep(std::move(r));
  }
  EXPECT_LE(cache.bytes(), 64u * 1024) << "1000 empty results with 1 KiB keys must not outgrow a 64 KiB budget";
  EXPECT_GT(cache.bytes(), 32u * 1024) << "their keys and bookkeeping are counted";
  EXPECT_FALSE(cache.find(std::string(1024, 'a') + "0")) << "the oldest were evicted";
  EXPECT_TRUE(cache.find(std::string(1024, static_cast<char>('a' + 999 % 26)) + "999"));
}

// A kept result's rows are one text and their ends: each row reads back as it came
// (empty ones too), and what it counts is what it holds.
TEST(ResultCache, AKeptResultsRowsReadBackAsTheyCameFromOneBuffer) {
  std::vector<std::string> rows = {"[1,\"a\"]", "", "[3,\"" + std::string(100, 'c') + "\"]", "[4,null]"};
  const std::vector<std::string> expected = rows;
  StoredResult r;
  r.set_rows(std::move(rows));
  ASSERT_EQ(r.row_count(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(r.row(i), expected[i]) << i;
  std::size_t text = 0;
  for (const auto& e : expected) text += e.size();
  EXPECT_EQ(r.row_text.size(), text);
  EXPECT_EQ(r.row_bytes(), r.row_text.capacity() + r.row_ends.capacity() * sizeof(std::size_t));
  EXPECT_GE(ResultCache::charge(r), r.row_bytes() + sizeof(StoredResult));
  StoredResult none;
  none.set_rows({});
  EXPECT_EQ(none.row_count(), 0u);
}

TEST(ResultFiles, EachFileCountsAtLeastOneAllocationUnitSoTheCountIsBounded) {
  etl::testing::TempDir dir;
  std::shared_ptr<ObjectStore> store(open_object_store("file://" + dir.path().string(), {}).value());
  ResultFiles files(store, {"_query_results/", 64 * 1024, std::chrono::seconds(3600)});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(files.put("q" + std::to_string(i), "n\n1\n").ok());
  EXPECT_EQ(files.count(), 16u) << "4-byte results take a 4 KiB block each: 64 KiB holds 16";
  EXPECT_EQ(files.bytes(), 64u * 1024);
  EXPECT_TRUE(store->head("_query_results/q99.csv").ok());
  EXPECT_FALSE(store->head("_query_results/q83.csv").ok()) << "oldest first";
  EXPECT_EQ(ResultFiles::charge(0), 4096u);
  EXPECT_EQ(ResultFiles::charge(4096), 4096u);
  EXPECT_EQ(ResultFiles::charge(4097), 8192u);
  // A restart counts what is on disk the same way.
  ResultFiles again(store, {"_query_results/", 8 * 1024, std::chrono::seconds(3600)});
  again.load();
  EXPECT_EQ(again.count(), 2u);
}

// glibc's bytes in live mmapped chunks: with the threshold fixed at 64 KiB, every
// copy of a 1 MB statement is one, whichever thread's arena allocated it.
std::size_t mapped_bytes() { return mallinfo2().hblkhd; }

TEST(QueryManager, FinishedQueriesAndTheirCachedResultsKeepNoCopyOfTheSql) {
  // glibc's malloc measures it; under a sanitizer's allocator mallopt does nothing.
  if (mallopt(M_MMAP_THRESHOLD, 64 * 1024) != 1) GTEST_SKIP() << "not glibc's malloc (a sanitizer build): nothing to measure";
  Stack s;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run_to_end(*s.queries, req(long_sql(-1 - i))).state, QueryState::succeeded);
  const std::size_t before = mapped_bytes();
  std::vector<std::string> ids;
  for (int i = 0; i < 24; ++i) {
    auto r = req(long_sql(i));
    r.max_age = 600s;
    auto done = run_to_end(*s.queries, r);
    ASSERT_EQ(done.state, QueryState::succeeded) << (done.error ? done.error->message : "");
    ids.push_back(done.query_id);
  }
  const std::size_t after = mapped_bytes();
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  EXPECT_LT(after, before + (8u << 20)) << "24 finished 1 MB queries grew the live heap by " << (after - before) / 1024
                                        << " KiB: records or cache keys keep the SQL";
  for (const auto& id : ids) EXPECT_TRUE(s.queries->page(id, "").ok()) << "their results are still in memory";
}

TEST(QueryManager, ALongStatementIsReusedForExactlyTheSameTextOnly) {
  Stack s;
  auto r = req(long_sql(7));
  r.max_age = 600s;
  auto first = run_to_end(*s.queries, r);
  ASSERT_EQ(first.state, QueryState::succeeded);
  auto again = s.queries->start(r).value();
  EXPECT_TRUE(again.stats.cached) << "the same 1 MB text is the same key";
  EXPECT_EQ(s.queries->page(again.query_id, "")->rows.at(0), "[1000007]");
  auto other = req(long_sql(7) + " ");
  other.max_age = 600s;
  EXPECT_FALSE(run_to_end(*s.queries, other).stats.cached) << "one byte more is another key";
  auto smaller_pages = r;
  smaller_pages.max_rows = 5;
  EXPECT_FALSE(run_to_end(*s.queries, smaller_pages).stats.cached) << "the page size is part of the key";
}

TEST(QueryManager, AnEngineErrorQuotingAHugeLiteralIsKeptBounded) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT CAST('" + std::string(200 * 1000, 'y') + "' AS INTEGER) AS n"));
  ASSERT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_LE(done.error->message.size(), 2100u) << "the record keeps at most 2 KiB of the message";
  EXPECT_NE(done.error->message.find("(truncated)"), std::string::npos) << done.error->message.substr(0, 200);
  EXPECT_EQ(run_to_end(*s.queries, req("SELECT CAST('zz' AS INTEGER) AS n")).error->message.find("(truncated)"),
            std::string::npos)
      << "short messages stay whole";
}

TEST(QueryManager, SqlWithANulCharacterIsRefusedBeforeTheGate) {
  Stack s;
  std::string sql = "SELECT 1 AS n";
  sql += '\0';
  sql += " WHERE false";
  auto started = s.queries->start(req(sql));
  ASSERT_FALSE(started.ok()) << "DuckDB would run only the text before the NUL";
  EXPECT_EQ(started.error().code, Errc::invalid_argument);
  EXPECT_NE(started.error().message.find("NUL"), std::string::npos) << started.error().message;
}

// The result cap counts what a result holds, not only its JSON text: 100,000 rows of
// "[1]" are 300 KB of JSON but 3.2 MB of strings (and a CSV copy).
TEST(QueryManager, TheResultCapCountsWhatTheRowsHold) {
  QueryManagerOptions options;
  options.max_result_bytes = 1u << 20;
  Stack s(options);
  auto small = run_to_end(*s.queries, req("SELECT 1 AS n FROM range(10000)"));
  EXPECT_EQ(small.state, QueryState::succeeded) << (small.error ? small.error->message : "");
  auto many = run_to_end(*s.queries, req("SELECT 1 AS n FROM range(100000)"));
  EXPECT_EQ(many.state, QueryState::failed);
  ASSERT_TRUE(many.error.has_value());
  EXPECT_EQ(many.error->code, Errc::too_large) << many.error->message;
}

// A column whose values the results cannot carry read as null with status 200 (a
// wrong answer); such a query is refused with a way out, and the cast works.
TEST(QueryManager, ColumnsOfTypesResultsDoNotCarryAreRefusedNotNull) {
  Stack s;
  for (const char* sql : {"SELECT '101'::BIT AS b", "SELECT union_value(k := 1) AS u",
                          "SELECT [union_value(k := 1)] AS l", "SELECT MAP {[1]: 2} AS m",
                          "SELECT {'a': '101'::BIT} AS s", "SELECT 123456789012345678901234567890::VARINT AS v"}) {
    auto r = run_to_end(*s.queries, req(sql));
    EXPECT_EQ(r.state, QueryState::failed) << sql;
    ASSERT_TRUE(r.error.has_value()) << sql;
    EXPECT_EQ(r.error->code, Errc::invalid_argument) << sql << ": " << r.error->message;
    EXPECT_NE(r.error->message.find("cast it"), std::string::npos) << r.error->message;
  }
  for (const char* sql : {"SELECT '101'::BIT::VARCHAR AS b", "SELECT NULL AS n", "SELECT MAP {'k': [1, 2]} AS m",
                          "SELECT {'a': [1.5::DECIMAL(4,1)], 'b': 'x'} AS s", "SELECT [[DATE '2026-01-01']] AS d"}) {
    auto r = run_to_end(*s.queries, req(sql));
    EXPECT_EQ(r.state, QueryState::succeeded) << sql << ": " << (r.error ? r.error->message : "");
  }
}

TEST(QueryRequestParsing, SqlWithANulCharacterIsRefused) {
  std::string sql = "SELECT count(*) FROM songs_data";
  sql += '\0';
  sql += " WHERE popularity > 1000";
  auto parsed = parse_query_request(nlohmann::json{{"sql", sql}});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
  EXPECT_NE(parsed.error().message.find("NUL"), std::string::npos) << parsed.error().message;
  EXPECT_TRUE(parse_query_request(nlohmann::json{{"sql", "SELECT 1"}}).ok());
}

TEST(PageCsv, DecimalsAndHugeintsKeepTheirExactDigits) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT 12345678901234567.89::DECIMAL(38,2) AS d, "
                                         "170141183460469231731687303715884105727::HUGEINT AS h, "
                                         "[1.10::DECIMAL(4,2)] AS l, 'x,y' AS t, NULL AS z"));
  ASSERT_EQ(done.state, QueryState::succeeded) << (done.error ? done.error->message : "");
  auto page = s.queries->page(done.query_id, "").value();
  auto csv = page_csv(page);
  ASSERT_TRUE(csv.ok()) << csv.error().message;
  EXPECT_EQ(*csv, "d,h,l,t,z\n12345678901234567.89,170141183460469231731687303715884105727,[1.10],\"x,y\",\n");
  EXPECT_EQ(*csv, s.store->get(done.result_location).value()) << "the page says what the stored CSV says";
}

// A page's CSV guards text only, as the stored CSV does: a date or a timestamp that
// starts with '-' (BC, -infinity) is a value, not a formula.
TEST(PageCsv, DatesAndTimesAreNotGuardedLikeText) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT '-infinity'::DATE AS d, DATE '0044-03-15 (BC)' AS bc, "
                                         "'-infinity'::TIMESTAMPTZ AS t, '-x' AS s"));
  ASSERT_EQ(done.state, QueryState::succeeded) << (done.error ? done.error->message : "");
  auto page = s.queries->page(done.query_id, "").value();
  auto csv = page_csv(page);
  ASSERT_TRUE(csv.ok()) << csv.error().message;
  EXPECT_EQ(*csv, "d,bc,t,s\n-infinity,-0043-03-15,-infinity,'-x\n");
  EXPECT_EQ(*csv, s.store->get(done.result_location).value()) << "the page says what the stored CSV says";
}

TEST(PageCsv, ARowThatIsNotAJsonArrayIsAnErrorNotADroppedRow) {
  QueryPage page;
  page.query_id = "q1";
  page.columns = {{"n", "BIGINT"}, {"s", "VARCHAR"}};
  page.rows = {R"([1,"a\"]b"])", R"( [ 2 , "c" ] )"};
  EXPECT_EQ(page_csv(page).value(), "n,s\n1,\"a\"\"]b\"\n2,c\n");
  for (const char* bad : {R"([1,"a")", R"({"n":1})", "", "[1]]"}) {
    page.rows = {R"([1,"a"])", bad};
    auto csv = page_csv(page);
    ASSERT_FALSE(csv.ok()) << "row '" << bad << "' was dropped instead of failing the page";
    EXPECT_EQ(csv.error().code, Errc::internal);
  }
}

}  // namespace
}  // namespace etl::cataloger

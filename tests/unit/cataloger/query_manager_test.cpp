#include "query_manager.h"

#include <gtest/gtest.h>

#include <thread>

#include "cataloger_fixtures.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using testing::Stack;
using testing::songs_select;
using testing::artists_select;
using testing::write_file;

QueryStatus run_to_end(QueryManager& q, QueryRequest request) {
  auto started = q.start(request);
  if (!started) throw std::runtime_error(started.error().message);
  return q.wait(started->query_id, 30s).value();
}

QueryRequest req(std::string sql, std::size_t max_rows = 1000) {
  QueryRequest r;
  r.sql = std::move(sql);
  r.max_rows = max_rows;
  return r;
}

TEST(QueryManager, PagesHoldAtMostMaxRowsAndChainWithNextToken) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT i FROM range(2500) t(i) ORDER BY i"));
  ASSERT_EQ(done.state, QueryState::succeeded);
  EXPECT_EQ(done.stats.rows, 2500u);
  auto first = s.queries->page(done.query_id, "").value();
  ASSERT_EQ(first.rows.size(), 1000u);
  EXPECT_EQ(first.rows.front(), "[0]");
  ASSERT_TRUE(first.next_token);
  auto second = s.queries->page(done.query_id, *first.next_token).value();
  EXPECT_EQ(second.rows.front(), "[1000]");
  auto third = s.queries->page(done.query_id, *second.next_token).value();
  EXPECT_EQ(third.rows.size(), 500u);
  EXPECT_EQ(third.rows.back(), "[2499]");
  EXPECT_FALSE(third.next_token);
}

TEST(QueryManager, SmallerMaxRowsGivesSmallerPages) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT i FROM range(25) t(i) ORDER BY i", 10));
  auto first = s.queries->page(done.query_id, "").value();
  EXPECT_EQ(first.rows.size(), 10u);
  EXPECT_TRUE(first.next_token);
}

TEST(QueryManager, BadTokensAndUnknownIdsAreRefused) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT i FROM range(30) t(i)", 10));
  EXPECT_EQ(s.queries->page(done.query_id, "garbage").error().code, Errc::invalid_argument);
  EXPECT_EQ(s.queries->page(done.query_id, "10.00000000").error().code, Errc::invalid_argument);
  EXPECT_EQ(s.queries->page("no-such-query", "").error().code, Errc::not_found);
  EXPECT_EQ(s.queries->status("no-such-query").error().code, Errc::not_found);
  EXPECT_EQ(s.queries->cancel("no-such-query").error().code, Errc::not_found);
}

TEST(QueryManager, RefusedSqlIsInvalidArgumentBeforeAnythingRuns) {
  Stack s;
  auto r = s.queries->start(req("SELECT 1; DROP TABLE songs_data"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(s.queries->start(req("DELETE FROM songs_data")).error().code, Errc::invalid_argument);
}

TEST(QueryManager, UnknownTablesAreRefusedAtTheGateWithTheTableList) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2));
  s.crawl();
  auto r = s.queries->start(req("SELECT * FROM no_such_table"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().message.find("songs_data"), std::string::npos) << r.error().message;
}

TEST(QueryManager, EngineErrorsOfTheUsersSqlFailTheQueryAsInvalidArgument) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT no_such_column FROM range(3) t(i)"));
  EXPECT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_EQ(done.error->code, Errc::invalid_argument);
}

TEST(QueryManager, ResultIsStoredOnceAsCsvAtResultLocation) {
  Stack s;
  auto done = run_to_end(*s.queries, req("SELECT 'a,b' AS x, 1 AS n"));
  ASSERT_EQ(done.state, QueryState::succeeded);
  EXPECT_EQ(done.result_location, "_query_results/" + done.query_id + ".csv") << "a key in the store, not a host path";
  EXPECT_EQ(s.store->get("_query_results/" + done.query_id + ".csv").value(), "x,n\n\"a,b\",1\n");
}

TEST(QueryManager, CachedResultIsReusedWithinMaxAge) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(5));
  s.crawl();
  auto r = req("SELECT count(*) FROM songs_data");
  r.max_age = 60s;
  auto first = run_to_end(*s.queries, r);
  EXPECT_FALSE(first.stats.cached);
  auto again = req("SELECT count(*) FROM songs_data");
  again.max_age = 60s;
  auto second = s.queries->start(again).value();
  EXPECT_EQ(second.state, QueryState::succeeded) << "a cache hit is answered at once";
  EXPECT_TRUE(second.stats.cached);
  EXPECT_NE(second.query_id, first.query_id);
  EXPECT_EQ(second.result_location, first.result_location);
  EXPECT_EQ(s.queries->page(second.query_id, "")->rows.at(0), "[5]");
  // The key is the exact text the engine runs: another layout is another query
  // (a normalised key once let a \r-hidden statement share a cached result).
  auto other_layout = req("select  count(*)\n FROM songs_data -- same query, other layout");
  other_layout.max_age = 60s;
  EXPECT_FALSE(run_to_end(*s.queries, other_layout).stats.cached);
  auto no_reuse = run_to_end(*s.queries, req("SELECT count(*) FROM songs_data"));
  EXPECT_FALSE(no_reuse.stats.cached) << "without max_age_s the query runs";
}

TEST(QueryManager, EachDialectRunsUnderItsRulesAndKeepsItsOwnCachedResults) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(5));
  s.crawl();
  auto duckdb = req("SELECT count(*) / 2 FROM songs_data");
  duckdb.max_age = 60s;
  auto postgres = duckdb;
  postgres.dialect = Dialect::postgres;
  auto first = run_to_end(*s.queries, duckdb);
  ASSERT_EQ(first.state, QueryState::succeeded);
  EXPECT_EQ(s.queries->page(first.query_id, "")->rows.at(0), "[2.5]");
  auto second = run_to_end(*s.queries, postgres);
  ASSERT_EQ(second.state, QueryState::succeeded);
  EXPECT_FALSE(second.stats.cached) << "DuckDB's result is not PostgreSQL's";
  EXPECT_EQ(s.queries->page(second.query_id, "")->rows.at(0), "[2]");
  auto again = run_to_end(*s.queries, postgres);
  EXPECT_TRUE(again.stats.cached);
  EXPECT_EQ(s.queries->page(again.query_id, "")->rows.at(0), "[2]");
  postgres.as_of["songs_data"] = AsOf{1, std::nullopt};
  auto pinned = s.queries->start(postgres);
  ASSERT_FALSE(pinned.ok());
  EXPECT_EQ(pinned.error().code, Errc::invalid_argument);
}

TEST(QueryManager, CacheIsInvalidatedWhenTheTableVersionChanges) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(5));
  s.crawl();
  auto r = req("SELECT count(*) FROM songs_data");
  r.max_age = 3600s;
  run_to_end(*s.queries, r);
  write_file(s.root, "songs_data", "2026-11-01", "run2", "parquet", songs_select(7, 5));  // same partition, new data
  s.crawl();
  auto after = run_to_end(*s.queries, r);
  EXPECT_FALSE(after.stats.cached) << "new data landed: the cached result is older than the data";
  EXPECT_EQ(s.queries->page(after.query_id, "")->rows.at(0), "[12]");
  EXPECT_TRUE(s.queries->start(r)->stats.cached) << "and the new result is reused in turn";
}

TEST(QueryManager, ACommitToAnotherTableKeepsTheCachedResult) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(5));
  write_file(s.root, "artists_data", "2026-11-01", "run1", "parquet", artists_select());
  s.crawl();
  auto songs = req("SELECT count(*) FROM songs_data");
  songs.max_age = 3600s;
  auto joined = req("SELECT count(*) FROM songs_data s JOIN artists_data a USING (artist_id, dt)");
  joined.max_age = 3600s;
  run_to_end(*s.queries, songs);
  run_to_end(*s.queries, joined);
  write_file(s.root, "artists_data", "2026-11-02", "run1", "parquet", artists_select());  // only artists_data moves
  s.crawl();
  EXPECT_TRUE(s.queries->start(songs)->stats.cached) << "songs_data did not change: its result still holds";
  auto rerun = run_to_end(*s.queries, joined);
  EXPECT_FALSE(rerun.stats.cached) << "the join reads artists_data, which changed";
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(3, 5));
  s.crawl();
  auto after = run_to_end(*s.queries, songs);
  EXPECT_FALSE(after.stats.cached);
  EXPECT_EQ(s.queries->page(after.query_id, "")->rows.at(0), "[8]");
}

TEST(QueryManager, TimeoutInterruptsALongQueryPromptly) {
  Stack s;
  auto r = req("SELECT count(*) FROM range(10000000000000)");
  r.timeout = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  auto done = run_to_end(*s.queries, r);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_EQ(done.error->code, Errc::timeout) << done.error->message;
  EXPECT_LT(took, 1300ms) << "interrupted within timeout + 1 s";
}

// DuckDB folds constant expressions while it plans, where no interrupt reaches it,
// and looks for one only between chunks: one long call (an MD5 of 30 MB, about
// 0.5 s) runs to its end. The query still ends as the timeout said, never
// SUCCEEDED with rows the client was told it would not get.
TEST(QueryManager, AQueryThatEndsPastItsTimeoutStaysTimedOut) {
  Stack s;
  auto r = req("SELECT length(md5(repeat('x', 30000000)))");
  r.timeout = 50ms;
  auto done = run_to_end(*s.queries, r);
  EXPECT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_EQ(done.error->code, Errc::timeout) << done.error->message;
  EXPECT_GT(done.stats.elapsed_ms, 50.0) << "what it ran is reported";
  EXPECT_EQ(s.queries->page(done.query_id, "").error().code, Errc::conflict);
}

TEST(QueryManager, AQueryCancelledDuringOneLongCallEndsCancelled) {
  Stack s;
  auto started = s.queries->start(req("SELECT length(md5(repeat('x', 30000000)))")).value();
  ASSERT_TRUE(etl::testing::wait_until([&] { return s.queries->status(started.query_id)->state == QueryState::running; }));
  ASSERT_TRUE(s.queries->cancel(started.query_id).ok());
  auto done = s.queries->wait(started.query_id, 30s).value();
  EXPECT_EQ(done.state, QueryState::cancelled);
  // Counted from leaving the queue: also when the cancel came while it was set up,
  // before its statement ran (a busy machine; it once made this test flaky).
  EXPECT_GT(done.stats.elapsed_ms, 0.0);
}

TEST(QueryManager, CancelStopsARunningQuery) {
  Stack s;
  auto started = s.queries->start(req("SELECT count(*) FROM range(10000000000000)")).value();
  ASSERT_TRUE(etl::testing::wait_until([&] { return s.queries->status(started.query_id)->state == QueryState::running; }));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.queries->cancel(started.query_id).ok());
  auto done = s.queries->wait(started.query_id, 5s).value();
  EXPECT_EQ(done.state, QueryState::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(s.queries->page(started.query_id, "").error().code, Errc::conflict);
}

// A client that fills the workers with long queries (and walks away) leaves one
// worker for the others: it runs at most workers - 1 at once, its next query
// waits for one of its own to end, and another client's query runs at once.
TEST(QueryManager, OneClientRunsAtMostAllWorkersButOne) {
  QueryManagerOptions options;
  options.workers = 3;
  Stack s(options);
  auto slow = [](const std::string& client) {
    auto r = req("SELECT count(*) FROM range(10000000000000)");
    r.client = client;
    r.timeout = 60s;
    return r;
  };
  std::vector<std::string> mine;
  for (int i = 0; i < 3; ++i) mine.push_back(s.queries->start(slow("10.0.0.1")).value().query_id);
  auto state = [&](const std::string& id) { return s.queries->status(id)->state; };
  ASSERT_TRUE(etl::testing::wait_until([&] { return state(mine[0]) == QueryState::running && state(mine[1]) == QueryState::running; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(state(mine[2]), QueryState::queued) << "the third worker is kept for another client";
  auto other = req("SELECT 42");
  other.client = "10.0.0.2";
  auto t0 = std::chrono::steady_clock::now();
  auto answered = run_to_end(*s.queries, other);
  EXPECT_EQ(answered.state, QueryState::succeeded);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  ASSERT_TRUE(s.queries->cancel(mine[0]).ok());
  EXPECT_TRUE(etl::testing::wait_until([&] { return state(mine[2]) == QueryState::running; }))
      << "the client's next query runs when one of its own ends";
  for (const auto& id : mine) (void)s.queries->cancel(id);
}

TEST(QueryManager, ResultsPastTheMemoryBudgetExpireWithAClearMessage) {
  QueryManagerOptions options;
  options.cache_bytes = 1000;
  Stack s(options);
  auto first = run_to_end(*s.queries, req("SELECT i FROM range(200) t(i)"));
  run_to_end(*s.queries, req("SELECT i FROM range(300) t(i)"));
  auto page = s.queries->page(first.query_id, "");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, Errc::not_found);
  EXPECT_NE(page.error().message.find("expired"), std::string::npos);
  EXPECT_NE(page.error().message.find(first.result_location), std::string::npos) << "points at the stored CSV";
}

TEST(QueryManager, TooLargeResultFailsInsteadOfExhaustingMemory) {
  QueryManagerOptions options;
  options.max_result_bytes = 10000;
  Stack s(options);
  auto done = run_to_end(*s.queries, req("SELECT i FROM range(100000) t(i)"));
  EXPECT_EQ(done.state, QueryState::failed);
  EXPECT_EQ(done.error->code, Errc::too_large);
}

}  // namespace
}  // namespace etl::cataloger

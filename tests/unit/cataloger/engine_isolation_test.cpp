// The query engine process's pieces that need no process: its messages
// (engine_wire.h), and what the query manager does when a session's process
// stops under a query or a query ignores its interrupt (SqlSession::lost, kill).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "cataloger_fixtures.h"
#include "engine_wire.h"
#include "query_manager.h"
#include "snapshot_catalog.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
namespace wire = engine_wire;

TEST(EngineWire, AMessageRoundTripsThroughItsFrame) {
  wire::Message m{{{"type", "execute"}, {"sql", "SELECT 1"}}, {"[1]", std::string("a\0b", 3), ""}};
  auto back = wire::decode(wire::encode(m));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->header, m.header);
  EXPECT_EQ(back->parts, m.parts);
}

TEST(EngineWire, BrokenFramesAreRefusedNotRead) {
  const std::string frame = wire::encode({{{"ok", true}}, {"row"}});
  EXPECT_FALSE(wire::decode(frame.substr(0, frame.size() - 1))) << "cut short";
  EXPECT_FALSE(wire::decode(frame + "x")) << "a byte too many";
  EXPECT_FALSE(wire::decode("")) << "nothing";
  std::string huge = frame;
  const std::uint64_t too_large = wire::kMaxFrameBytes + 1;
  std::memcpy(huge.data(), &too_large, sizeof too_large);
  EXPECT_FALSE(wire::decode(huge));
  EXPECT_FALSE(wire::decode(wire::encode({nlohmann::json::array(), {}}))) << "the header must be an object";
}

TEST(EngineWire, AnErrorQuotingBytesThatAreNotUtf8StillTravels) {
  // DuckDB may quote a file's bytes in a message; the header is JSON, which needs UTF-8.
  auto frame = wire::encode(wire::result_message(make_error(Errc::invalid_argument, "bad value '\xff\xfe' in a.csv")));
  auto back = wire::result_from_message(wire::decode(frame).value());
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, Errc::invalid_argument);
  EXPECT_EQ(back.error().message, "bad value '\xEF\xBF\xBD\xEF\xBF\xBD' in a.csv");
}

TEST(EngineWire, FieldsOfAnotherTypeReadAsMissingNeverThrow) {
  // The engine process runs hostile SQL: what it sends is read without trusting it.
  nlohmann::json h = {{"ok", "yes"}, {"epoch", "3"}, {"id", 7}, {"error", "text"}, {"name", 5},
                      {"files", {{1, 2, 3, 4, 5}, {"k", 10, "e", "parquet", nlohmann::json::array()}}}};
  EXPECT_EQ(wire::field(h, "epoch", std::uint64_t{9}), 9u);
  EXPECT_EQ(wire::field(h, "id", std::uint64_t{0}), 7u);
  nlohmann::json numbers = {{"float", -1e2}, {"negative", -1}, {"huge", std::uint64_t{1} << 40}};
  EXPECT_EQ(wire::field(numbers, "float", std::uint64_t{5}), 5u) << "a float is not an integer (found by fuzz_engine_wire)";
  EXPECT_EQ(wire::field(numbers, "negative", std::uint64_t{5}), 5u);
  EXPECT_EQ(wire::field(numbers, "negative", std::int64_t{5}), -1);
  EXPECT_EQ(wire::field(numbers, "huge", std::int32_t{5}), 5) << "out of the type's range";
  EXPECT_EQ(wire::field(nlohmann::json::array(), "id", std::uint64_t{1}), 1u) << "not an object";
  EXPECT_EQ(wire::error_from_json(wire::field(h, "error", nlohmann::json::object())).code, Errc::internal);
  EXPECT_EQ(wire::table_from_json(h).name, "");
  auto p = wire::partition_from_json(h);
  ASSERT_EQ(p.files.size(), 1u) << "the file of the wrong shape is skipped";
  EXPECT_EQ(p.files[0].key, "k");
  auto r = wire::result_from_message({h, {"csv"}});
  ASSERT_FALSE(r) << "ok that is not true is not ok";
  EXPECT_EQ(r.error().code, Errc::internal);
}

TEST(EngineWire, ResultsAndErrorsKeepEveryField) {
  ResultSet r;
  r.columns = {{"n", "BIGINT"}, {"name", "VARCHAR"}};
  r.rows = {"[1,\"a\"]", "[2,null]"};
  r.csv = "n,name\n1,a\n2,\n";
  r.bytes = 17;
  auto back = wire::result_from_message(wire::decode(wire::encode(wire::result_message(r))).value());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->columns, r.columns);
  EXPECT_EQ(back->rows, r.rows);
  EXPECT_EQ(back->csv, r.csv);
  EXPECT_EQ(back->bytes, r.bytes);
  auto failed = wire::result_from_message(wire::result_message(make_error(Errc::too_large, "too big")));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::too_large);
  EXPECT_EQ(failed.error().message, "too big");
  EXPECT_EQ(wire::error_from_json({{"code", 999}, {"message", "x"}}).code, Errc::internal) << "an unknown code";
}

TEST(EngineWire, CatalogValuesKeepEveryField) {
  TableInfo t{"songs_data", "spotify", "file:///x/songs_data/", "parquet", {{"song_id", "VARCHAR"}}, {"dt"}, 3, 2, 7,
              "2026-11-21T06:00:00Z"};
  auto tb = wire::table_from_json(wire::table_to_json(t));
  EXPECT_EQ(tb.name, t.name);
  EXPECT_EQ(tb.columns, t.columns);
  EXPECT_EQ(tb.partitions, 3);
  EXPECT_EQ(tb.version, 2);
  EXPECT_EQ(tb.data_version, 7);
  EXPECT_EQ(tb.updated_at, t.updated_at);
  PartitionInfo p{{"2026-11-21"}, "file:///x/songs_data/dt=2026-11-21/",
                  {{"songs_data/dt=2026-11-21/a.parquet", 1234, "\"e\"", "parquet", {{"song_id", "VARCHAR"}}}}};
  auto pb = wire::partition_from_json(wire::partition_to_json(p));
  ASSERT_EQ(pb.files.size(), 1u);
  EXPECT_EQ(pb.values, p.values);
  EXPECT_EQ(pb.files[0].key, p.files[0].key);
  EXPECT_EQ(pb.files[0].size, 1234u);
  EXPECT_EQ(pb.files[0].etag, "\"e\"");
  EXPECT_EQ(pb.files[0].columns, p.files[0].columns);
  PinnedTable pin{"songs_data", 42, {"song_id", "name"}, {"songs_data/dt=2026-11-21/a.parquet"}};
  auto pinb = wire::pinned_from_json(wire::pinned_to_json(pin));
  EXPECT_EQ(pinb.table, pin.table);
  EXPECT_EQ(pinb.snapshot_id, 42);
  EXPECT_EQ(pinb.columns, pin.columns);
  EXPECT_EQ(pinb.keys, pin.keys);
}

nlohmann::json catalog_message(std::uint64_t generation, const std::vector<std::pair<std::string, std::int64_t>>& tables,
                                const std::vector<std::string>& with_partitions) {
  nlohmann::json list = nlohmann::json::array(), partitions = nlohmann::json::object();
  for (const auto& [name, version] : tables) {
    TableInfo t;
    t.name = name;
    t.data_version = version;
    list.push_back(wire::table_to_json(t));
  }
  for (const auto& name : with_partitions) {
    PartitionInfo p{{"2026-11-21"}, "file:///x/" + name + "/dt=2026-11-21/", {}};
    p.files.push_back({name + "/dt=2026-11-21/v" + std::to_string(tables.front().second) + ".parquet", 1, "e", "parquet", {}});
    partitions[name] = nlohmann::json::array({wire::partition_to_json(p)});
  }
  return {{"type", "catalog"}, {"generation", generation}, {"tables", list}, {"partitions", partitions}};
}

TEST(SnapshotCatalog, KeepsPartitionsNotSentAgainOnlyWhileTheirVersionStands) {
  SnapshotCatalog c("spotify");
  c.apply(catalog_message(1, {{"songs_data", 1}, {"albums_data", 1}}, {"songs_data", "albums_data"}));
  EXPECT_EQ(c.generation(), 1u);
  ASSERT_EQ(c.list_tables()->size(), 2u);
  ASSERT_TRUE(c.get_partitions("albums_data"));
  // songs_data moved and came with its partitions; albums_data did not move and was not sent again.
  c.apply(catalog_message(2, {{"songs_data", 2}, {"albums_data", 1}}, {"songs_data"}));
  EXPECT_EQ(c.get_partitions("songs_data")->front().files.front().key, "songs_data/dt=2026-11-21/v2.parquet");
  EXPECT_TRUE(c.get_partitions("albums_data")) << "kept: its version stands";
  // albums_data moved but its partitions could not be sent: none, not the old ones under the new version.
  c.apply(catalog_message(3, {{"songs_data", 2}, {"albums_data", 2}}, {}));
  EXPECT_FALSE(c.get_partitions("albums_data"));
  EXPECT_TRUE(c.get_partitions("songs_data"));
  // A table no longer named is gone.
  c.apply(catalog_message(4, {{"songs_data", 2}}, {}));
  EXPECT_FALSE(c.get_table("albums_data"));
  EXPECT_EQ(c.list_tables()->size(), 1u);
  EXPECT_FALSE(c.start_crawl({})) << "it does not crawl";
}

// An engine whose sessions stand for sessions of a process that can stop: the
// first `losses` executes fail as lost, and a session marked `stubborn` ignores
// interrupts until it is killed.
class FlakyEngine final : public SqlEngine {
 public:
  explicit FlakyEngine(std::unique_ptr<DuckDbEngine> real) : real_(std::move(real)) {}
  std::atomic<int> losses{0};
  std::atomic<bool> stubborn{false};
  std::atomic<int> sessions{0};
  std::atomic<int> kills{0};
  std::atomic<int> executes{0};
  // The next session() waits until kill() (or 10 s) and fails, as a request to a
  // process that stopped answering does.
  std::atomic<bool> stuck{false};
  std::atomic<int> engine_kills{0};
  // A session marked `forgetful` loses its first interrupt, as DuckDB loses one
  // that lands just before a statement starts, and stops at the next one.
  std::atomic<bool> forgetful{false};
  std::atomic<int> interrupts{0};

  class Session final : public SqlSession {
   public:
    Session(FlakyEngine& engine, std::unique_ptr<SqlSession> real) : engine_(engine), real_(std::move(real)) {}
    Result<ResultSet> execute(const std::string& sql, std::size_t max_bytes, bool want_csv, Dialect dialect) override {
      ++engine_.executes;
      if (engine_.forgetful) {
        std::unique_lock lock(mutex_);
        const int seen = interrupted_;
        cv_.wait_for(lock, 10s, [&] { return interrupted_ > std::max(seen, 1) || killed_; });
        return make_error(Errc::cancelled, "INTERRUPT Error: Interrupted!");
      }
      if (engine_.stubborn) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, 10s, [&] { return killed_; });
        lost_ = killed_;
        return make_error(Errc::unavailable, "the query engine process stopped");
      }
      if (engine_.losses.fetch_sub(1) > 0) {
        lost_ = true;
        return make_error(Errc::unavailable, "the query engine process stopped");
      }
      return real_->execute(sql, max_bytes, want_csv, dialect);
    }
    void interrupt() noexcept override {
      ++engine_.interrupts;
      {
        std::lock_guard lock(mutex_);
        ++interrupted_;
      }
      cv_.notify_all();
      real_->interrupt();
    }
    bool kill() noexcept override {
      ++engine_.kills;
      std::lock_guard lock(mutex_);
      killed_ = true;
      cv_.notify_all();
      return true;
    }
    bool lost() const noexcept override { return lost_; }
    std::uint64_t epoch() const noexcept override { return lost_ ? ~0ull : real_->epoch(); }

   private:
    FlakyEngine& engine_;
    std::unique_ptr<SqlSession> real_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool killed_ = false;
    int interrupted_ = 0;
    std::atomic<bool> lost_{false};
  };

  Result<std::unique_ptr<SqlSession>> session() override {
    if (stuck.exchange(false)) {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, 10s, [&] { return killed_; });
      return make_error(Errc::unavailable, "the query engine process stopped");
    }
    auto s = real_->session();
    if (!s) return std::move(s).error();
    ++sessions;
    return std::unique_ptr<SqlSession>(std::make_unique<Session>(*this, std::move(s).value()));
  }
  std::uint64_t epoch() const noexcept override { return real_->epoch(); }
  Status refresh_credentials() override { return {}; }
  Status pin(SqlSession&, const PinnedTable&, const TableInfo*) override { return {}; }
  Status check(const std::string& sql, std::set<std::string>* reads) override { return real_->check(sql, reads); }
  std::string scrub(std::string message) const override { return message; }
  Status sync_views(Catalog& catalog) override { return real_->sync_views(catalog); }
  std::map<std::string, std::int64_t> view_versions() override { return real_->view_versions(); }
  Status ping() override { return {}; }
  std::uint64_t resident_bytes() const noexcept override { return 0; }
  bool kill() noexcept override {
    ++engine_kills;
    std::lock_guard lock(mutex_);
    killed_ = true;
    cv_.notify_all();
    return true;
  }

 private:
  std::unique_ptr<DuckDbEngine> real_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool killed_ = false;
};

struct FlakyStack {
  testing::Stack base;  // its own manager is not used
  FlakyEngine* engine = nullptr;
  std::unique_ptr<QueryManager> queries;
  explicit FlakyStack(QueryManagerOptions options = {}) {
    auto flaky = std::make_unique<FlakyEngine>(DuckDbEngine::open({base.root, "spotify", 2, "", {}, 0}).value());
    engine = flaky.get();
    queries = std::make_unique<QueryManager>(base.catalog, std::move(flaky), base.store, "file://" + base.root.string(),
                                             options, base.metrics);
    queries->start();
  }
  ~FlakyStack() { queries->stop(); }
  QueryStatus run(const std::string& sql, std::chrono::milliseconds timeout = 30s) {
    QueryRequest r;
    r.sql = sql;
    r.timeout = timeout;
    auto started = queries->start(r);
    if (!started) throw std::runtime_error(started.error().message);
    return queries->wait(started->query_id, 30s).value();
  }
  // run(), and how long it took.
  QueryStatus run_timed(const std::string& sql, std::chrono::milliseconds timeout,
                        std::chrono::steady_clock::duration& took) {
    auto started = std::chrono::steady_clock::now();
    QueryStatus done = run(sql, timeout);
    took = std::chrono::steady_clock::now() - started;
    return done;
  }
};

// A stop while a query runs: the stop's own interrupt may land before the
// statement starts and be lost, so the watchdog keeps interrupting until the
// workers have ended (it used to end with the stop, and the stop waited on the
// statement for as long as it ran).
TEST(EngineIsolation, StoppingInterruptsARunningQueryUntilItStops) {
  FlakyStack s;
  s.engine->forgetful = true;
  QueryRequest r;
  r.sql = "SELECT 42 AS n";
  r.timeout = 60s;
  const std::string id = s.queries->start(r).value().query_id;
  ASSERT_TRUE(etl::testing::wait_until([&] { return s.engine->executes == 1; }));
  const auto began = std::chrono::steady_clock::now();
  s.queries->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s) << "the stop waited for the statement";
  EXPECT_GE(s.engine->interrupts, 2);
  auto done = s.queries->status(id).value();
  EXPECT_EQ(done.state, QueryState::cancelled);
  ASSERT_TRUE(done.error);
  EXPECT_NE(done.error->message.find("shutting down"), std::string::npos) << done.error->message;
}

TEST(EngineIsolation, AQueryWhoseProcessStoppedUnderItRunsOnceMoreOnANewSession) {
  FlakyStack s;
  s.engine->losses = 1;
  auto done = s.run("SELECT 42 AS n");
  ASSERT_EQ(done.state, QueryState::succeeded) << (done.error ? done.error->message : "");
  EXPECT_EQ(s.queries->page(done.query_id, "").value().rows.front(), "[42]");
  EXPECT_EQ(s.engine->sessions, 2) << "the lost session is not reused";
  EXPECT_EQ(s.base.metrics.counter("spotify_etl_cataloger_query_retries_total", "").value(), 1);
}

TEST(EngineIsolation, AQueryThatLosesItsProcessTwiceFails) {
  FlakyStack s;
  s.engine->losses = 2;
  auto done = s.run("SELECT 42 AS n");
  ASSERT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_EQ(done.error->code, Errc::unavailable);
  auto next = s.run("SELECT 43 AS n");
  EXPECT_EQ(next.state, QueryState::succeeded) << "the next query is not held back";
}

TEST(EngineIsolation, AQueryThatIgnoresItsInterruptIsKilledAfterTheGraceAndNotRunAgain) {
  QueryManagerOptions options;
  options.kill_grace = 200ms;
  FlakyStack s(options);
  s.engine->stubborn = true;
  std::chrono::steady_clock::duration took{};
  auto done = s.run_timed("SELECT 1 AS n", 100ms, took);
  ASSERT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_EQ(done.error->code, Errc::timeout);
  EXPECT_EQ(s.engine->kills, 1);
  EXPECT_LT(took, 8s) << "ended by the kill, not by the stubborn session's own 10 s";
  EXPECT_EQ(s.base.metrics.counter("spotify_etl_cataloger_query_retries_total", "").value(), 0)
      << "the query that was stopped is not run again";
  EXPECT_EQ(s.base.metrics.counter("spotify_etl_cataloger_query_engine_kills_total", "").value(), 1);
}

// A query stuck getting a session (its process stopped answering) has no session
// to kill: past its timeout and the grace the engine is killed, and the query,
// already failed as timed out, does not run on the session made after.
TEST(EngineIsolation, AQueryStuckGettingASessionGetsItsEngineKilledAndDoesNotRunAfter) {
  QueryManagerOptions options;
  options.kill_grace = 200ms;
  FlakyStack s(options);
  s.engine->stuck = true;
  std::chrono::steady_clock::duration took{};
  auto done = s.run_timed("SELECT 1 AS n", 100ms, took);
  ASSERT_EQ(done.state, QueryState::failed);
  ASSERT_TRUE(done.error);
  EXPECT_EQ(done.error->code, Errc::timeout) << done.error->message;
  EXPECT_EQ(s.engine->engine_kills, 1);
  EXPECT_EQ(s.engine->kills, 0) << "no session of its own to kill";
  EXPECT_LT(took, 8s) << "ended by the kill, not by the stuck request's own 10 s";
  EXPECT_EQ(s.base.metrics.counter("spotify_etl_cataloger_query_engine_kills_total", "").value(), 1);
  EXPECT_EQ(s.engine->executes, 0) << "it ran after it had failed";
  auto next = s.run("SELECT 43 AS n");
  ASSERT_EQ(next.state, QueryState::succeeded) << (next.error ? next.error->message : "");
  EXPECT_EQ(s.base.metrics.counter("spotify_etl_cataloger_query_retries_total", "").value(), 0);
}

}  // namespace
}  // namespace etl::cataloger

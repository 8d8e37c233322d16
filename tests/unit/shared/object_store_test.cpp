// One conformance suite for every ObjectStore backend. The file backend always
// runs; the S3 backend joins when ETL_TEST_S3_ENDPOINT / _ACCESS_KEY / _SECRET_KEY /
// _REGION / _BUCKET name a server (MinIO from scripts/test-servers.sh), each test
// under a prefix of its own.
#include "etl/object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "s3_test_env.h"
#include "test_support.h"

namespace etl {
namespace {

struct Backend {
  std::string name;
  std::function<std::string(const testing::TempDir&)> url;  // "" skips the backend
  std::function<AwsConfig()> aws = {};                      // empty: from the environment
};

class ObjectStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto url = GetParam().url(dir_);
    if (url.empty()) GTEST_SKIP() << GetParam().name << " backend not configured";
    if (GetParam().aws) aws_ = GetParam().aws();
    auto store = open_object_store(url + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name(), aws_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }
  testing::TempDir dir_;
  AwsConfig aws_ = [] {
    auto cfg = load_config(process_env());
    return cfg.ok() ? cfg->aws : AwsConfig{};
  }();
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformance, PutThenGetReturnsTheSameBytes) {
  std::string data("binary\0with nul and ä", 22);
  auto info = store_->put("to_be_processed/a.json", data);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, data.size());
  EXPECT_FALSE(info->etag.empty());
  auto back = store_->get("to_be_processed/a.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, data);
}

// A raw object is parsed where get() left it (transform_raw_in_place): simdjson reads
// up to 64 bytes past the end, so get() leaves that much spare capacity; without it
// every raw object was copied once more into a larger buffer.
TEST_P(ObjectStoreConformance, GetLeavesRoomToParseTheBytesInPlace) {
  const std::string data(300 * 1024 + 7, 'x');
  ASSERT_TRUE(store_->put("to_be_processed/big.json", data).ok());
  auto back = store_->get("to_be_processed/big.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->size(), data.size());
  EXPECT_GE(back->capacity(), data.size() + 64);
}

TEST_P(ObjectStoreConformance, PutOverwrites) {
  ASSERT_TRUE(store_->put("k.json", "first").ok());
  ASSERT_TRUE(store_->put("k.json", "second").ok());
  EXPECT_EQ(*store_->get("k.json"), "second");
}

TEST_P(ObjectStoreConformance, GetIfMatchReadsOnlyTheVersionAListingNamed) {
  auto first = store_->put("t/dt=2026-01-01/a.parquet", "first version");
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto got = store_->get_if_match(first->key, first->etag);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "first version");

  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a new mtime for the file backend's ETag
  auto second = store_->put(first->key, "second, longer version");
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_NE(second->etag, first->etag);
  auto stale = store_->get_if_match(first->key, first->etag);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::conflict) << stale.error().message;
  EXPECT_EQ(*store_->get_if_match(first->key, second->etag), "second, longer version");

  ASSERT_TRUE(store_->remove(first->key).ok());
  auto gone = store_->get_if_match(first->key, second->etag);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::not_found) << gone.error().message;
}

TEST_P(ObjectStoreConformance, MissingObjectsAreNotFound) {
  auto got = store_->get("nope.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::not_found);
  auto head = store_->head("nope.json");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, Errc::not_found);
}

// A key under an object's name ("a.json/x": not a folder on a disk) or naming a
// folder of keys ("dir") is no object either: not_found on every store, never
// an internal error (HTTP 500 with a host path on POST /v1/transform before).
TEST_P(ObjectStoreConformance, KeysUnderAnObjectOrNamingAFolderAreNotFound) {
  ASSERT_TRUE(store_->put("a.json", "{}").ok());
  ASSERT_TRUE(store_->put("dir/b.json", "{}").ok());
  for (const char* key : {"a.json/x", "a.json/x/y.json", "dir"}) {
    SCOPED_TRACE(key);
    auto got = store_->get(key);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, Errc::not_found) << got.error().message;
    auto head = store_->head(key);
    ASSERT_FALSE(head.ok());
    EXPECT_EQ(head.error().code, Errc::not_found) << head.error().message;
    auto moved = store_->move(key, "elsewhere/c.json");
    ASSERT_FALSE(moved.ok());
    EXPECT_EQ(moved.error().code, Errc::not_found) << moved.error().message;
    EXPECT_TRUE(store_->remove(key).ok());
  }
  EXPECT_TRUE(store_->get("dir/b.json").ok()) << "the folder's object stays";
}

TEST_P(ObjectStoreConformance, GetRefusesObjectsOverTheLimit) {
  ASSERT_TRUE(store_->put("big.json", std::string(2048, 'x')).ok());
  auto got = store_->get("big.json", 1024);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::too_large);
}

TEST_P(ObjectStoreConformance, ListIsSortedAndFilteredByPrefix) {
  for (const char* k : {"to_be_processed/b.json", "to_be_processed/a.json", "processed/c.json", "to_be_processed_x.json"})
    ASSERT_TRUE(store_->put(k, "{}").ok());
  auto listed = store_->list("to_be_processed/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "to_be_processed/a.json");
  EXPECT_EQ((*listed)[1].key, "to_be_processed/b.json");
  auto by_string = store_->list("to_be_processed");
  ASSERT_TRUE(by_string.ok());
  EXPECT_EQ(by_string->size(), 3u) << "a plain string prefix also matches to_be_processed_x.json";
  auto none = store_->list("nothing/");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(ObjectStoreConformance, MoveIsIdempotent) {
  ASSERT_TRUE(store_->put("to_be_processed/m.json", "payload").ok());
  ASSERT_TRUE(store_->move("to_be_processed/m.json", "processed/m.json").ok());
  EXPECT_EQ(store_->get("to_be_processed/m.json").error().code, Errc::not_found);
  EXPECT_EQ(*store_->get("processed/m.json"), "payload");
  EXPECT_TRUE(store_->move("to_be_processed/m.json", "processed/m.json").ok()) << "a repeated move is harmless";
  auto missing = store_->move("to_be_processed/none.json", "processed/none.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_P(ObjectStoreConformance, MoveAllMovesEveryPairAndAnswersForEach) {
  for (const char* n : {"a.json", "b.json"}) ASSERT_TRUE(store_->put(std::string("to_be_processed/") + n, n).ok());
  std::vector<std::pair<std::string, std::string>> moves = {{"to_be_processed/a.json", "processed/a.json"},
                                                            {"to_be_processed/none.json", "processed/none.json"},
                                                            {"to_be_processed/b.json", "processed/b.json"}};
  std::atomic<int> calls{0};
  auto moved = store_->move_all(moves, [&](std::size_t n, const std::function<void(std::size_t)>& body) {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i) threads.emplace_back([&, i] { ++calls, body(i); });
    for (auto& t : threads) t.join();
  });
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_TRUE(moved[0].ok()) << moved[0].error().message;
  ASSERT_FALSE(moved[1].ok());
  EXPECT_EQ(moved[1].error().code, Errc::not_found);
  EXPECT_TRUE(moved[2].ok()) << moved[2].error().message;
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(*store_->get("processed/a.json"), "a.json");
  EXPECT_EQ(*store_->get("processed/b.json"), "b.json");
  auto left = store_->list("to_be_processed/");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  auto again = store_->move_all(moves, [](std::size_t n, const std::function<void(std::size_t)>& body) {
    for (std::size_t i = 0; i < n; ++i) body(i);
  });
  EXPECT_TRUE(again[0].ok() && again[2].ok()) << "a repeated move is harmless";
}

TEST_P(ObjectStoreConformance, RemoveAllRemovesEveryKeyAndAbsentOnesAreFine) {
  for (const char* k : {"x/1", "x/2", "x/3"}) ASSERT_TRUE(store_->put(k, "v").ok());
  ASSERT_TRUE(store_->remove_all({"x/1", "x/3", "x/none"}).ok());
  auto left = store_->list("x/");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().key, "x/2");
}

TEST_P(ObjectStoreConformance, RemoveOfMissingKeyIsFine) {
  ASSERT_TRUE(store_->put("r.json", "x").ok());
  ASSERT_TRUE(store_->remove("r.json").ok());
  EXPECT_TRUE(store_->remove("r.json").ok());
  EXPECT_EQ(store_->head("r.json").error().code, Errc::not_found);
}

TEST_P(ObjectStoreConformance, UnsafeKeysAreRefused) {
  for (const char* key : {"", "/abs", "../escape", "a/../../b", "a//b", "a/./b", "trailing/"}) {
    auto put = store_->put(key, "x");
    ASSERT_FALSE(put.ok()) << "accepted key '" << key << "'";
    EXPECT_EQ(put.error().code, Errc::invalid_argument);
  }
}

TEST_P(ObjectStoreConformance, EventKeysMapBackToRelativeKeys) {
  auto full = store_->event_key("to_be_processed/x.json");
  auto back = store_->relative_key(store_->bucket(), full);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, "to_be_processed/x.json");
  EXPECT_FALSE(store_->relative_key("some-other-bucket", full).has_value());
}

TEST_P(ObjectStoreConformance, ConcurrentWritersNeverExposePartialObjects) {
  const std::string a(256 * 1024, 'a'), b(256 * 1024, 'b');
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!stop) {
      auto got = store_->get("hot.json");
      if (got.ok() && *got != a && *got != b) ++torn;
    }
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->put("hot.json", i % 2 ? a : b).ok());
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "a reader saw a partially written object";
}

TEST_P(ObjectStoreConformance, PutIfAbsentWritesOnlyANewKey) {
  auto first = store_->put_if_absent("_transformer/open/t/0/1.json", "first");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->size, 5u);
  auto second = store_->put_if_absent("_transformer/open/t/0/1.json", "second");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::conflict) << second.error().message;
  EXPECT_EQ(store_->get("_transformer/open/t/0/1.json").value(), "first") << "the first writer's bytes stay";
  ASSERT_TRUE(store_->remove("_transformer/open/t/0/1.json").ok());
  EXPECT_TRUE(store_->put_if_absent("_transformer/open/t/0/1.json", "third").ok()) << "free again once removed";
  auto listed = store_->list("_transformer/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u) << "no temporary file left behind";
}

TEST_P(ObjectStoreConformance, PutIfAbsentHasOneWinnerAmongConcurrentWriters) {
  constexpr int kWriters = 8;
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i)
    writers.emplace_back([&, i] {
      auto r = store_->put_if_absent("race/key.json", "writer " + std::to_string(i));
      if (r.ok()) ++won;
      else if (r.error().code == Errc::conflict) ++lost;
    });
  for (auto& w : writers) w.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), kWriters - 1);
}

TEST_P(ObjectStoreConformance, PingSucceedsOnAReachableStore) { EXPECT_TRUE(store_->ping().ok()); }

INSTANTIATE_TEST_SUITE_P(
    Backends, ObjectStoreConformance,
    ::testing::Values(Backend{"file", [](const testing::TempDir& d) { return d.url(); }},
                      Backend{"s3",
                              [](const testing::TempDir&) {
                                auto server = testing::s3_test_server();
                                if (!server) return std::string();
                                return "s3://" + server->bucket + "/" + testing::unique_s3_prefix("conformance");
                              },
                              [] { return testing::s3_test_server().value_or(testing::S3TestServer{}).aws; }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

TEST(FileObjectStore, TempFilesOfInterruptedWritesAreNeverListed) {
  testing::TempDir dir;
  auto store = open_object_store(dir.url(), {});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->put("to_be_processed/done.json", "{}").ok());
  // What a kill -9 in the middle of put leaves behind.
  std::FILE* f = std::fopen((dir.path() / "to_be_processed/.tmp-half.json-1-2-3").c_str(), "w");
  std::fputs("{\"trunc", f);
  std::fclose(f);
  auto listed = (*store)->list("to_be_processed/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "to_be_processed/done.json");
}

TEST(FileObjectStore, ListingsSweepTempFilesLeftByKilledWritersButNotWritesInFlight) {
  testing::TempDir dir;
  auto store = open_object_store(dir.url(), {});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->put("t/dt=1/a.parquet", "x").ok());
  auto old_tmp = dir.path() / "t/dt=1/.tmp-b.parquet-1-2-3";
  auto new_tmp = dir.path() / "t/dt=1/.tmp-c.parquet-4-5-6";
  for (const auto& p : {old_tmp, new_tmp}) {
    std::FILE* f = std::fopen(p.c_str(), "w");
    std::fputs("partial", f);
    std::fclose(f);
  }
  std::filesystem::last_write_time(old_tmp, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  auto listed = (*store)->list("t/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(old_tmp)) << "two hours old: abandoned";
  EXPECT_TRUE(std::filesystem::exists(new_tmp)) << "fresh: may be a write in progress";
}

TEST(ObjectStoreUrl, UnknownSchemesAreRefused) {
  auto store = open_object_store("ftp://x/y", {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace etl

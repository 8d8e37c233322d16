// The local copy of a remote transformed store: what it copies, re-copies,
// refuses and deletes. The source here is a file:// store (its ETags are not MD5s,
// so the If-Match path of the base class is what checks versions); the MinIO
// variant with MD5 ETags is in tests/integration/cataloger_s3_test.cpp.
#include "table_mirror.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Fixture {
  etl::testing::TempDir dir;
  std::shared_ptr<ObjectStore> source =
      std::shared_ptr<ObjectStore>(open_object_store("file://" + (dir.path() / "remote").string(), {}).value());
  MetricsRegistry metrics;

  std::shared_ptr<TableMirror> open(std::uint64_t max_bytes = 1u << 30,
                                    std::chrono::milliseconds grace = std::chrono::milliseconds(0)) {
    TableMirrorOptions o;
    o.root = dir.path() / "cache";
    o.max_bytes = max_bytes;
    o.deletion_grace = grace;
    return TableMirror::open(source, o, metrics).value();
  }
  ObjectInfo put(const std::string& key, const std::string& data) { return source->put(key, data).value(); }
  double downloads() {
    return metrics.counter("spotify_etl_cataloger_cache_downloads_total", "").value();
  }
};

TEST(TableMirror, CopiesDataFilesOnlyAndOnlyOnce) {
  Fixture f;
  f.put("songs_data/dt=2026-11-01/a.parquet", "AAAA");
  f.put("songs_data/dt=2026-11-01/b.csv", "BB");
  f.put("_catalog/spotify/songs_data.json", "{}");
  f.put("_query_results/q.csv", "x");
  auto mirror = f.open();
  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok());
  EXPECT_EQ(read_all(mirror->root() / "songs_data/dt=2026-11-01/a.parquet"), "AAAA");
  EXPECT_EQ(read_all(mirror->root() / "songs_data/dt=2026-11-01/b.csv"), "BB");
  EXPECT_FALSE(std::filesystem::exists(mirror->root() / "_catalog"));
  EXPECT_FALSE(std::filesystem::exists(mirror->root() / "_query_results"));
  EXPECT_EQ(mirror->files(), 2u);
  EXPECT_EQ(mirror->bytes(), 6u);
  EXPECT_EQ(f.downloads(), 2);

  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok());
  EXPECT_EQ(f.downloads(), 2) << "unchanged files are not copied again";
  EXPECT_EQ(f.metrics.gauge("spotify_etl_cataloger_cache_bytes", "").value(), 6);
}

TEST(TableMirror, AReplacedObjectIsCopiedAgain) {
  Fixture f;
  f.put("t/dt=1/a.parquet", "old");
  auto mirror = f.open();
  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok());
  std::this_thread::sleep_for(5ms);
  f.put("t/dt=1/a.parquet", "newer bytes");
  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok());
  EXPECT_EQ(read_all(mirror->root() / "t/dt=1/a.parquet"), "newer bytes");
  EXPECT_EQ(mirror->bytes(), 11u);
  EXPECT_EQ(f.downloads(), 2);
}

TEST(TableMirror, AnObjectReplacedAfterTheListingIsAConflictNotAWrongCopy) {
  Fixture f;
  f.put("t/dt=1/a.parquet", "listed");
  auto listing = f.source->list("").value();
  std::this_thread::sleep_for(5ms);
  f.put("t/dt=1/a.parquet", "written after the listing");
  auto mirror = f.open();
  Status s = mirror->mirror(listing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::conflict) << s.error().message;
  EXPECT_FALSE(std::filesystem::exists(mirror->root() / "t/dt=1/a.parquet"));
  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok()) << "the next listing names the new version";
  EXPECT_EQ(read_all(mirror->root() / "t/dt=1/a.parquet"), "written after the listing");
}

TEST(TableMirror, PastTheBoundItRefusesWithTheVariableNamedAndKeepsWhatItHas) {
  Fixture f;
  f.put("t/dt=1/a.parquet", std::string(600 << 10, 'a'));
  f.put("t/dt=2/b.parquet", std::string(600 << 10, 'b'));
  auto mirror = f.open(1u << 20);
  Status s = mirror->mirror(f.source->list("").value());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::too_large);
  EXPECT_NE(s.error().message.find("ETL_CATALOG_CACHE_MAX_BYTES"), std::string::npos) << s.error().message;
  EXPECT_EQ(mirror->files(), 1u);
  EXPECT_LE(mirror->bytes(), 1u << 20);
  EXPECT_FALSE(std::filesystem::exists(mirror->root() / "t/dt=2/b.parquet"));
}

TEST(TableMirror, RetainDeletesCopiesNoLongerListedUnderThePrefix) {
  Fixture f;
  f.put("t/dt=1/a.parquet", "a");
  f.put("t/dt=2/b.parquet", "bb");
  f.put("u/dt=1/c.parquet", "ccc");
  auto mirror = f.open();
  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok());
  mirror->retain("t/", {"t/dt=2/b.parquet"});
  EXPECT_FALSE(std::filesystem::exists(mirror->root() / "t/dt=1/a.parquet"));
  EXPECT_TRUE(std::filesystem::exists(mirror->root() / "t/dt=2/b.parquet"));
  EXPECT_TRUE(std::filesystem::exists(mirror->root() / "u/dt=1/c.parquet")) << "other tables are untouched";
  EXPECT_EQ(mirror->files(), 2u);
  EXPECT_EQ(mirror->bytes(), 5u);
}

TEST(TableMirror, UnlistedCopiesOutliveTheGraceForQueriesStillReadingThem) {
  Fixture f;
  f.put("t/dt=1/a.parquet", "a");
  f.put("t/dt=2/b.parquet", "b");
  auto mirror = f.open(1u << 30, 300ms);
  ASSERT_TRUE(mirror->mirror(f.source->list("").value()).ok());
  mirror->retain("t/", {"t/dt=2/b.parquet"});
  EXPECT_TRUE(std::filesystem::exists(mirror->root() / "t/dt=1/a.parquet")) << "within the grace";
  mirror->retain("t/", {"t/dt=1/a.parquet", "t/dt=2/b.parquet"});
  std::this_thread::sleep_for(400ms);
  mirror->retain("t/", {"t/dt=1/a.parquet", "t/dt=2/b.parquet"});
  EXPECT_TRUE(std::filesystem::exists(mirror->root() / "t/dt=1/a.parquet")) << "listed again: kept";
  mirror->retain("t/", {"t/dt=2/b.parquet"});
  std::this_thread::sleep_for(400ms);
  ASSERT_TRUE(mirror->mirror({}).ok());  // any later crawl sweeps
  EXPECT_FALSE(std::filesystem::exists(mirror->root() / "t/dt=1/a.parquet"));
  EXPECT_EQ(mirror->files(), 1u);
}

TEST(TableMirror, CopiesFromAnEarlierRunAreCountedAndReplacedWhenUnconfirmed) {
  Fixture f;
  f.put("t/dt=1/a.parquet", "current");
  {
    auto first = f.open();
    ASSERT_TRUE(first->mirror(f.source->list("").value()).ok());
  }
  auto again = f.open();
  EXPECT_EQ(again->files(), 1u) << "found on disk";
  EXPECT_EQ(again->bytes(), 7u);
  // A file:// ETag is not an MD5, so the copy cannot be proven: it is fetched again.
  ASSERT_TRUE(again->mirror(f.source->list("").value()).ok());
  EXPECT_EQ(f.downloads(), 2);
  EXPECT_EQ(again->bytes(), 7u);
}

TEST(TableMirrorOptions, SizesAndModesAreParsedAndBadValuesNamed) {
  auto config = load_config({{"ETL_CATALOG_CACHE_DIR", "/var/cache/x"},
                             {"ETL_CATALOG_CACHE_MAX_BYTES", "2G"},
                             {"ETL_CATALOG_CACHE_VERIFY", "etag"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto o = table_mirror_options(config->catalog_cache);
  EXPECT_EQ(o.root, "/var/cache/x");
  EXPECT_EQ(o.max_bytes, 2ull << 30);
  EXPECT_FALSE(o.verify_md5);
  EXPECT_EQ(load_config({{"ETL_CATALOG_CACHE_MAX_BYTES", "1048576"}})->catalog_cache.max_bytes, 1u << 20);
  EXPECT_TRUE(table_mirror_options(load_config({})->catalog_cache).verify_md5);
  for (std::string bad : {"abc", "10", "5X", "-1G", "99999999999999999T"}) {
    auto r = load_config({{"ETL_CATALOG_CACHE_MAX_BYTES", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("ETL_CATALOG_CACHE_MAX_BYTES"), std::string::npos);
  }
  EXPECT_FALSE(load_config({{"ETL_CATALOG_CACHE_VERIFY", "sha"}}).ok());
}

}  // namespace
}  // namespace etl::cataloger

// ManifestCache: parsed manifests and lists kept by name, least recently used out
// first within the byte budget; a manifest whose listed length differs is a miss.
#include "manifest_cache.h"

#include <gtest/gtest.h>

namespace etl::cataloger::iceberg {
namespace {

std::vector<ManifestEntry> entries(int n, const std::string& prefix = "s3://b/t/dt=2026-01-01/f") {
  std::vector<ManifestEntry> out;
  for (int i = 0; i < n; ++i) {
    ManifestEntry e;
    e.file_path = prefix + std::to_string(i) + ".parquet";
    e.dt = "2026-01-01";
    e.record_count = i;
    out.push_back(e);
  }
  return out;
}

TEST(ManifestCache, AManifestIsFoundByNameAndLengthOnly) {
  ManifestCache cache(1 << 20);
  EXPECT_EQ(cache.manifest("t/metadata/a-m0.avro", 100), nullptr);
  auto kept = cache.remember("t/metadata/a-m0.avro", 100, entries(3));
  ASSERT_NE(kept, nullptr);
  auto found = cache.manifest("t/metadata/a-m0.avro", 100);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, entries(3));
  EXPECT_EQ(cache.manifest("t/metadata/a-m0.avro", 101), nullptr) << "another length is another file";
  EXPECT_EQ(cache.manifest("t/metadata/b-m0.avro", 100), nullptr);
  EXPECT_EQ(cache.list("t/metadata/a-m0.avro"), nullptr) << "a manifest is not a list";
}

TEST(ManifestCache, AListIsFoundByName) {
  ManifestCache cache(1 << 20);
  ManifestFile m;
  m.manifest_path = "s3://b/t/metadata/a-m0.avro";
  m.manifest_length = 100;
  m.partitions.push_back({false, std::nullopt, "2026-01-01", "2026-01-02"});
  cache.remember("t/metadata/snap-1-a.avro", std::vector<ManifestFile>{m});
  auto found = cache.list("t/metadata/snap-1-a.avro");
  ASSERT_NE(found, nullptr);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front(), m);
  EXPECT_EQ(cache.manifest("t/metadata/snap-1-a.avro", -1), nullptr) << "a list is not a manifest";
}

TEST(ManifestCache, TheLeastRecentlyUsedGoWhenTheBudgetIsFull) {
  const std::size_t one = std::string("k0").size() + memory_of(entries(10));
  ManifestCache cache(3 * one + one / 2);  // room for three
  for (int i = 0; i < 3; ++i) cache.remember("k" + std::to_string(i), 1, entries(10));
  EXPECT_EQ(cache.size(), 3u);
  ASSERT_NE(cache.manifest("k0", 1), nullptr);  // k0 used: k1 is now the oldest
  cache.remember("k3", 1, entries(10));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_LE(cache.bytes(), 3 * one + one / 2);
  EXPECT_NE(cache.manifest("k0", 1), nullptr);
  EXPECT_EQ(cache.manifest("k1", 1), nullptr);
  EXPECT_NE(cache.manifest("k2", 1), nullptr);
  EXPECT_NE(cache.manifest("k3", 1), nullptr);
}

TEST(ManifestCache, ZeroBytesKeepsNothingAndWhatIsTooLargeIsNotKept) {
  ManifestCache off(0);
  auto kept = off.remember("k", 1, entries(2));
  ASSERT_NE(kept, nullptr) << "the caller still gets what it read";
  EXPECT_EQ(kept->size(), 2u);
  EXPECT_EQ(off.manifest("k", 1), nullptr);
  EXPECT_EQ(off.bytes(), 0u);

  ManifestCache small(memory_of(entries(10)));
  small.remember("small", 1, entries(1));
  small.remember("huge", 1, entries(1000));
  EXPECT_EQ(small.manifest("huge", 1), nullptr);
  EXPECT_NE(small.manifest("small", 1), nullptr) << "a file over the whole budget evicts nothing";
}

TEST(ManifestCache, RememberingAKeyAgainReplacesIt) {
  ManifestCache cache(1 << 20);
  cache.remember("k", 1, entries(2));
  const std::size_t bytes = cache.bytes();
  cache.remember("k", 2, entries(2));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), bytes);
  EXPECT_EQ(cache.manifest("k", 1), nullptr);
  EXPECT_NE(cache.manifest("k", 2), nullptr);
}

}  // namespace
}  // namespace etl::cataloger::iceberg

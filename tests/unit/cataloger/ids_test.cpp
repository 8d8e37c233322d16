// Crawl and query ids are random UUID v4s, as docs/contract.md §4.2 says.
#include "ids.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace etl::cataloger {
namespace {

TEST(Ids, NewIdsAreDistinctRandomUuidV4s) {
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  std::set<char> variants;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_id();
    ASSERT_TRUE(std::regex_match(id, v4)) << id;
    variants.insert(id[19]);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
  EXPECT_EQ(variants.size(), 4u) << "the variant's two free bits stay random";
}

}  // namespace
}  // namespace etl::cataloger

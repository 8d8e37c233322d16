#include "error_log.h"

#include <gtest/gtest.h>

namespace etl::transformer {
namespace {

Error bad(const std::string& message) { return Error{Errc::bad_data, message}; }

TEST(ErrorLog, InterleavedRetriesOfOneFailureAreOneRecord) {
  ErrorLog log;
  for (int attempt = 0; attempt < 3; ++attempt) {  // two objects fetched side by side, each retried
    log.add("event", "a.json", bad("not JSON"));
    log.add("event", "b.json", bad("truncated"));
  }
  auto last = log.last();
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].key, "a.json");
  EXPECT_EQ(last[0].count, 3u);
  EXPECT_EQ(last[1].key, "b.json");
  EXPECT_EQ(last[1].count, 3u);
  EXPECT_EQ(log.total(), 6u);
}

TEST(ErrorLog, ARepeatedFailureMovesToTheEndAndADifferentOneIsItsOwnRecord) {
  ErrorLog log;
  log.add("event", "a.json", bad("not JSON"));
  log.add("http", "b.json", bad("truncated"));
  log.add("event", "a.json", bad("not JSON"));
  log.add("event", "a.json", bad("another reason"));
  auto last = log.last();
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[0].key, "b.json");
  EXPECT_EQ(last[1].key, "a.json");
  EXPECT_EQ(last[1].count, 2u);
  EXPECT_EQ(last[2].message, "another reason");
  EXPECT_EQ(last[2].count, 1u);
}

TEST(ErrorLog, KeepsOnlyTheLatestRecords) {
  ErrorLog log;
  for (std::size_t i = 0; i < ErrorLog::kKeep + 5; ++i) log.add("event", "k" + std::to_string(i), bad("x"));
  auto last = log.last();
  ASSERT_EQ(last.size(), ErrorLog::kKeep);
  EXPECT_EQ(last.front().key, "k5");
  EXPECT_EQ(last.back().key, "k" + std::to_string(ErrorLog::kKeep + 4));
}

}  // namespace
}  // namespace etl::transformer

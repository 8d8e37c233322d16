// Query-parameter rules every route shares: present means valid, absent means the default.
#include <gtest/gtest.h>

#include "etl/http_params.h"

namespace etl::http {
namespace {

TEST(CountParam, AbsentIsTheDefaultAndTheBoundsAreInclusive) {
  EXPECT_EQ(*count_param(std::nullopt, "limit", 20, 1, 100), 20u);
  EXPECT_EQ(*count_param("1", "limit", 20, 1, 100), 1u);
  EXPECT_EQ(*count_param("100", "limit", 20, 1, 100), 100u);
}

TEST(CountParam, PresentButNotAWholeNumberInRangeIsRefused) {
  // "" is what `?limit=` decodes to: present, so it must not fall back to the default.
  for (const char* bad : {"", "0", "101", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e2", "99999999999999999999999"}) {
    auto r = count_param(std::string(bad), "limit", 20, 1, 100);
    ASSERT_FALSE(r.ok()) << "limit=" << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("limit must be a whole number from 1 to 100"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace etl::http

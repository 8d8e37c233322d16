// Query-parameter rules every route shares: present means valid, absent means the default.
#include <gtest/gtest.h>

#include "etl/http_params.h"
#include "etl/http_server.h"

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

namespace etl::http {
namespace {

// Accept's q-values (RFC 9110 12.5.1): the most specific matching range wins,
// q=0 means "not this", and no header means anything.
TEST(AcceptQuality, TheMostSpecificRangeGivesTheQuality) {
  auto q = [](std::string accept, std::string_view type) {
    Request r;
    if (!accept.empty()) r.headers.emplace("Accept", std::move(accept));
    return r.quality(type);
  };
  EXPECT_EQ(q("", "text/csv"), 1.0);
  EXPECT_EQ(q("text/csv", "text/csv"), 1.0);
  EXPECT_EQ(q("text/csv", "application/json"), 0.0);
  EXPECT_EQ(q("text/csv;q=0, application/json", "text/csv"), 0.0);
  EXPECT_EQ(q("text/csv;q=0, application/json", "application/json"), 1.0);
  EXPECT_EQ(q("text/*;q=0.5, */*;q=0.1", "text/csv"), 0.5);
  EXPECT_EQ(q("text/*;q=0.5, */*;q=0.1", "application/json"), 0.1);
  EXPECT_EQ(q("TEXT/CSV ; Q=0.7", "text/csv"), 0.7);
  EXPECT_EQ(q("*/*;q=0.8, text/csv;q=0", "text/csv"), 0.0) << "the exact range wins over */*";
  EXPECT_EQ(q("text/csv;q=abc", "text/csv"), 0.0);
  EXPECT_EQ(q("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/csv"), 0.8);
}

}  // namespace
}  // namespace etl::http

#include <gtest/gtest.h>

#include "pgwire/server.h"

namespace etl::pgwire {
namespace {

Result<std::optional<ServerOptions>> options_for(const Environment& env) {
  auto config = load_config(env);
  if (!config) return std::move(config).error();
  return server_options(*config);
}

TEST(PgConfig, DefaultListensOnLoopback5432WithoutFailingStartUp) {
  auto o = options_for({});
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(o->has_value());
  EXPECT_EQ((*o)->address.str(), "127.0.0.1:5432");
  EXPECT_FALSE((*o)->required) << "a taken default port is a warning, not a failed start-up";
  EXPECT_TRUE((*o)->password.empty());
}

TEST(PgConfig, ExplicitAddressIsRequiredAndTokenIsThePassword) {
  auto o = options_for({{"ETL_PG_ADDR", "0.0.0.0:6543"}, {"ETL_API_TOKEN", "t0k"}, {"ETL_PG_MAX_CONNECTIONS", "3"},
                        {"ETL_PG_READ_TIMEOUT_S", "5"}});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ((*o)->address.str(), "0.0.0.0:6543");
  EXPECT_TRUE((*o)->required);
  EXPECT_EQ((*o)->password, "t0k");
  EXPECT_EQ((*o)->max_connections, 3);
  EXPECT_EQ((*o)->limits.read_timeout.count(), 5);
}

TEST(PgConfig, OffDisablesTheEndpoint) {
  auto o = options_for({{"ETL_PG_ADDR", "off"}});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->has_value());
}

TEST(PgConfig, BadValuesNameTheVariable) {
  auto addr = load_config({{"ETL_PG_ADDR", "nope"}});
  ASSERT_FALSE(addr.ok());
  EXPECT_NE(addr.error().message.find("ETL_PG_ADDR"), std::string::npos);
  for (const char* name : {"ETL_PG_MAX_CONNECTIONS", "ETL_PG_MAX_MESSAGE_BYTES", "ETL_PG_IDLE_TIMEOUT_S",
                           "ETL_PG_READ_TIMEOUT_S", "ETL_PG_STATEMENT_TIMEOUT_MS"}) {
    auto o = options_for({{name, "0x"}});
    ASSERT_FALSE(o.ok()) << name;
    EXPECT_NE(o.error().message.find(name), std::string::npos) << o.error().message;
  }
}

}  // namespace
}  // namespace etl::pgwire

#include <gtest/gtest.h>

#include "pgwire/server.h"
#include "test_support.h"
#include "tls_test_pair.h"

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

std::string config_error(const Environment& env) {
  auto c = load_config(env);
  return c.ok() ? std::string() : c.error().message;
}

TEST(PgConfig, TlsPairIsLoadedAndPassedToTheServer) {
  testing::TempDir dir;
  auto pair = testing::write_tls_pair(dir.path(), "server");
  auto o = options_for({{"ETL_PG_TLS_CERT", pair.cert}, {"ETL_PG_TLS_KEY", pair.key}, {"ETL_PG_TLS_REQUIRED", "true"}});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ((*o)->tls_cert, pair.cert);
  EXPECT_EQ((*o)->tls_key, pair.key);
  EXPECT_TRUE((*o)->tls_required);
  EXPECT_TRUE(make_tls_context(pair.cert, pair.key).ok());
}

TEST(PgConfig, BadTlsFilesAreOneLineErrorsNamingTheVariable) {
  testing::TempDir dir;
  auto pair = testing::write_tls_pair(dir.path(), "server");
  auto other = testing::write_tls_pair(dir.path(), "other");
  const std::string missing = (dir.path() / "missing.pem").string();
  struct Case {
    Environment env;
    std::string variable, reason;
  };
  for (const auto& c : std::vector<Case>{
           {{{"ETL_PG_TLS_CERT", pair.cert}}, "ETL_PG_TLS_KEY", "set together"},
           {{{"ETL_PG_TLS_KEY", pair.key}}, "ETL_PG_TLS_CERT", "set together"},
           {{{"ETL_PG_TLS_REQUIRED", "true"}}, "ETL_PG_TLS_REQUIRED", "needs ETL_PG_TLS_CERT"},
           {{{"ETL_PG_TLS_REQUIRED", "yes"}}, "ETL_PG_TLS_REQUIRED", "not true or false"},
           {{{"ETL_PG_TLS_CERT", pair.cert}, {"ETL_PG_TLS_KEY", missing}}, "ETL_PG_TLS_KEY", "No such file"},
           {{{"ETL_PG_TLS_CERT", missing}, {"ETL_PG_TLS_KEY", pair.key}}, "ETL_PG_TLS_CERT", "No such file"},
           {{{"ETL_PG_TLS_CERT", pair.cert}, {"ETL_PG_TLS_KEY", other.key}}, "ETL_PG_TLS_KEY", "does not match"},
           {{{"ETL_PG_TLS_CERT", pair.key}, {"ETL_PG_TLS_KEY", pair.key}}, "ETL_PG_TLS_CERT", "not a PEM certificate"},
           {{{"ETL_PG_TLS_CERT", pair.cert}, {"ETL_PG_TLS_KEY", pair.cert}}, "ETL_PG_TLS_KEY", "not an unencrypted PEM"},
       }) {
    std::string message = config_error(c.env);
    EXPECT_EQ(message.rfind(c.variable + ":", 0), 0u) << message;
    EXPECT_NE(message.find(c.reason), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(make_tls_context(pair.cert, other.key).ok());
}

}  // namespace
}  // namespace etl::pgwire

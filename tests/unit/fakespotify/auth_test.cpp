// The Accounts token endpoint and the bearer check in front of every API call.
#include "fake_spotify_test_util.h"

namespace etl::fakespotify::testing {
namespace {

const std::string kDemoPlaylistPath = std::string("/v1/playlists/") + kDemoPlaylistId;

using FakeSpotify = FakeSpotifyTest;

TEST_F(FakeSpotify, TokenRequiresBasicAuth) {
  auto none = post_token("", "grant_type=client_credentials");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  EXPECT_EQ(json::parse(none->body)["error"], "invalid_client");

  auto wrong = post_token(basic_auth("spotify-etl-demo", "not-the-secret"), "grant_type=client_credentials");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(json::parse(wrong->body), (json{{"error", "invalid_client"}, {"error_description", "Invalid client"}}));

  auto right = post_token(basic_auth("spotify-etl-demo", "offline-sample"), "grant_type=client_credentials");
  ASSERT_TRUE(right);
  ASSERT_EQ(right->status, 200) << right->body;
  const json body = json::parse(right->body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_GT(body["access_token"].get<std::string>().size(), 40u);
  EXPECT_EQ(server_.token_requests(), 3);
}

TEST_F(FakeSpotify, TokenAcceptsCredentialsInTheForm) {
  auto res = post_token("", "grant_type=client_credentials&client_id=spotify-etl-demo&client_secret=offline-sample");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(FakeSpotify, TokenRequiresTheClientCredentialsGrant) {
  auto missing = post_token(basic_auth("spotify-etl-demo", "offline-sample"), "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(json::parse(missing->body)["error"], "unsupported_grant_type");
  auto other = post_token(basic_auth("spotify-etl-demo", "offline-sample"), "grant_type=password");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 400);
}

TEST_F(FakeSpotify, ApiCallWithoutTokenIs401NoTokenProvided) {
  auto res = get(kDemoPlaylistPath, "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body), (json{{"error", {{"status", 401}, {"message", "No token provided"}}}}));
}

TEST_F(FakeSpotify, ApiCallWithUnknownTokenIs401) {
  auto res = get(kDemoPlaylistPath, "BQmadeUpToken");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"]["message"], "Invalid access token");
}

TEST_F(FakeSpotify, ExpiredTokensGet401UntilANewOneIsFetched) {
  const std::string old = token();
  get_json(kDemoPlaylistPath, 200);
  server_.expire_all_tokens();
  auto res = get(kDemoPlaylistPath, old);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body), (json{{"error", {{"status", 401}, {"message", "The access token expired"}}}}));

  token_.clear();
  EXPECT_NE(token(), old) << "a new token must differ from the expired one";
  get_json(kDemoPlaylistPath, 200);
}

TEST_F(FakeSpotify, TokenFaultsApplyOnlyToTokenRequests) {
  server_.fail_next_token_requests(1, 503);
  auto failed = post_token(basic_auth("spotify-etl-demo", "offline-sample"), "grant_type=client_credentials");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  get_json(kDemoPlaylistPath, 200);  // fetches a token: the fault is used up

  server_.fail_next(1, 500);
  auto ok = post_token(basic_auth("spotify-etl-demo", "offline-sample"), "grant_type=client_credentials");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << "API faults must not hit the token endpoint";
  get_json(kDemoPlaylistPath, 500);
}

class FakeSpotifyShortTokens : public FakeSpotifyTest {
 protected:
  FakeSpotifyShortTokens() : FakeSpotifyTest(FakeSpotifyOptions{.token_ttl_s = 0}) {}
};

TEST_F(FakeSpotifyShortTokens, TokenLifetimeIsEnforced) {
  auto res = post_token(basic_auth("spotify-etl-demo", "offline-sample"), "grant_type=client_credentials");
  ASSERT_TRUE(res);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["expires_in"], 0);
  auto api = get(kDemoPlaylistPath, body["access_token"].get<std::string>());
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401);
  EXPECT_EQ(json::parse(api->body)["error"]["message"], "The access token expired");
}

}  // namespace
}  // namespace etl::fakespotify::testing

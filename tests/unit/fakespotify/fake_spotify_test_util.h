// A started fake plus an httplib client that holds a token and follows absolute URLs.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fake_spotify.h"

namespace etl::fakespotify::testing {

using nlohmann::json;

inline std::string base64(const std::string& in) {
  static constexpr char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    for (bits += 8; bits >= 6; bits -= 6) out += abc[(buffer >> (bits - 6)) & 63];
  }
  if (bits > 0) out += abc[(buffer << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

inline std::string basic_auth(const std::string& id, const std::string& secret) {
  return "Basic " + base64(id + ":" + secret);
}

class FakeSpotifyTest : public ::testing::Test {
 protected:
  explicit FakeSpotifyTest(FakeSpotifyOptions options = {}) : server_(std::move(options)) {}

  void SetUp() override {
    ASSERT_GT(server_.start(), 0) << "the fake could not bind a port";
    client_ = std::make_unique<httplib::Client>(server_.accounts_url());
  }
  void TearDown() override { server_.stop(); }

  httplib::Result post_token(const std::string& authorization, const std::string& form) {
    httplib::Headers h;
    if (!authorization.empty()) h.emplace("Authorization", authorization);
    return client_->Post("/api/token", h, form, "application/x-www-form-urlencoded");
  }

  // A valid bearer token (fetched once per test).
  const std::string& token() {
    if (token_.empty()) {
      const FakeSpotifyOptions defaults;
      auto res = post_token(basic_auth(defaults.client_id, defaults.client_secret), "grant_type=client_credentials");
      EXPECT_TRUE(res && res->status == 200) << "token request failed";
      if (res && res->status == 200) token_ = json::parse(res->body).value("access_token", "");
    }
    return token_;
  }

  // GET a path ("/v1/...") or an absolute URL of this server.
  httplib::Result get(const std::string& url, const std::string& bearer) {
    std::string path = url;
    if (path.rfind(server_.accounts_url(), 0) == 0) path = path.substr(server_.accounts_url().size());
    httplib::Headers h;
    if (!bearer.empty()) h.emplace("Authorization", "Bearer " + bearer);
    return client_->Get(path, h);
  }
  httplib::Result get(const std::string& url) { return get(url, token()); }

  // GET with the test token, expecting `status`; the parsed body (null when absent or not JSON).
  json get_json(const std::string& url, int status = 200) {
    auto res = get(url);
    if (!res) {
      ADD_FAILURE() << "GET " << url << ": no response (" << httplib::to_string(res.error()) << ")";
      return nullptr;
    }
    EXPECT_EQ(res->status, status) << "GET " << url << " answered " << res->body.substr(0, 300);
    return json::parse(res->body, nullptr, false);
  }

  // Follows `next` from `first_url` to the end; every page's items, in order.
  std::vector<json> all_items(const std::string& first_url, int* pages = nullptr, std::string pick = {}) {
    std::vector<json> items;
    json page = get_json(first_url);
    int n = 0;
    while (n < 200) {
      if (!pick.empty()) page = page[pick];
      if (!page.is_object()) break;
      ++n;
      for (const auto& item : page["items"]) items.push_back(item);
      if (page["next"].is_null()) break;
      const std::string next = page["next"];
      EXPECT_EQ(next.rfind(server_.api_url(), 0), 0u) << "next is not an absolute URL of the fake: " << next;
      page = get_json(next);
    }
    if (pages) *pages = n;
    return items;
  }

  FakeSpotifyServer server_;
  std::unique_ptr<httplib::Client> client_;
  std::string token_;
};

}  // namespace etl::fakespotify::testing

#include "ui/ui_routes.h"

#include <gtest/gtest.h>

#include <regex>

#include "etl/http_client.h"
#include "etl/http_server.h"

namespace etl::cataloger {
namespace {

using ui::parse_view;

const ui::EmbeddedFile* embedded(std::string_view path) {
  for (const auto& f : ui::embedded_files())
    if (f.path == path) return &f;
  return nullptr;
}

TEST(UiViews, ParsesTheHeaderAndKeepsOnlyTheSql) {
  auto v = parse_view("top_artists.sql",
                      "-- title: Top artists\n-- panel: trends\n-- chart: hbar\n-- x: artist_name\n-- y: songs, rows\n"
                      "-- order: 7\n-- age: newest\n-- description: what it shows\nSELECT 1 AS songs\nFROM t;\n");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->id, "top_artists");
  EXPECT_EQ(v->title, "Top artists");
  EXPECT_EQ(v->panel, "trends");
  EXPECT_EQ(v->chart, "hbar");
  EXPECT_EQ(v->x, "artist_name");
  EXPECT_EQ(v->y, (std::vector<std::string>{"songs", "rows"}));
  EXPECT_EQ(v->order, 7);
  EXPECT_EQ(v->age, "newest");
  EXPECT_EQ(v->description, "what it shows");
  EXPECT_EQ(v->sql, "SELECT 1 AS songs\nFROM t");
}

TEST(UiViews, RejectsBadFilesWithTheReason) {
  const std::string ok = "-- title: T\n-- panel: health\n-- chart: table\n";
  struct Case {
    std::string name, text, reason;
  };
  for (const auto& c : std::vector<Case>{
           {"a.sql", ok, "no SQL"},
           {"a.sql", "-- panel: health\n-- chart: table\nSELECT 1", "title is required"},
           {"a.sql", "-- title: T\n-- panel: other\n-- chart: table\nSELECT 1", "panel must be"},
           {"a.sql", "-- title: T\n-- panel: health\n-- chart: pie3d\nSELECT 1", "chart must be"},
           {"a.sql", ok + "-- colour: red\nSELECT 1", "unknown key 'colour'"},
           {"a.sql", ok + "-- order: soon\nSELECT 1", "order must be an integer"},
           {"a.sql", ok + "-- just a comment\nSELECT 1", "header lines are"},
           {"A-B.sql", ok + "SELECT 1", "[a-z0-9_]+"},
           {"a.txt", ok + "SELECT 1", ".sql file"},
       }) {
    auto v = parse_view(c.name, c.text);
    ASSERT_FALSE(v.ok()) << c.name << " " << c.text;
    EXPECT_NE(v.error().message.find(c.reason), std::string::npos) << v.error().message;
    EXPECT_NE(v.error().message.find("views/" + c.name), std::string::npos) << v.error().message;
  }
}

TEST(UiViews, EveryShippedViewParsesAndIsListed) {
  size_t files = 0;
  for (const auto& f : ui::embedded_files()) {
    if (f.path.substr(0, 6) != "views/") continue;
    ++files;
    auto v = parse_view(f.path.substr(6), f.data);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->sql.find(';'), std::string::npos) << f.path << ": one statement, no ';'";
  }
  EXPECT_GE(files, 8u);
  auto listed = ui::views_json(ui::embedded_files());
  ASSERT_EQ(listed["views"].size(), files);
  for (size_t i = 1; i < files; ++i)
    EXPECT_LE(listed["views"][i - 1]["order"].get<int>(), listed["views"][i]["order"].get<int>());
}

TEST(UiAssets, ThePageHasNoInlineScriptNoHandlerAttributesAndNoOtherOrigin) {
  for (const char* path : {"index.html", "app.js", "api.js", "charts.js", "console.js", "panels.js", "tables.js", "style.css"}) {
    auto f = embedded(path);
    ASSERT_NE(f, nullptr) << path;
    std::string text(f->data);
    EXPECT_FALSE(std::regex_search(text, std::regex(R"(https?://)"))) << path << " names another origin";
    if (std::string_view(path) != "index.html") continue;
    const std::regex script(R"(<script([^>]*)>)");
    for (std::sregex_iterator it(text.begin(), text.end(), script), end; it != end; ++it)
      EXPECT_NE((*it)[1].str().find("src="), std::string::npos) << "inline script: " << it->str();
    EXPECT_FALSE(std::regex_search(text, std::regex(R"(\son[a-z]+\s*=)"))) << "event handler attribute";
    EXPECT_FALSE(std::regex_search(text, std::regex(R"(\sstyle\s*=)"))) << "inline style attribute";
  }
  auto chart = embedded("vendor/chart.umd.min.js");
  ASSERT_NE(chart, nullptr);
  EXPECT_NE(chart->data.substr(0, 40).find("Chart.js v4.6.1"), std::string::npos);
}

TEST(UiAssets, ContentTypesAndValidators) {
  EXPECT_EQ(ui::content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ui::content_type_for("vendor/chart.umd.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ui::content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ui::content_type_for("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(ui::content_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(ui::etag_for("abc"), ui::etag_for("abc"));
  EXPECT_NE(ui::etag_for("abc"), ui::etag_for("abd"));
  EXPECT_EQ(ui::etag_for("").front(), '"');
}

class UiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions o;
    o.service = "cataloger";
    o.address = {"127.0.0.1", 0};
    o.api_token = "s3cret";
    server_ = std::make_unique<http::Server>(o, metrics_);
    install_ui_routes(*server_);
    server_->get(R"(/v1/tables)", [](const http::Request&) { return http::json_response(200, {{"tables", nlohmann::json::array()}}); });
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override { server_->stop(); }
  http::ClientResponse get(const std::string& path, std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto r = client_.send({"GET", server_->base_url() + path, std::move(headers), ""});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::ClientResponse{};
  }
  MetricsRegistry metrics_;
  std::unique_ptr<http::Server> server_;
  http::Client client_;
};

TEST_F(UiRoutesTest, ServesThePageWithoutTheTokenUnderAStrictPolicy) {
  auto page = get("/ui/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  const std::regex version(R"(href="v/([0-9a-f]{16})/style\.css")");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, version)) << page.body;
  EXPECT_EQ(page.body, ui::versioned_page(std::string(embedded("index.html")->data), m[1].str()));
  EXPECT_EQ(page.body.find("{{asset}}"), std::string::npos);
  EXPECT_EQ(page.header("content-security-policy"), std::string(ui::kContentSecurityPolicy));
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  auto chart = get("/ui/vendor/chart.umd.min.js");
  EXPECT_EQ(chart.status, 200);
  EXPECT_EQ(chart.body.size(), embedded("vendor/chart.umd.min.js")->data.size());
}

TEST_F(UiRoutesTest, VersionedFilesAreCachedForGoodOnlyUnderTheCurrentVersion) {
  auto page = get("/ui/");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex(R"(src="(v/[0-9a-f]{16})/app\.js")")));
  const std::string prefix = "/ui/" + m[1].str() + "/";
  for (const char* file : {"app.js", "api.js", "vendor/chart.umd.min.js", "style.css", "views.json"}) {
    auto current = get(prefix + file);
    EXPECT_EQ(current.status, 200) << file;
    EXPECT_EQ(current.header("cache-control"), "public, max-age=31536000, immutable") << file;
    EXPECT_EQ(current.body, get(std::string("/ui/") + file).body) << file;
  }
  auto old = get("/ui/v/0000000000000000/app.js");  // a page from before an upgrade
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(old.header("cache-control"), "no-cache");
  EXPECT_EQ(get(prefix + "index.html").header("cache-control"), "no-cache");
  EXPECT_EQ(get("/ui/v/").status, 404);
  EXPECT_EQ(get(prefix + "nope.js").status, 404);
  // Every file the page names under the prefix exists.
  const std::regex named(R"re((?:href|src)="(v/[0-9a-f]{16}/[^"]+)")re");
  for (std::sregex_iterator it(page.body.begin(), page.body.end(), named), end; it != end; ++it)
    EXPECT_EQ(get("/ui/" + (*it)[1].str()).status, 200) << (*it)[1].str();
}

TEST_F(UiRoutesTest, RedirectsTheRootAndAnswersUnknownFilesWithAProblem) {
  auto root = get("/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.header("location"), "/ui/");
  EXPECT_EQ(get("/ui").header("location"), "/ui/");
  auto unknown = get("/ui/secret.txt");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.header("content-type"), "application/problem+json");
  EXPECT_NE(unknown.header("content-security-policy"), "");
}

TEST_F(UiRoutesTest, ListsTheSavedViewsAndRevalidatesWithTheETag) {
  auto views = get("/ui/views.json");
  ASSERT_EQ(views.status, 200);
  auto doc = nlohmann::json::parse(views.body);
  EXPECT_EQ(doc, ui::views_json(ui::embedded_files()));
  std::string etag = views.header("etag");
  ASSERT_FALSE(etag.empty());
  auto again = get("/ui/views.json", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get("/ui/views.json", {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST_F(UiRoutesTest, TheApiStillWantsTheToken) {
  EXPECT_EQ(get("/v1/tables").status, 401);
  EXPECT_EQ(get("/v1/tables", {{"Authorization", "Bearer s3cret"}}).status, 200);
}

}  // namespace
}  // namespace etl::cataloger

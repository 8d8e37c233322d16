#include "ui/ui_routes.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <memory>

#include "etl/log.h"

namespace etl::cataloger {
namespace ui {
namespace {

using nlohmann::json;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool one_of(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::vector<std::string> split_columns(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = trim(v.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

Status apply_key(View& view, std::string_view key, std::string_view value, const std::string& where) {
  if (key == "title") view.title = value;
  else if (key == "panel") view.panel = value;
  else if (key == "chart") view.chart = value;
  else if (key == "x") view.x = value;
  else if (key == "y") view.y = split_columns(value);
  else if (key == "description") view.description = value;
  else if (key == "age") view.age = value;
  else if (key == "order") {
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), view.order);
    if (ec != std::errc() || end != value.data() + value.size())
      return make_error(Errc::invalid_argument, where + ": order must be an integer");
  } else {
    return make_error(Errc::invalid_argument,
                      where + ": unknown key '" + std::string(key) + "' (title, panel, chart, x, y, age, order, description)");
  }
  return {};
}

struct Asset {
  std::string body;
  std::string content_type;
  std::string etag;
};

http::Response with_headers(http::Response r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  return r;
}

http::Response redirect(std::string location) {
  http::Response r;
  r.status = 302;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "see " + location + "\n";
  r.headers.emplace_back("Location", std::move(location));
  return with_headers(std::move(r));
}

struct Assets {
  std::map<std::string, Asset, std::less<>> files;
  std::string version;  // of every file but the page: the `v/<version>/` of their URLs
};

// The page names its files `{{asset}}/<file>`, which becomes `v/<version>/<file>`:
// a URL that changes with the files, so they can be cached for good (modules'
// relative imports keep the prefix). The page itself is revalidated each time.
std::shared_ptr<const Assets> build_assets() {
  auto assets = std::make_shared<Assets>();
  auto& files = assets->files;
  for (const auto& f : embedded_files())
    files[std::string(f.path)] = {std::string(f.data), content_type_for(f.path), etag_for(f.data)};
  std::string views = views_json(embedded_files()).dump();
  files["views.json"] = {views, "application/json", etag_for(views)};
  std::string etags;
  for (const auto& [path, a] : files)
    if (path != "index.html") etags += path + a.etag;
  assets->version = etag_for(etags).substr(1, 16);
  if (auto page = files.find("index.html"); page != files.end()) {
    page->second.body = versioned_page(page->second.body, assets->version);
    page->second.etag = etag_for(page->second.body);
  }
  return assets;
}

}  // namespace

Result<View> parse_view(std::string_view file_name, std::string_view text) {
  View view;
  const std::string where = "views/" + std::string(file_name);
  std::string_view stem = file_name;
  if (stem.size() <= 4 || stem.substr(stem.size() - 4) != ".sql")
    return make_error(Errc::invalid_argument, where + ": a view is a .sql file");
  stem.remove_suffix(4);
  if (!valid_id(stem)) return make_error(Errc::invalid_argument, where + ": the file name must be [a-z0-9_]+.sql");
  view.id = stem;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    auto line = trim(rest.substr(0, eol));
    if (line.substr(0, 2) != "--") break;
    auto body = trim(line.substr(2));
    auto colon = body.find(':');
    if (colon == std::string_view::npos) return make_error(Errc::invalid_argument, where + ": header lines are `-- key: value`");
    ETL_RETURN_IF_ERROR(apply_key(view, trim(body.substr(0, colon)), trim(body.substr(colon + 1)), where));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
  }
  view.sql = std::string(trim(rest));
  while (!view.sql.empty() && (view.sql.back() == '\n' || view.sql.back() == ';' || view.sql.back() == ' '))
    view.sql.pop_back();
  if (view.title.empty()) return make_error(Errc::invalid_argument, where + ": title is required");
  if (!one_of(view.panel, {"trends", "health"})) return make_error(Errc::invalid_argument, where + ": panel must be trends or health");
  if (!one_of(view.chart, {"bar", "hbar", "line", "doughnut", "table", "runs"}))
    return make_error(Errc::invalid_argument, where + ": chart must be bar, hbar, line, doughnut, table or runs");
  if (view.sql.empty()) return make_error(Errc::invalid_argument, where + ": no SQL after the header");
  return view;
}

json to_json(const View& v) {
  return {{"id", v.id},       {"title", v.title}, {"panel", v.panel},
          {"chart", v.chart}, {"x", v.x},         {"y", v.y},
          {"order", v.order}, {"sql", v.sql},     {"description", v.description},
          {"age", v.age}};
}

json views_json(std::span<const EmbeddedFile> files) {
  std::vector<View> views;
  for (const auto& f : files) {
    if (f.path.substr(0, 6) != "views/" || f.path.find('/', 6) != std::string_view::npos) continue;
    auto view = parse_view(f.path.substr(6), f.data);
    if (!view) {
      log::warn("dashboard view left out", {{"error", view.error().message}});
      continue;
    }
    views.push_back(std::move(view).value());
  }
  std::sort(views.begin(), views.end(), [](const View& a, const View& b) {
    return a.order != b.order ? a.order < b.order : a.id < b.id;
  });
  json out = json::array();
  for (const auto& v : views) out.push_back(to_json(v));
  return {{"views", out}};
}

std::string content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "sql") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string etag_for(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace ui

std::string ui::versioned_page(std::string page, std::string_view version) {
  const std::string placeholder = "{{asset}}", prefix = "v/" + std::string(version);
  for (auto at = page.find(placeholder); at != std::string::npos; at = page.find(placeholder, at + prefix.size()))
    page.replace(at, placeholder.size(), prefix);
  return page;
}

void install_ui_routes(http::Server& server) {
  auto assets = ui::build_assets();
  server.get(R"(/)", [](const http::Request&) { return ui::redirect("/ui/"); });
  server.get(R"(/ui)", [](const http::Request&) { return ui::redirect("/ui/"); });
  server.get("/ui/{path*}", [assets](const http::Request& req) {
    std::string_view path = req.params.at(0);
    // v/<version>/<file>: cached for good when <version> is today's (an older page
    // gets today's files, revalidated as before).
    bool immutable = false;
    if (path.rfind("v/", 0) == 0) {
      auto slash = path.find('/', 2);
      if (slash == std::string_view::npos) {
        path = "v";  // no such file
      } else {
        immutable = path.substr(2, slash - 2) == assets->version;
        path.remove_prefix(slash + 1);
      }
    }
    if (path.empty()) path = "index.html";
    auto it = assets->files.find(path);
    if (it == assets->files.end())
      return ui::with_headers(http::problem_response(404, "Not Found", "no such dashboard file: /ui/" + std::string(path)));
    http::Response r;
    r.headers.emplace_back("ETag", it->second.etag);
    r.headers.emplace_back("Cache-Control", immutable && path != "index.html" ? "public, max-age=31536000, immutable" : "no-cache");
    if (req.header("If-None-Match") == it->second.etag) {
      r.status = 304;
      r.content_type = it->second.content_type;
      return ui::with_headers(std::move(r));
    }
    r.content_type = it->second.content_type;
    r.body = it->second.body;
    return ui::with_headers(std::move(r));
  });
}

}  // namespace etl::cataloger

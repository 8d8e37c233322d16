// The cataloger's web dashboard (services/cataloger/ui/): static files embedded
// at build time, served under /ui/ with a strict Content-Security-Policy. The
// page itself only calls the JSON API (/v1/tables, /v1/query) with the bearer
// token, so every chart goes through the same guarded query endpoint.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/http_server.h"
#include "etl/result.h"
#include "ui/ui_assets.h"

namespace etl::cataloger {

namespace ui {

// Sent with every /ui/ response: no inline script or style, no other origin.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

// A saved view: one file views/<id>.sql, a header of `-- key: value` lines and
// then one SQL statement (ui/README.md lists the keys).
struct View {
  std::string id;     // file stem: [a-z0-9_]+
  std::string title;
  std::string panel;  // trends | health
  std::string chart;  // bar | hbar | line | doughnut | table | runs (run records + this rows-per-run query)
  std::string x;      // label column ("" = the first one)
  std::vector<std::string> y;  // value columns (empty = every numeric column)
  std::string description;
  std::string age;  // a timestamp column: the page appends "age" = now minus it
  int order = 100;
  std::string sql;  // without the header; may hold {{since}} (a quoted date literal)
};

Result<View> parse_view(std::string_view file_name, std::string_view text);
nlohmann::json to_json(const View& view);
// {"views":[...]} of every views/*.sql, sorted by (order, id); invalid files are logged and left out.
nlohmann::json views_json(std::span<const EmbeddedFile> files);

std::string content_type_for(std::string_view path);
// A strong validator for a file's bytes (FNV-1a 64, quoted).
std::string etag_for(std::string_view bytes);
// The page with every `{{asset}}` replaced by `v/<version>` (its files' URLs).
std::string versioned_page(std::string page, std::string_view version);

}  // namespace ui

// GET / (redirect), /ui/ and /ui/<file>, plus /ui/views.json built from views/*.sql;
// /ui/v/<version>/<file> is the same file, cacheable for a year while <version>
// (a hash of every file) is current: the page links its files that way.
void install_ui_routes(http::Server& server);

}  // namespace etl::cataloger

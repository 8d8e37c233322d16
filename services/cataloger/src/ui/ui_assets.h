// The web dashboard's files (services/cataloger/ui/ and the pinned Chart.js),
// compiled into the binary at build time by embed_assets.cmake: the dashboard
// works offline and needs no files next to the binary.
#pragma once

#include <span>
#include <string_view>

namespace etl::cataloger::ui {

struct EmbeddedFile {
  std::string_view path;  // relative to ui/: "index.html", "views/top_artists.sql", "vendor/chart.umd.min.js"
  std::string_view data;
};

// Defined in the generated ui_assets_data.cpp.
std::span<const EmbeddedFile> embedded_files();

}  // namespace etl::cataloger::ui

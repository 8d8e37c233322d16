// The small CLI over the three HTTP APIs: run, runs, tables, query.
// Addresses come from ETL_*_ADDR and the token from ETL_API_TOKEN.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/config.h"

namespace etl::app {

// The host a client on this machine calls for a listener at `addr`: 127.0.0.1 for
// the wildcard hosts 0.0.0.0 and ::, else the host itself.
std::string reachable_host(const HostPort& addr);

// Runs one CLI command; returns the process exit code.
int run_cli_command(const std::string& command, const std::vector<std::string>& args, const Config& config);

// Renders rows as an aligned text table (header, separator, rows).
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
// A JSON value as a table cell: strings bare, null empty, others as JSON.
std::string cell_text(const nlohmann::json& v);

}  // namespace etl::app

#include "cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "etl/http_client.h"

namespace etl::app {

std::string reachable_host(const HostPort& addr) {
  return addr.host == "0.0.0.0" || addr.host == "::" ? "127.0.0.1" : addr.host;
}

namespace {

std::string base_url(const HostPort& addr) {
  std::string host = reachable_host(addr);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(addr.port);
}

struct Api {
  const Config& config;
  http::Client client;

  Result<nlohmann::json> call(const std::string& method, const std::string& url, const nlohmann::json& body = nullptr) {
    http::ClientRequest req;
    req.method = method;
    req.url = url;
    req.timeout = std::chrono::seconds(120);
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    if (!config.api_token.empty()) req.headers.emplace_back("Authorization", "Bearer " + config.api_token);
    auto res = client.send(req);
    if (!res) return make_error(res.error().code, res.error().message + " (is the service running? see ETL_*_ADDR)");
    auto parsed = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status >= 400) {
      std::string detail = parsed.is_object() ? parsed.value("detail", res->body) : res->body;
      return make_error(Errc::invalid_argument, "HTTP " + std::to_string(res->status) + ": " + detail);
    }
    if (parsed.is_discarded()) return make_error(Errc::internal, "response is not JSON");
    return parsed;
  }
};

int fail(const Error& e) {
  std::fprintf(stderr, "spotify-etl: %s\n", e.message.c_str());
  return 1;
}

// A command line we cannot run (exit 2, as for the services' arguments).
int usage(const std::string& message) {
  std::fprintf(stderr, "spotify-etl: %s (see --help)\n", message.c_str());
  return 2;
}

// Takes `--format F` / `--format=F` out of `args`: table (the default on a terminal), csv or json.
Result<std::string> format_option(std::vector<std::string>& args) {
  std::string format = isatty(STDOUT_FILENO) ? "table" : "csv";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--format") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "--format needs table, csv or json");
      format = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      break;
    }
    if (args[i].rfind("--format=", 0) == 0) {
      format = args[i].substr(9);
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
  }
  if (format != "table" && format != "csv" && format != "json")
    return make_error(Errc::invalid_argument, "--format '" + format + "' is not table, csv or json");
  return format;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void print_rows(const std::string& format, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, const nlohmann::json& raw) {
  if (format == "json") {
    std::cout << raw.dump(2) << "\n";
  } else if (format == "csv") {
    for (size_t i = 0; i < header.size(); ++i) std::cout << (i ? "," : "") << csv_field(header[i]);
    std::cout << "\r\n";
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) std::cout << (i ? "," : "") << csv_field(row[i]);
      std::cout << "\r\n";
    }
  } else {
    std::cout << render_table(header, rows);
  }
}

int cmd_run(Api& api, std::vector<std::string> args) {
  nlohmann::json body = nlohmann::json::object();
  bool wait = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--wait") {
      wait = true;
    } else if (args[i] == "--market" && i + 1 < args.size()) {
      body["market"] = args[++i];
    } else if (args[i] == "--source" && i + 1 < args.size()) {
      auto spec = parse_source_spec(args[++i]);
      if (!spec) return usage("--source: " + spec.error().message);
      nlohmann::json s = {{"type", std::string(to_string(spec->type))}};
      s[spec->type == SourceType::search ? "query" : "id"] = spec->id;
      body["sources"].push_back(s);
    } else {
      return usage("run: unknown argument '" + args[i] + "' (--source TYPE:ID, --market CC, --wait)");
    }
  }
  auto base = base_url(api.config.extractor_addr);
  auto started = api.call("POST", base + "/v1/runs", body);
  if (!started) return fail(started.error());
  std::string run_id = started->value("run_id", "");
  if (!wait) {
    std::cout << started->dump(2) << "\n";
    return 0;
  }
  for (;;) {
    auto run = api.call("GET", base + "/v1/runs/" + run_id);
    if (!run) return fail(run.error());
    std::string status = run->value("status", "");
    if (status != "queued" && status != "running") {
      std::cout << run->dump(2) << "\n";
      return status == "succeeded" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int cmd_runs(Api& api, std::vector<std::string> args) {
  auto format = format_option(args);
  if (!format) return usage("runs: " + format.error().message);
  if (!args.empty()) return usage("runs: unknown argument '" + args[0] + "' (--format table|csv|json)");
  auto runs = api.call("GET", base_url(api.config.extractor_addr) + "/v1/runs?limit=20");
  if (!runs) return fail(runs.error());
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : (*runs)["runs"]) {
    int items = 0;
    for (const auto& s : r.value("sources", nlohmann::json::array())) items += s.value("items", 0);
    rows.push_back({cell_text(r.value("run_id", nlohmann::json())), cell_text(r.value("status", nlohmann::json())),
                    cell_text(r.value("started_at", nlohmann::json())), cell_text(r.value("finished_at", nlohmann::json())),
                    std::to_string(r.value("sources", nlohmann::json::array()).size()), std::to_string(items)});
  }
  print_rows(*format, {"run_id", "status", "started_at", "finished_at", "sources", "items"}, rows, *runs);
  return 0;
}

int cmd_tables(Api& api, std::vector<std::string> args) {
  auto format = format_option(args);
  if (!format) return usage("tables: " + format.error().message);
  if (!args.empty()) return usage("tables: unknown argument '" + args[0] + "' (--format table|csv|json)");
  auto tables = api.call("GET", base_url(api.config.cataloger_addr) + "/v1/tables");
  if (!tables) return fail(tables.error());
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : (*tables)["tables"]) {
    // Iceberg tables add their current snapshot; Hive folders leave those cells empty.
    const nlohmann::json ice = t.value("iceberg", nlohmann::json());
    auto of_ice = [&ice](const char* field) { return ice.is_object() ? cell_text(ice.value(field, nlohmann::json())) : ""; };
    rows.push_back({cell_text(t.value("name", nlohmann::json())), cell_text(t.value("table_format", nlohmann::json())),
                    cell_text(t.value("format", nlohmann::json())),
                    std::to_string(t.value("columns", nlohmann::json::array()).size()),
                    cell_text(t.value("partitions", nlohmann::json())), of_ice("current_snapshot_id"),
                    of_ice("snapshot_count"), of_ice("files"), of_ice("bytes"), of_ice("last_compaction"),
                    cell_text(t.value("location", nlohmann::json()))});
  }
  print_rows(*format,
             {"name", "table_format", "format", "columns", "partitions", "snapshot_id", "snapshots", "files", "bytes",
              "last_compaction", "location"},
             rows, *tables);
  return 0;
}

int cmd_query(Api& api, std::vector<std::string> args) {
  auto format = format_option(args);
  if (!format) return usage("query: " + format.error().message);
  if (args.size() != 1) return usage("query takes one SQL argument: spotify-etl query \"SELECT ...\"");
  auto base = base_url(api.config.cataloger_addr);
  auto page = api.call("POST", base + "/v1/query", {{"sql", args[0]}});
  if (!page) return fail(page.error());
  std::vector<std::string> header;
  for (const auto& c : (*page)["columns"]) header.push_back(c.value("name", ""));
  std::vector<std::vector<std::string>> rows;
  nlohmann::json all_rows = nlohmann::json::array();
  for (;;) {
    for (const auto& r : (*page)["rows"]) {
      std::vector<std::string> row;
      for (const auto& v : r) row.push_back(cell_text(v));
      rows.push_back(std::move(row));
      all_rows.push_back(r);
    }
    auto next = (*page).value("next_token", nlohmann::json());
    if (!next.is_string()) break;
    std::string id = (*page).value("query_id", "");
    page = api.call("GET", base + "/v1/query/" + id + "?next_token=" + http::url_encode(next.get<std::string>()));
    if (!page) return fail(page.error());
  }
  nlohmann::json raw = {{"columns", (*page)["columns"]}, {"rows", all_rows}};
  print_rows(*format, header, rows, raw);
  return 0;
}

}  // namespace

std::string cell_text(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // code points, close enough for a terminal
    return n;
  };
  auto flat = [](std::string s) {
    for (auto& c : s)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s;
  };
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) w[i] = width(header[i]);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < w.size(); ++i) w[i] = std::max(w[i], std::min<size_t>(width(flat(row[i])), 60));
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < w.size(); ++i) {
      std::string c = i < cells.size() ? flat(cells[i]) : "";
      size_t cw = width(c);
      if (cw > 60) {
        // Cut on a code point boundary.
        size_t n = 0, pos = 0;
        while (pos < c.size() && n < 57) {
          ++pos;
          while (pos < c.size() && (static_cast<unsigned char>(c[pos]) & 0xC0) == 0x80) ++pos;
          ++n;
        }
        c = c.substr(0, pos) + "...";
        cw = 60;
      }
      out += (i ? "  " : "") + c + std::string(w[i] - cw, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  line(header);
  std::vector<std::string> sep;
  for (size_t x : w) sep.push_back(std::string(x, '-'));
  line(sep);
  for (const auto& row : rows) line(row);
  out += "(" + std::to_string(rows.size()) + (rows.size() == 1 ? " row)\n" : " rows)\n");
  return out;
}

int run_cli_command(const std::string& command, const std::vector<std::string>& args, const Config& config) {
  Api api{config, {}};
  if (command == "run") return cmd_run(api, args);
  if (command == "runs") return cmd_runs(api, args);
  if (command == "tables") return cmd_tables(api, args);
  if (command == "query") return cmd_query(api, args);
  return usage("unknown command '" + command + "'");
}

}  // namespace etl::app

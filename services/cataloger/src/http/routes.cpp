#include "routes.h"

#include <algorithm>
#include <cctype>

#include "etl/dates.h"
#include "etl/log.h"
#include "value_json.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

// Longest a blocking POST /v1/query waits past its own timeout for the engine to stop.
constexpr std::chrono::milliseconds kStopGrace{5000};

Result<std::int64_t> integer_field(const json& body, const char* name, std::int64_t min, std::int64_t max,
                                   std::int64_t fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < min || it->get<std::int64_t>() > max)
    return make_error(Errc::invalid_argument, std::string(name) + " must be an integer between " + std::to_string(min) +
                                                  " and " + std::to_string(max));
  return it->get<std::int64_t>();
}

http::Response failed_query(const QueryStatus& s) {
  Error e = s.error.value_or(make_error(Errc::timeout, "the query did not finish in time"));
  if (s.state == QueryState::running || s.state == QueryState::queued) e = make_error(Errc::timeout, "the query did not stop in time");
  e.message += " (query_id " + s.query_id + ")";
  return http::error_response(e);
}

// How often a blocking POST /v1/query looks whether its client is still there.
constexpr std::chrono::milliseconds kClientCheck{250};

// A blocking POST /v1/query's wait, in slices: a query whose client has closed
// its connection is cancelled then, so its worker is free at once rather than
// at its timeout (the PostgreSQL endpoint does the same for its clients).
Result<QueryStatus> wait_while_client_stays(QueryEngine& engine, const http::Request& req, const std::string& id,
                                            std::chrono::milliseconds max_wait) {
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto status = engine.wait(id, std::clamp(left, std::chrono::milliseconds(0), kClientCheck));
    if (!status || is_terminal(status->state) || left <= kClientCheck) return status;
    if (req.client_gone()) {
      log::info("query cancelled: its client closed the connection", {{"query_id", id}, {"remote", req.remote_addr}});
      (void)engine.cancel(id);
      return make_error(Errc::cancelled, "the client closed its connection before the answer; query " + id + " was cancelled");
    }
  }
}

// A full run queue is the client's cue to come back: 429 with Retry-After.
http::Response start_refused(const Error& e) {
  if (e.code != Errc::rate_limited) return http::error_response(e);
  auto r = http::problem_response(429, "Too Many Requests", e.message);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

http::Response page_response(const QueryPage& page, const http::Request& req) {
  http::Response r;
  // CSV only when the client prefers it to JSON (a tie, as with */*, is JSON).
  if (req.quality("text/csv") > req.quality("application/json")) {
    auto csv = page_csv(page);
    if (!csv) return http::error_response(csv.error());
    r.content_type = "text/csv; charset=utf-8";
    r.body = std::move(csv).value();
    r.headers.emplace_back("X-Query-Id", page.query_id);
    if (page.next_token) r.headers.emplace_back("X-Next-Token", *page.next_token);
    return r;
  }
  r.body = page_json(page);
  return r;
}

}  // namespace

Result<QuerySubmission> parse_query_request(const json& body) {
  QuerySubmission out;
  auto sql = body.find("sql");
  if (sql == body.end() || !sql->is_string() || sql->get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(Errc::invalid_argument, "sql is required: a non-empty string");
  out.request.sql = sql->get<std::string>();
  // The gate reads the whole text but DuckDB stops at a NUL: what runs would not be what was checked.
  if (out.request.sql.find('\0') != std::string::npos)
    return make_error(Errc::invalid_argument, "refused: sql contains a NUL character (U+0000)");
  auto max_rows = integer_field(body, "max_rows", 1, static_cast<std::int64_t>(kMaxPageRows), kMaxPageRows);
  if (!max_rows) return std::move(max_rows).error();
  out.request.max_rows = static_cast<std::size_t>(*max_rows);
  auto timeout = integer_field(body, "timeout_ms", 1, 3600000, 30000);
  if (!timeout) return std::move(timeout).error();
  out.request.timeout = std::chrono::milliseconds(*timeout);
  auto max_age = integer_field(body, "max_age_s", 0, 7 * 86400, -1);
  if (!max_age) return std::move(max_age).error();
  if (*max_age >= 0) out.request.max_age = std::chrono::seconds(*max_age);
  if (auto a = body.find("async"); a != body.end() && !a->is_null()) {
    if (!a->is_boolean()) return make_error(Errc::invalid_argument, "async must be true or false");
    out.async = a->get<bool>();
  }
  if (auto a = body.find("as_of"); a != body.end() && !a->is_null()) {
    auto as_of = parse_as_of(*a);
    if (!as_of) return std::move(as_of).error();
    out.request.as_of = std::move(as_of).value();
  }
  return out;
}

Result<std::map<std::string, AsOf>> parse_as_of(const json& value) {
  const auto bad = [](const std::string& why) {
    return make_error(Errc::invalid_argument, "as_of must map table names to a snapshot id (a whole number) or a time "
                                              "(RFC 3339): " + why);
  };
  if (!value.is_object()) return bad("not an object");
  if (value.size() > kMaxAsOfTables) return bad("more than " + std::to_string(kMaxAsOfTables) + " tables");
  std::map<std::string, AsOf> out;
  for (const auto& [name, at] : value.items()) {
    if (name.empty() || name.size() > 255) return bad("a table name is empty or too long");
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    AsOf as_of;
    if (at.is_number_integer() && at.get<std::int64_t>() >= 0) {
      as_of.snapshot_id = at.get<std::int64_t>();
    } else if (at.is_number_unsigned()) {
      return bad(name + "'s snapshot id is too large");
    } else if (at.is_string()) {
      auto micros = parse_timestamp(at.get<std::string>());
      if (!micros) return bad(name + "'s time '" + at.get<std::string>() + "' is not RFC 3339");
      as_of.timestamp_ms = *micros / 1000;
    } else {
      return bad(name + " is neither");
    }
    if (!out.emplace(lower, as_of).second) return bad(name + " is named twice");
  }
  return out;
}

Result<CrawlRequest> parse_crawl_request(const json& body) {
  CrawlRequest out;
  if (auto t = body.find("tables"); t != body.end() && !t->is_null()) {
    if (!t->is_array()) return make_error(Errc::invalid_argument, "tables must be an array of table names");
    for (const auto& name : *t) {
      if (!name.is_string()) return make_error(Errc::invalid_argument, "tables must be an array of table names");
      out.tables.push_back(name.get<std::string>());
    }
  }
  if (auto f = body.find("full"); f != body.end() && !f->is_null()) {
    if (!f->is_boolean()) return make_error(Errc::invalid_argument, "full must be true or false");
    out.full = f->get<bool>();
  }
  return out;
}

json stats_json(const QueryStats& stats) {
  json out = {{"elapsed_ms", stats.elapsed_ms}, {"rows", stats.rows}, {"cached", stats.cached}};
  if (!stats.snapshots.empty()) out["as_of"] = stats.snapshots;
  return out;
}

json status_json(const QueryStatus& s) {
  json out = {{"query_id", s.query_id},
              {"engine", s.engine},
              {"state", to_string(s.state)},
              {"submitted_at", s.submitted_at},
              {"completed_at", s.completed_at.empty() ? json() : json(s.completed_at)},
              {"stats", stats_json(s.stats)},
              {"result_location", s.result_location.empty() ? json() : json(s.result_location)}};
  if (s.error) out["error"] = {{"code", to_string(s.error->code)}, {"message", s.error->message}};
  return out;
}

std::string page_json(const QueryPage& page) {
  json columns = json::array();
  for (const auto& c : page.columns) columns.push_back({{"name", c.name}, {"type", c.type}});
  json head = {{"query_id", page.query_id},
               {"engine", page.engine},
               {"state", "SUCCEEDED"},
               {"columns", columns},
               {"next_token", page.next_token ? json(*page.next_token) : json()},
               {"stats", stats_json(page.stats)},
               {"result_location", page.result_location.empty() ? json() : json(page.result_location)}};
  std::string out = head.dump(-1, ' ', false, json::error_handler_t::replace);
  out.pop_back();  // the closing brace: rows are spliced in as they are
  out += ",\"rows\":[";
  for (size_t i = 0; i < page.rows.size(); ++i) {
    if (i) out += ',';
    out += page.rows[i];
  }
  out += "]}";
  return out;
}

namespace {
bool is_floating(std::string_view type) { return type == "DOUBLE" || type == "FLOAT" || type == "REAL"; }
// Dates, times and intervals are written as strings, but as no spreadsheet formula ("-infinity", a BC date).
bool is_temporal(std::string_view type) {
  return type.starts_with("DATE") || type.starts_with("TIME") || type.starts_with("INTERVAL");
}
}  // namespace

Result<std::string> page_csv(const QueryPage& page) {
  std::string out;
  for (size_t c = 0; c < page.columns.size(); ++c) {
    if (c) out += ',';
    append_csv_cell(out, page.columns[c].name, false, true);
  }
  out += '\n';
  for (std::size_t r = 0; r < page.rows.size(); ++r) {
    // Checked whole first: row_cells checks the array's structure, not each scalar.
    auto cells = json::accept(page.rows[r]) ? row_cells(page.rows[r]) : std::nullopt;
    if (!cells)
      return make_error(Errc::internal, "row " + std::to_string(r) + " of the page of query " + page.query_id +
                                            " is not a JSON array; the page cannot be rendered as CSV");
    for (size_t c = 0; c < cells->size(); ++c) {
      if (c) out += ',';
      std::string_view v = (*cells)[c];
      if (v == "null") append_csv_cell(out, "", true);
      else if (v.front() == '"') {
        const auto text = json::parse(v).get<std::string>();
        // A float's "-Infinity" is a number's word, not text a spreadsheet could run.
        const bool word = c < page.columns.size() && ((is_non_finite_word(text) && is_floating(page.columns[c].type)) ||
                                                      is_temporal(page.columns[c].type));
        append_csv_cell(out, text, false, !word);
      } else append_csv_cell(out, v, false);  // numbers exactly as written; true/false; lists and structs as JSON
    }
    out += '\n';
  }
  return out;
}

void install_routes(http::Server& server, Catalog& catalog, QueryEngine& engine) {
  server.post("/v1/crawl", [&catalog](const http::Request& req) {
    auto body = http::parse_json_object(req);
    if (!body) return http::error_response(body.error());
    auto request = parse_crawl_request(*body);
    if (!request) return http::error_response(request.error());
    auto crawl = catalog.start_crawl(*request);
    if (!crawl) return http::error_response(crawl.error());
    auto response = http::json_response(202, to_json(*crawl));
    response.headers.emplace_back("Location", "/v1/crawls/" + crawl->crawl_id);
    return response;
  });
  server.get("/v1/crawls/{crawl_id}", [&catalog](const http::Request& req) {
    auto crawl = catalog.get_crawl(req.params.at(0));
    return crawl ? http::json_response(200, to_json(*crawl)) : http::error_response(crawl.error());
  });
  server.post("/v1/query", [&engine](const http::Request& req) {
    auto body = http::parse_json_object(req);
    if (!body) return http::error_response(body.error());
    auto submission = parse_query_request(*body);
    if (!submission) return http::error_response(submission.error());
    submission->request.client = req.remote_addr;
    auto started = engine.start(submission->request);
    if (!started) return start_refused(started.error());
    if (submission->async) {
      auto response = http::json_response(202, status_json(*started));
      response.headers.emplace_back("Location", "/v1/query/" + started->query_id);
      return response;
    }
    auto done = wait_while_client_stays(engine, req, started->query_id, submission->request.timeout + kStopGrace);
    if (!done) return http::error_response(done.error());
    if (done->state != QueryState::succeeded) return failed_query(*done);
    auto page = engine.page(done->query_id, "");
    return page ? page_response(*page, req) : http::error_response(page.error());
  }, http::Access::read);
  server.get("/v1/query/{query_id}", [&engine](const http::Request& req) {
    const std::string& id = req.params.at(0);
    auto token = req.query_param("next_token");
    if (token && !token->empty()) {
      auto page = engine.page(id, *token);
      return page ? page_response(*page, req) : http::error_response(page.error());
    }
    auto status = engine.status(id);
    if (!status) return http::error_response(status.error());
    if (status->state == QueryState::succeeded) {
      auto page = engine.page(id, "");
      if (page) return page_response(*page, req);
    }
    return http::json_response(200, status_json(*status));
  });
  server.del("/v1/query/{query_id}", [&engine](const http::Request& req) {
    auto cancelled = engine.cancel(req.params.at(0));
    if (!cancelled) return http::error_response(cancelled.error());
    auto settled = engine.wait(cancelled->query_id, std::chrono::seconds(2));
    return http::json_response(200, status_json(settled ? *settled : *cancelled));
  }, http::Access::read);
}

}  // namespace etl::cataloger

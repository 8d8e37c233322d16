#include "run_record.h"

#include <cctype>
#include <ctime>
#include <map>
#include <random>

#include "envelope.h"

namespace etl::extractor {

namespace {

constexpr const char* kRunStatus[] = {"queued", "running", "succeeded", "partial", "failed"};
constexpr const char* kSourceStatus[] = {"queued", "running", "succeeded", "failed"};

nlohmann::json null_if_empty(const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); }

// Reads a string field that may be null or absent (-> "").
bool optional_string(const nlohmann::json& j, const char* name, std::string& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

const char* to_string(RunStatus s) noexcept { return kRunStatus[static_cast<int>(s)]; }
const char* to_string(SourceStatus s) noexcept { return kSourceStatus[static_cast<int>(s)]; }

std::optional<RunStatus> parse_run_status(std::string_view s) noexcept {
  for (int i = 0; i < 5; ++i)
    if (s == kRunStatus[i]) return static_cast<RunStatus>(i);
  return std::nullopt;
}

std::optional<SourceStatus> parse_source_status(std::string_view s) noexcept {
  for (int i = 0; i < 4; ++i)
    if (s == kSourceStatus[i]) return static_cast<SourceStatus>(i);
  return std::nullopt;
}

bool is_final(RunStatus s) noexcept { return s != RunStatus::queued && s != RunStatus::running; }

nlohmann::json to_json(const RunRecord& run) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : run.sources) {
    nlohmann::json j = {{"type", s.type},       {"id", s.id},
                        {"status", to_string(s.status)},
                        {"pages", s.pages},     {"items", s.items},
                        {"object_key", null_if_empty(s.object_key)},
                        {"endpoint", null_if_empty(s.endpoint)},
                        {"error", null_if_empty(s.error)}};
    if (s.type == "search") j["query"] = s.query;
    sources.push_back(std::move(j));
  }
  return {{"run_id", run.run_id},
          {"status", to_string(run.status)},
          {"trigger", run.trigger},
          {"market", null_if_empty(run.market)},
          {"created_at", run.created_at},
          {"started_at", null_if_empty(run.started_at)},
          {"finished_at", null_if_empty(run.finished_at)},
          {"error", null_if_empty(run.error)},
          {"sources", std::move(sources)}};
}

Result<RunRecord> run_record_from_json(const nlohmann::json& j) {
  auto bad = [](const std::string& what) { return make_error(Errc::bad_data, "run record: " + what); };
  if (!j.is_object()) return bad("not a JSON object");
  RunRecord run;
  if (!j.contains("run_id") || !j["run_id"].is_string() || !is_run_id(j["run_id"].get<std::string>()))
    return bad("missing or invalid run_id");
  run.run_id = j["run_id"].get<std::string>();
  std::string status;
  if (!optional_string(j, "status", status) || !parse_run_status(status)) return bad("invalid status '" + status + "'");
  run.status = *parse_run_status(status);
  if (!optional_string(j, "trigger", run.trigger) || !optional_string(j, "market", run.market) ||
      !optional_string(j, "created_at", run.created_at) || !optional_string(j, "started_at", run.started_at) ||
      !optional_string(j, "finished_at", run.finished_at) || !optional_string(j, "error", run.error))
    return bad("a field of " + run.run_id + " has the wrong type");
  auto sources = j.find("sources");
  if (sources == j.end() || !sources->is_array()) return bad("sources is not an array");
  for (const auto& s : *sources) {
    if (!s.is_object()) return bad("a source is not an object");
    SourceRecord r;
    std::string source_status;
    if (!optional_string(s, "type", r.type) || !optional_string(s, "id", r.id) || !optional_string(s, "query", r.query) ||
        !optional_string(s, "status", source_status) || !optional_string(s, "object_key", r.object_key) ||
        !optional_string(s, "endpoint", r.endpoint) || !optional_string(s, "error", r.error))
      return bad("a source field has the wrong type");
    auto parsed = parse_source_status(source_status);
    if (!parsed) return bad("invalid source status '" + source_status + "'");
    r.status = *parsed;
    if (!s.value("pages", nlohmann::json(0)).is_number_integer() || !s.value("items", nlohmann::json(0)).is_number_integer())
      return bad("pages and items must be integers");
    r.pages = s.value("pages", 0);
    r.items = s.value("items", 0);
    run.sources.push_back(std::move(r));
  }
  return run;
}

Result<RunRequest> parse_run_request(const nlohmann::json& body) {
  auto bad = [](const std::string& what) { return make_error(Errc::invalid_argument, what); };
  RunRequest request;
  if (!body.is_object()) return bad("request body must be a JSON object");
  if (auto it = body.find("market"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return bad("market must be a string such as \"US\"");
    request.market = it->get<std::string>();
    for (char& c : request.market) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  auto sources = body.find("sources");
  if (sources == body.end() || sources->is_null()) return request;
  if (!sources->is_array()) return bad("sources must be an array of {\"type\",\"id\"} or {\"type\":\"search\",\"query\"}");
  for (std::size_t i = 0; i < sources->size(); ++i) {
    const auto& s = (*sources)[i];
    const std::string where = "sources[" + std::to_string(i) + "]";
    if (!s.is_object()) return bad(where + " must be an object with type and id (or query for search)");
    auto type = s.find("type");
    if (type == s.end() || !type->is_string()) return bad(where + ".type must be one of playlist, album, artist-albums, search");
    auto source_type = parse_source_type_or_error(type->get<std::string>());
    if (!source_type) return bad(where + ": " + source_type.error().message);
    SourceSpec spec{*source_type, {}};
    const char* field = spec.type == SourceType::search ? "query" : "id";
    auto value = s.find(field);
    if (spec.type == SourceType::search && value == s.end()) value = s.find("id");  // {"type":"search","id":"..."} is accepted too
    if (value == s.end() || !value->is_string()) return bad(where + "." + field + " must be a string");
    spec.id = value->get<std::string>();
    if (Status v = validate_source(spec); !v.ok()) return bad(where + ": " + v.error().message);
    request.sources.push_back(std::move(spec));
  }
  return request;
}

Status validate_run_request(const RunRequest& request) {
  if (request.sources.size() > kMaxSourcesPerRun)
    return make_error(Errc::invalid_argument, "a run takes at most " + std::to_string(kMaxSourcesPerRun) + " sources, got " +
                                                  std::to_string(request.sources.size()));
  if (!request.market.empty() && !is_country_code(request.market))
    return make_error(Errc::invalid_argument, "market '" + request.market + "' is not an ISO 3166-1 alpha-2 country code like US");
  if (request.trigger != "api" && request.trigger != "schedule")
    return make_error(Errc::invalid_argument, "trigger must be api or schedule");
  std::map<std::string, std::string> seen;  // type/key id -> as given
  for (const auto& s : request.sources) {
    ETL_RETURN_IF_ERROR(validate_source(s));
    const std::string type(to_string(s.type));
    std::string given = type + ":" + s.id;
    auto [it, fresh] = seen.emplace(type + "/" + source_key_id(s), given);
    if (!fresh)
      return make_error(Errc::invalid_argument, "sources '" + it->second + "' and '" + given +
                                                    "' would land under the same object key; list each source once");
  }
  return {};
}

}  // namespace etl::extractor

// The HTTP surface: parse, call the service, map to JSON. Errors go through
// http::error_response, the one place an Errc becomes a status.
#include <nlohmann/json.hpp>

#include "transformer_service.h"

namespace etl::transformer {
namespace {

using nlohmann::json;

json rows_json(std::uint64_t albums, std::uint64_t artists, std::uint64_t songs) {
  return {{"albums_data", albums}, {"artists_data", artists}, {"songs_data", songs}};
}

json skipped_json(const SkipCounts& s) {
  return {{"null_item", s.null_item}, {"local", s.local}, {"episode", s.episode}, {"malformed", s.malformed}};
}

json result_json(const TransformResult& r) {
  return {{"raw_key", r.raw_key},
          {"moved", r.moved},
          {"dt", r.dt},
          {"outputs", r.outputs},
          {"rows", rows_json(r.albums_rows, r.artists_rows, r.songs_rows)},
          {"skipped", skipped_json(r.skipped)},
          {"bytes_in", r.bytes_in},
          {"bytes_out", r.bytes_out}};
}

json job_json(const JobSnapshot& j) {
  json errors = json::array();
  for (const auto& e : j.errors) errors.push_back({{"key", e.key}, {"code", to_string(e.code)}, {"message", e.message}});
  json out = {{"job_id", j.id},
              {"prefix", j.prefix},
              {"state", to_string(j.state)},
              {"created_at", j.created_at},
              {"started_at", j.started_at.empty() ? json(nullptr) : json(j.started_at)},
              {"finished_at", j.finished_at.empty() ? json(nullptr) : json(j.finished_at)},
              {"objects", {{"total", j.total}, {"done", j.done}, {"failed", j.failed}}},
              {"rows", rows_json(j.albums_rows, j.artists_rows, j.songs_rows)},
              {"skipped", skipped_json(j.skipped)},
              {"errors", errors}};
  if (!j.error.empty()) out["error"] = j.error;
  return out;
}

std::uint64_t count(const Counter& c) { return static_cast<std::uint64_t>(c.value()); }

json status_json(const TransformerService& svc, const Config& config) {
  const auto& m = svc.counters();
  json errors = json::array();
  for (const auto& e : svc.errors().last())
    errors.push_back({{"at", e.at}, {"source", e.source}, {"key", e.key}, {"code", to_string(e.code)},
                      {"message", e.message}, {"count", e.count}});
  return {{"service", "transformer"},
          {"version", ETL_VERSION},
          {"output_format", to_string(config.output_format)},
          {"raw_url", config.raw_url},
          {"transformed_url", config.transformed_url},
          {"topics", {{"raw", config.topic_raw}, {"transformed", config.topic_transformed}, {"dlq", config.topic_dlq}}},
          {"startup_job_id", svc.startup_job_id()},
          {"counters",
           {{"objects_transformed", count(m.objects_transformed)},
            {"rows", rows_json(count(m.rows_albums), count(m.rows_artists), count(m.rows_songs))},
            {"skipped",
             {{"null_item", count(m.skipped_null_item)}, {"local", count(m.skipped_local)},
              {"episode", count(m.skipped_episode)}, {"malformed", count(m.skipped_malformed)}}},
            {"bytes_in", count(m.bytes_in)},
            {"bytes_out", count(m.bytes_out)},
            {"errors", svc.errors().total()},
            {"dead_lettered", count(m.dead_lettered)},
            {"events_ignored", count(m.events_ignored)}}},
          {"last_errors", errors}};
}

}  // namespace

json transformer_openapi() {
  json doc = http::openapi_document(
      "transformer", "Turns raw Spotify objects into the albums_data, artists_data and songs_data tables.");
  const json problem = {{"description", "problem+json"},
                        {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
  const json counts = {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}};
  // The rules of parse_raw_key / validate_key and validate_reprocess_prefix
  // (tests/unit/transformer/openapi_rules_test.cpp checks both agree): under
  // to_be_processed/ or processed/, no empty, "." or ".." segment, no control
  // character, at most 1024 bytes.
  const std::string ch = R"([^/\x00-\x1f\x7f])", first = R"([^/.\x00-\x1f\x7f])";
  const std::string segment = "(" + first + ch + "*|\\." + first + ch + "*|\\.\\." + ch + "+)";
  const json key_schema = {{"type", "string"},
                           {"maxLength", 1024},
                           {"pattern", "^(to_be_processed|processed)/" + segment + "(/" + segment + ")*$"},
                           {"example", "to_be_processed/spotify_raw_20261121T060000Z_playlist_7kwYwFTY6UeVCDzqOAzRKN_r1.json"}};
  const json prefix_schema = {{"type", "string"},
                              {"pattern", "^(to_be_processed|processed)(/(" + segment + "?/)*" + segment + "?)?$"},
                              {"default", "processed/"}};
  doc["paths"]["/v1/transform"]["post"] = {
      {"summary", "Transform one raw object now"},
      {"description", "A to_be_processed/ key is transformed and moved to processed/; a processed/ key is "
                      "re-transformed where it is. Outputs are replaced, never duplicated: written over with "
                      "ETL_TABLE_FORMAT=hive, as a newer generation (<stem>.r<ms>.<ext>) with iceberg."},
      {"requestBody",
       {{"required", true},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"required", {"key"}},
              {"properties", {{"key", key_schema}}}}}}}}}}},
      {"responses",
       {{"200",
         {{"description", "Transformed"},
          {"content",
           {{"application/json",
             {{"schema",
               {{"type", "object"},
                {"properties",
                 {{"outputs", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                  {"rows", counts},
                  {"skipped", counts},
                  {"raw_key", {{"type", "string"}}},
                  {"moved", {{"type", "boolean"}}},
                  {"dt", {{"type", "string"}}}}}}}}}}}}},
        {"400", problem}, {"404", problem}, {"422", problem}, {"503", problem}}}};
  doc["paths"]["/v1/reprocess"]["post"] = {
      {"summary", "Re-transform every raw object under a prefix, in the background"},
      {"requestBody",
       {{"required", false},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"properties", {{"prefix", prefix_schema}}}}}}}}}}},
      {"responses",
       {{"202",
         {{"description", "Queued"},
          {"content",
           {{"application/json",
             {{"schema", {{"type", "object"}, {"properties", {{"job_id", {{"type", "string"}}}}}}}}}}}}},
        {"400", problem}}}};
  doc["paths"]["/v1/jobs/{job_id}"]["get"] = {
      {"summary", "State of a reprocess job (or of the start-up scan)"},
      {"parameters", {{{"name", "job_id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
      {"responses",
       {{"200",
         {{"description", "state: queued | running | succeeded | partial | failed | cancelled; objects total/done/failed; rows; skipped; errors"},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
        {"404", problem}}}};
  doc["paths"]["/v1/status"]["get"] = {
      {"summary", "Counters and the last 20 errors"},
      {"responses",
       {{"200", {{"description", "Status"}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}}}}};
  return doc;
}

Result<std::string> parse_transform_request(const json& body) {
  auto key = body.find("key");
  if (key == body.end() || !key->is_string())
    return make_error(Errc::invalid_argument, R"(the body must be {"key": "to_be_processed/<file>"})");
  if (auto parsed = RawObjectKey::parse(key->get<std::string>()); !parsed) return std::move(parsed).error();
  return key->get<std::string>();
}

Result<std::string> parse_reprocess_request(const json& body) {
  auto p = body.find("prefix");
  if (p == body.end()) return std::string(kProcessedPrefix);
  if (!p->is_string()) return make_error(Errc::invalid_argument, "`prefix` must be a string");
  return validate_reprocess_prefix(p->get<std::string>());
}

void TransformerService::add_routes() {
  server_->post("/v1/transform", [this](const http::Request& req) {
    auto body = http::parse_json_object(req);
    if (!body) return http::error_response(body.error());
    auto key = parse_transform_request(*body);
    if (!key) return http::error_response(key.error());
    auto result = transform_key(*key);
    if (!result) return http::error_response(result.error());
    return http::json_response(200, result_json(*result));
  });

  server_->post("/v1/reprocess", [this](const http::Request& req) {
    auto body = http::parse_json_object(req);
    if (!body) return http::error_response(body.error());
    auto prefix = parse_reprocess_request(*body);
    if (!prefix) return http::error_response(prefix.error());
    auto id = reprocess(*prefix);
    if (!id && id.error().code == Errc::rate_limited) {
      auto busy = http::problem_response(429, "Too Many Requests", id.error().message);
      busy.headers.emplace_back("Retry-After", "5");
      return busy;
    }
    if (!id) return http::error_response(id.error());
    auto response = http::json_response(202, {{"job_id", *id}, {"state", "queued"}, {"status_url", "/v1/jobs/" + *id}});
    response.headers.emplace_back("Location", "/v1/jobs/" + *id);
    return response;
  });

  server_->get("/v1/jobs/{job_id}", [this](const http::Request& req) {
    auto snapshot = job(req.params.at(0));
    if (!snapshot) return http::error_response(make_error(Errc::not_found, "no job " + req.params.at(0)));
    return http::json_response(200, job_json(*snapshot));
  });

  server_->get("/v1/status", [this](const http::Request&) { return http::json_response(200, status_json(*this, config_)); });

  server_->add_readiness_check("raw_store", [this] { return raw_->ping(); });
  server_->add_readiness_check("transformed_store", [this] { return transformed_->ping(); });
  server_->add_readiness_check("bus", [this] { return bus_->ping(); });
  server_->set_openapi(transformer_openapi());
}

}  // namespace etl::transformer

#include "glue_iceberg.h"

#include <algorithm>
#include <cctype>

#include "aws_fields.h"
#include "etl/ascii.h"
#include "etl/log.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

using aws_fields::text;

json object_at(const json& doc, const char* key) {
  if (!doc.is_object()) return json::object();
  auto it = doc.find(key);
  return it != doc.end() && it->is_object() ? *it : json::object();
}

// The folder of a location: everything up to its last '/'.
std::string_view folder_of(std::string_view location) {
  auto slash = location.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : location.substr(0, slash);
}

std::optional<long long> digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  long long n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// The schemas of the metadata (format v2 keeps a list; v1 may have only `schema`).
std::vector<json> schemas_of(const json& metadata) {
  std::vector<json> out;
  if (auto s = metadata.find("schemas"); s != metadata.end() && s->is_array())
    for (const auto& schema : *s) out.push_back(schema);
  if (out.empty())
    if (auto s = metadata.find("schema"); s != metadata.end() && s->is_object()) out.push_back(*s);
  return out;
}

}  // namespace

std::string iceberg_glue_type(const json& type) {
  if (type.is_string()) {
    const std::string t = ascii_lower(type.get<std::string>());
    if (t == "boolean") return "boolean";
    if (t == "int") return "int";
    if (t == "long") return "bigint";
    if (t == "float") return "float";
    if (t == "double") return "double";
    if (t == "date") return "date";
    if (t.starts_with("timestamp")) return "timestamp";  // timestamp, timestamptz, their _ns forms
    if (t == "string" || t == "uuid" || t == "time") return "string";
    if (t == "binary" || t.starts_with("fixed")) return "binary";
    if (t.starts_with("decimal")) {
      std::string out = t;
      out.erase(std::remove(out.begin(), out.end(), ' '), out.end());
      return out;
    }
    return t;
  }
  if (!type.is_object()) return "string";
  const std::string kind = text(type, "type");
  if (kind == "list") return "array<" + iceberg_glue_type(type.value("element", json("string"))) + ">";
  if (kind == "map")
    return "map<" + iceberg_glue_type(type.value("key", json("string"))) + "," +
           iceberg_glue_type(type.value("value", json("string"))) + ">";
  if (kind == "struct") {
    std::string out = "struct<";
    bool first = true;
    if (auto fields = type.find("fields"); fields != type.end() && fields->is_array())
      for (const auto& f : *fields) {
        out += (first ? "" : ",") + text(f, "name") + ":" + iceberg_glue_type(f.value("type", json("string")));
        first = false;
      }
    return out + ">";
  }
  return "string";
}

json iceberg_glue_columns(const json& metadata) {
  const std::vector<json> schemas = schemas_of(metadata);
  const int current_id = metadata.value("current-schema-id", schemas.empty() ? 0 : schemas.front().value("schema-id", 0));
  json columns = json::array();
  std::vector<std::string> seen;
  auto add = [&](const json& schema, bool current) {
    auto fields = schema.find("fields");
    if (fields == schema.end() || !fields->is_array()) return;
    for (const auto& f : *fields) {
      const std::string name = text(f, "name");
      if (name.empty() || std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
      seen.push_back(name);
      json column = {{"Name", name},
                     {"Type", iceberg_glue_type(f.value("type", json("string")))},
                     {"Parameters",
                      {{"iceberg.field.id", std::to_string(f.value("id", 0))},
                       {"iceberg.field.optional", f.value("required", false) ? "false" : "true"},
                       {"iceberg.field.current", current ? "true" : "false"}}}};
      if (auto doc = text(f, "doc"); !doc.empty()) column["Comment"] = doc;
      columns.push_back(std::move(column));
    }
  };
  for (const auto& s : schemas)
    if (s.value("schema-id", 0) == current_id) add(s, true);
  for (const auto& s : schemas)
    if (s.value("schema-id", 0) != current_id) add(s, false);
  return columns;
}

std::optional<long long> metadata_version(std::string_view location) {
  constexpr std::string_view suffix = ".metadata.json";
  auto slash = location.rfind('/');
  std::string_view name = slash == std::string_view::npos ? location : location.substr(slash + 1);
  if (!name.ends_with(suffix)) return std::nullopt;
  name.remove_suffix(suffix.size());
  if (name.starts_with('v')) return digits(name.substr(1));
  auto dash = name.find('-');
  return dash == std::string_view::npos ? std::nullopt : digits(name.substr(0, dash));
}

json iceberg_table_input(const IcebergRegistration& registration, const json* previous) {
  json parameters = previous ? object_at(*previous, "Parameters") : json::object();
  const std::string before = text(parameters, "metadata_location");
  parameters["table_type"] = "ICEBERG";
  parameters["metadata_location"] = registration.metadata_location;
  if (!before.empty() && before != registration.metadata_location) parameters["previous_metadata_location"] = before;
  json input = {{"Name", registration.table},
                {"TableType", "EXTERNAL_TABLE"},
                {"Parameters", parameters},
                {"StorageDescriptor",
                 {{"Location", text(registration.metadata, "location")},
                  {"Columns", iceberg_glue_columns(registration.metadata)}}}};
  // UpdateTable replaces the whole definition: keep what others set that we do not.
  if (previous)
    for (const char* key : {"Description", "Owner"})
      if (auto value = text(*previous, key); !value.empty()) input[key] = value;
  return input;
}

RegistrationDecision decide_registration(const std::optional<json>& glue_table, std::string_view metadata_location) {
  using Step = RegistrationDecision::Step;
  if (!glue_table) return {Step::create, "", ""};
  const json parameters = object_at(*glue_table, "Parameters");
  const std::string table_type = text(parameters, "table_type");
  if (ascii_lower(table_type) != "iceberg")
    return {Step::refuse, "",
            "is not an Iceberg table (" +
                (table_type.empty() ? std::string("no table_type parameter") : "table_type '" + table_type + "'") +
                ", e.g. a Glue crawler's Hive table): drop it, or use another ETL_GLUE_DATABASE, or "
                "ETL_TABLE_FORMAT=hive for the crawler route; the cataloger never overwrites it"};
  const std::string theirs = text(parameters, "metadata_location");
  const std::string version_id = text(*glue_table, "VersionId");
  if (theirs.empty()) return {Step::update, version_id, ""};
  if (theirs == metadata_location) return {Step::up_to_date, "", "already points at " + theirs};
  if (folder_of(theirs) != folder_of(metadata_location))
    return {Step::refuse, "",
            "points at " + theirs + ", another table's metadata than " + std::string(metadata_location) +
                " (another deployment sharing the database?): not moved"};
  auto glue_version = metadata_version(theirs);
  auto our_version = metadata_version(metadata_location);
  if (glue_version && our_version && *glue_version >= *our_version)
    return {Step::up_to_date, "",
            "already at metadata version " + std::to_string(*glue_version) + " (" + theirs + "), not older than " +
                std::to_string(*our_version)};
  return {Step::update, version_id, ""};
}

std::string_view to_string(RegistrationOutcome outcome) {
  switch (outcome) {
    case RegistrationOutcome::created: return "created";
    case RegistrationOutcome::updated: return "updated";
    case RegistrationOutcome::up_to_date: return "up_to_date";
  }
  return "up_to_date";
}

Result<std::unique_ptr<GlueIcebergRegistrar>> GlueIcebergRegistrar::open(const AwsConfig& aws,
                                                                        GlueRegistrarOptions options,
                                                                        aws::JsonClientOptions client_options) {
  auto client = aws::JsonClient::create(aws, aws::glue_service(), client_options);
  if (!client) return std::move(client).error();
  return std::make_unique<GlueIcebergRegistrar>(std::move(client).value(), std::move(options));
}

GlueIcebergRegistrar::GlueIcebergRegistrar(std::unique_ptr<aws::JsonClient> client, GlueRegistrarOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

const std::vector<std::string>& GlueIcebergRegistrar::operations() {
  static const std::vector<std::string> ops{"GetTable", "CreateTable", "UpdateTable", "CreateDatabase"};
  return ops;
}

Status GlueIcebergRegistrar::create_database() {
  auto created = client_->send("CreateDatabase", {{"DatabaseInput", {{"Name", options_.database},
                                                                      {"Description", "spotify-etl transformed tables"}}}});
  if (!created) return std::move(created).error();
  if (!created->ok() && created->error.type != "AlreadyExistsException")
    return client_->to_error("CreateDatabase", *created);
  if (created->ok()) log::info("Glue database created", {{"database", options_.database}});
  return {};
}

Result<RegistrationOutcome> GlueIcebergRegistrar::register_table(const IcebergRegistration& registration) {
  using Step = RegistrationDecision::Step;
  const std::string name = options_.database + "." + registration.table;
  bool database_created = false;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto got = client_->send("GetTable", {{"DatabaseName", options_.database}, {"Name", registration.table}});
    if (!got) return std::move(got).error();
    std::optional<json> table;
    if (got->ok()) table = object_at(got->body, "Table");
    else if (got->error.type != "EntityNotFoundException") return client_->to_error("GetTable", *got);

    const RegistrationDecision decision = decide_registration(table, registration.metadata_location);
    switch (decision.step) {
      case Step::up_to_date:
        log::debug("Glue table already current", {{"table", name}, {"why", decision.reason}});
        return RegistrationOutcome::up_to_date;
      case Step::refuse:
        return make_error(Errc::conflict, "Glue table " + name + " " + decision.reason);
      case Step::create: {
        json request = {{"DatabaseName", options_.database}, {"TableInput", iceberg_table_input(registration, nullptr)}};
        auto created = client_->send("CreateTable", request);
        if (!created) return std::move(created).error();
        if (created->ok()) {
          log::info("Glue table registered", {{"table", name}, {"metadata_location", registration.metadata_location},
                                              {"outcome", "created"}});
          return RegistrationOutcome::created;
        }
        if (created->error.type == "AlreadyExistsException") continue;  // another registrar was first: read it
        if (created->error.type != "EntityNotFoundException") return client_->to_error("CreateTable", *created);
        if (!options_.create_database)
          return make_error(Errc::invalid_argument, "Glue database " + options_.database +
                                                        " does not exist and ETL_GLUE_CREATE=false: create it first");
        if (database_created) return client_->to_error("CreateTable", *created);
        ETL_RETURN_IF_ERROR(create_database());
        database_created = true;
        continue;
      }
      case Step::update: {
        json request = {{"DatabaseName", options_.database},
                        {"TableInput", iceberg_table_input(registration, &*table)},
                        // Each commit is a table version: Glue's archive of old versions would
                        // fill up (previous_metadata_location keeps the last pointer).
                        {"SkipArchive", true}};
        if (!decision.version_id.empty()) request["VersionId"] = decision.version_id;
        auto updated = client_->send("UpdateTable", request);
        if (!updated) return std::move(updated).error();
        if (updated->ok()) {
          log::info("Glue table registered", {{"table", name}, {"metadata_location", registration.metadata_location},
                                              {"outcome", "updated"}});
          return RegistrationOutcome::updated;
        }
        // Changed (or dropped) since GetTable: read again and decide again.
        if (updated->error.type == "ConcurrentModificationException" ||
            updated->error.type == "EntityNotFoundException") {
          log::info("Glue table changed under the registration; reading it again",
                    {{"table", name}, {"attempt", attempt}, {"error", updated->error.type}});
          continue;
        }
        return client_->to_error("UpdateTable", *updated);
      }
    }
  }
  return make_error(Errc::conflict, "Glue table " + name + " was changed by others during each of " +
                                        std::to_string(options_.max_attempts) + " registration attempts; the next crawl tries again");
}

}  // namespace etl::cataloger

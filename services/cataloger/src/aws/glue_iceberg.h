// Registers the cataloger's Iceberg tables in the AWS Glue Data Catalog
// (ETL_CATALOG=glue with ETL_TABLE_FORMAT=iceberg): after each commit, the
// table's Glue entry points at its current metadata file, so Athena (and any
// Glue-backed Iceberg reader) sees the commit at once, with no crawler.
//
// The Glue entry follows the Iceberg convention (Iceberg's GlueCatalog,
// PyIceberg): TableType EXTERNAL_TABLE, Parameters table_type=ICEBERG and
// metadata_location (plus previous_metadata_location on updates), the
// StorageDescriptor's Location = the table location and Columns = the current
// schema (then columns only older schemas have, marked not current).
//
// A registration reads the table (GetTable) and then creates it (CreateTable) or
// moves its pointer (UpdateTable with the VersionId read: Glue refuses the update
// with ConcurrentModificationException when someone changed the table since, and
// the registration reads again). The pointer never moves backwards: a Glue entry
// already at the same or a newer metadata version is left alone. A Glue table
// that is not an Iceberg table (a crawler's Hive table) is refused, never
// overwritten. The request building and the decisions are pure (tested without
// Glue); GlueIcebergRegistrar only makes the calls.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/aws_json.h"
#include "etl/config.h"
#include "etl/result.h"

namespace etl::cataloger {

// One table to register: its current Iceberg metadata and where that file is.
struct IcebergRegistration {
  std::string table;              // the Glue table name (= the Iceberg table's folder)
  std::string metadata_location;  // s3://bucket/prefix/<table>/metadata/v<N>.metadata.json
  nlohmann::json metadata;        // that file's JSON (location, schemas, current-schema-id)
};

// An Iceberg type (its JSON form: "long", {"type":"list",...}) as a Glue / Hive type:
// boolean, int, bigint, float, double, date, timestamp (with or without zone),
// string (also uuid and time), binary (also fixed[n]), decimal(p,s),
// array<T>, map<K,V>, struct<a:T,...>. An unknown name is passed through.
std::string iceberg_glue_type(const nlohmann::json& type);

// The Glue columns of the metadata: the current schema's fields first
// (Parameters iceberg.field.current=true), then fields only older schemas have
// (false), each with iceberg.field.id and iceberg.field.optional.
nlohmann::json iceberg_glue_columns(const nlohmann::json& metadata);

// N of a metadata location ending in `v<N>.metadata.json` (what we write) or
// `<N>-<uuid>.metadata.json` (what Iceberg's Java and Python catalogs write);
// nullopt for any other name.
std::optional<long long> metadata_version(std::string_view location);

// The TableInput of CreateTable / UpdateTable. `previous` is the Glue table read
// before an update (its other Parameters are kept, its metadata_location becomes
// previous_metadata_location); nullptr for a create.
nlohmann::json iceberg_table_input(const IcebergRegistration& registration, const nlohmann::json* previous);

// What to do given GetTable's answer (the `Table` document; nullopt: no such table).
struct RegistrationDecision {
  enum class Step {
    create,      // no Glue table: CreateTable
    update,      // an older pointer: UpdateTable with `version_id`
    up_to_date,  // already at this metadata version or a newer one: nothing
    refuse,      // not ours to move (not an Iceberg table, another location): `reason`
  };
  Step step = Step::create;
  std::string version_id;  // the Glue table version read (update)
  std::string reason;      // why (up_to_date, refuse), for logs and errors
};
RegistrationDecision decide_registration(const std::optional<nlohmann::json>& glue_table,
                                         std::string_view metadata_location);

struct GlueRegistrarOptions {
  std::string database = "spotify";  // Config::glue_database
  bool create_database = true;       // ETL_GLUE_CREATE: CreateDatabase when CreateTable finds none
  int max_attempts = 5;              // GetTable + Create/UpdateTable rounds lost to concurrent writers
};

// What a registration did.
enum class RegistrationOutcome { created, updated, up_to_date };
std::string_view to_string(RegistrationOutcome outcome);

class GlueIcebergRegistrar final {
 public:
  static Result<std::unique_ptr<GlueIcebergRegistrar>> open(const AwsConfig& aws, GlueRegistrarOptions options,
                                                            aws::JsonClientOptions client_options = {});
  GlueIcebergRegistrar(std::unique_ptr<aws::JsonClient> client, GlueRegistrarOptions options);
  GlueIcebergRegistrar(const GlueIcebergRegistrar&) = delete;
  GlueIcebergRegistrar& operator=(const GlueIcebergRegistrar&) = delete;

  // Brings the table's Glue entry to `registration` (see the top of this file).
  // conflict: a Glue table that is not ours to move (the message says why), or
  // concurrent writers won every one of max_attempts rounds; invalid_argument: no
  // database and create_database is off; AWS and transport errors as JsonClient
  // reports them (unavailable, forbidden, ...).
  Result<RegistrationOutcome> register_table(const IcebergRegistration& registration);

  // Every Glue operation register_table may call: deploy/iam/ grants exactly these
  // (tests/unit/cataloger/glue_iceberg_test.cpp checks it).
  static const std::vector<std::string>& operations();

  const std::string& database() const { return options_.database; }

 private:
  Status create_database();

  std::unique_ptr<aws::JsonClient> client_;
  GlueRegistrarOptions options_;
};

}  // namespace etl::cataloger

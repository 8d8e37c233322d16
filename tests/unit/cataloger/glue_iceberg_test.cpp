// The Glue registration of Iceberg tables (aws/glue_iceberg.h): the pure parts
// (type mapping, request bodies, the "never backwards" and "not ours" decisions),
// the registrar against a fake Glue endpoint (concurrent modifications, races,
// a missing database), and the IAM document against the operations it calls.
#include "glue_iceberg.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>

#include "aws_fake.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;
using testing::aws_error;
using testing::AwsAnswer;
using testing::AwsRequest;
using testing::FakeAws;
using Step = RegistrationDecision::Step;

const std::string kLocation = "s3://bucket/transformed/songs_data";
std::string metadata_at(int version) {
  return kLocation + "/metadata/v" + std::to_string(version) + ".metadata.json";
}

// Two schemas, as our commits write them: `genres` came with schema 1; `old_col` only schema 0 had.
json table_metadata() {
  return json::parse(R"({
    "format-version": 2, "location": "s3://bucket/transformed/songs_data", "current-schema-id": 1,
    "schemas": [
      {"type": "struct", "schema-id": 0, "fields": [
        {"id": 1, "name": "song_id", "required": false, "type": "string"},
        {"id": 2, "name": "old_col", "required": false, "type": "int"}]},
      {"type": "struct", "schema-id": 1, "fields": [
        {"id": 1, "name": "song_id", "required": true, "type": "string", "doc": "Spotify id"},
        {"id": 3, "name": "duration_ms", "required": false, "type": "long"},
        {"id": 4, "name": "genres", "required": false,
         "type": {"type": "list", "element-id": 6, "element": "string", "element-required": false}},
        {"id": 5, "name": "dt", "required": false, "type": "string"}]}]
  })");
}

IcebergRegistration registration(int version) { return {"songs_data", metadata_at(version), table_metadata()}; }

json iceberg_glue_table(const std::string& location, const std::string& version_id = "3") {
  return {{"Name", "songs_data"},
          {"DatabaseName", "spotify"},
          {"VersionId", version_id},
          {"TableType", "EXTERNAL_TABLE"},
          {"Parameters", {{"table_type", "ICEBERG"}, {"metadata_location", location}, {"owner_note", "kept"}}},
          {"StorageDescriptor", {{"Location", kLocation}}}};
}

// ---- pure parts -----------------------------------------------------------------------------------

TEST(GlueIcebergTypes, PrimitivesMapToHiveNames) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"boolean", "boolean"}, {"int", "int"},         {"long", "bigint"},         {"float", "float"},
      {"double", "double"},   {"date", "date"},       {"timestamp", "timestamp"}, {"timestamptz", "timestamp"},
      {"string", "string"},   {"uuid", "string"},     {"time", "string"},         {"binary", "binary"},
      {"fixed[16]", "binary"}, {"decimal(10, 2)", "decimal(10,2)"}};
  for (const auto& [iceberg, glue] : cases) EXPECT_EQ(iceberg_glue_type(iceberg), glue) << "Iceberg type " << iceberg;
}

TEST(GlueIcebergTypes, NestedTypesMapRecursively) {
  EXPECT_EQ(iceberg_glue_type(json::parse(R"({"type":"list","element-id":5,"element":"long","element-required":false})")),
            "array<bigint>");
  EXPECT_EQ(iceberg_glue_type(json::parse(
                R"({"type":"map","key-id":1,"key":"string","value-id":2,"value":{"type":"list","element-id":3,"element":"double"}})")),
            "map<string,array<double>>");
  EXPECT_EQ(iceberg_glue_type(json::parse(
                R"({"type":"struct","fields":[{"id":1,"name":"a","type":"int"},{"id":2,"name":"b","type":"timestamptz"}]})")),
            "struct<a:int,b:timestamp>");
}

TEST(GlueIcebergColumns, CurrentSchemaFirstThenColumnsOnlyOlderSchemasHad) {
  json columns = iceberg_glue_columns(table_metadata());
  ASSERT_EQ(columns.size(), 5u) << columns.dump();
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c["Name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"song_id", "duration_ms", "genres", "dt", "old_col"}));
  EXPECT_EQ(columns[0]["Type"], "string");
  EXPECT_EQ(columns[0]["Comment"], "Spotify id");
  EXPECT_EQ(columns[0]["Parameters"]["iceberg.field.id"], "1");
  EXPECT_EQ(columns[0]["Parameters"]["iceberg.field.optional"], "false") << "required in the current schema";
  EXPECT_EQ(columns[0]["Parameters"]["iceberg.field.current"], "true");
  EXPECT_EQ(columns[1]["Type"], "bigint");
  EXPECT_EQ(columns[2]["Type"], "array<string>");
  EXPECT_EQ(columns[4]["Parameters"]["iceberg.field.current"], "false") << "dropped from the current schema";
  EXPECT_EQ(columns[4]["Parameters"]["iceberg.field.optional"], "true");
}

TEST(GlueIcebergLocations, MetadataVersionIsReadFromOursAndIcebergsFileNames) {
  EXPECT_EQ(metadata_version("s3://b/p/t/metadata/v12.metadata.json"), 12);
  EXPECT_EQ(metadata_version("s3://b/p/t/metadata/00042-6f1c3b52-0b7e-4d5e-9a0c-1b2c3d4e5f60.metadata.json"), 42);
  EXPECT_EQ(metadata_version("s3://b/p/t/metadata/00003-abc.gz.metadata.json"), 3);
  EXPECT_EQ(metadata_version("s3://b/p/t/metadata/version-hint.text"), std::nullopt);
  EXPECT_EQ(metadata_version("s3://b/p/t/metadata/vX.metadata.json"), std::nullopt);
  EXPECT_EQ(metadata_version("s3://b/p/t/metadata/current.metadata.json"), std::nullopt);
}

TEST(GlueIcebergRequests, CreateInputFollowsTheIcebergGlueConvention) {
  json input = iceberg_table_input(registration(1), nullptr);
  EXPECT_EQ(input["Name"], "songs_data");
  EXPECT_EQ(input["TableType"], "EXTERNAL_TABLE");
  EXPECT_EQ(input["Parameters"], (json{{"table_type", "ICEBERG"}, {"metadata_location", metadata_at(1)}}))
      << "no previous_metadata_location on a create";
  EXPECT_EQ(input["StorageDescriptor"]["Location"], kLocation);
  EXPECT_EQ(input["StorageDescriptor"]["Columns"].size(), 5u);
  EXPECT_FALSE(input.contains("PartitionKeys")) << "Iceberg keeps the partitioning; Glue has no partition keys";
}

TEST(GlueIcebergRequests, UpdateInputKeepsOtherParametersAndRecordsThePreviousPointer) {
  json previous = iceberg_glue_table(metadata_at(2));
  previous["Description"] = "songs";
  json input = iceberg_table_input(registration(3), &previous);
  EXPECT_EQ(input["Parameters"]["metadata_location"], metadata_at(3));
  EXPECT_EQ(input["Parameters"]["previous_metadata_location"], metadata_at(2));
  EXPECT_EQ(input["Parameters"]["table_type"], "ICEBERG");
  EXPECT_EQ(input["Parameters"]["owner_note"], "kept") << "parameters others set survive the update";
  EXPECT_EQ(input["Description"], "songs");
}

TEST(GlueIcebergDecision, AbsentTableIsCreated) {
  EXPECT_EQ(decide_registration(std::nullopt, metadata_at(1)).step, Step::create);
}

TEST(GlueIcebergDecision, OlderPointerIsUpdatedWithTheVersionRead) {
  auto d = decide_registration(iceberg_glue_table(metadata_at(2), "7"), metadata_at(3));
  EXPECT_EQ(d.step, Step::update);
  EXPECT_EQ(d.version_id, "7") << "UpdateTable must carry the Glue version it read (optimistic concurrency)";
  auto lower_case = iceberg_glue_table(metadata_at(9));
  lower_case["Parameters"]["table_type"] = "iceberg";
  EXPECT_EQ(decide_registration(lower_case, metadata_at(10)).step, Step::update) << "table_type is case-insensitive";
}

TEST(GlueIcebergDecision, PointerNeverMovesBackwards) {
  EXPECT_EQ(decide_registration(iceberg_glue_table(metadata_at(3)), metadata_at(3)).step, Step::up_to_date);
  auto newer = decide_registration(iceberg_glue_table(metadata_at(10)), metadata_at(9));
  EXPECT_EQ(newer.step, Step::up_to_date) << "v10 in Glue, a stale registrar with v9 must not move it back";
  EXPECT_NE(newer.reason.find("10"), std::string::npos) << newer.reason;
  EXPECT_EQ(decide_registration(iceberg_glue_table(metadata_at(9)), metadata_at(10)).step, Step::update)
      << "versions compare as numbers, not as text (v9 < v10)";
  EXPECT_EQ(decide_registration(iceberg_glue_table(kLocation + "/metadata/00012-abc.metadata.json"), metadata_at(11)).step,
            Step::up_to_date) << "another Iceberg writer's v12 is newer than our v11";
}

TEST(GlueIcebergDecision, HiveTableIsRefusedNeverOverwritten) {
  json hive = {{"Name", "songs_data"},
               {"VersionId", "1"},
               {"Parameters", {{"classification", "parquet"}}},
               {"PartitionKeys", {{{"Name", "dt"}, {"Type", "string"}}}},
               {"StorageDescriptor", {{"Location", kLocation + "/"}}}};
  auto d = decide_registration(hive, metadata_at(1));
  EXPECT_EQ(d.step, Step::refuse);
  EXPECT_NE(d.reason.find("not an Iceberg table"), std::string::npos) << d.reason;
  hive["Parameters"]["table_type"] = "HIVE";
  d = decide_registration(hive, metadata_at(1));
  EXPECT_EQ(d.step, Step::refuse);
  EXPECT_NE(d.reason.find("'HIVE'"), std::string::npos) << d.reason;
}

TEST(GlueIcebergDecision, IcebergTableOfAnotherLocationIsRefused) {
  auto d = decide_registration(iceberg_glue_table("s3://other-bucket/songs_data/metadata/v1.metadata.json"), metadata_at(5));
  EXPECT_EQ(d.step, Step::refuse);
  EXPECT_NE(d.reason.find("other-bucket"), std::string::npos) << d.reason;
}

// ---- the registrar against a fake Glue ------------------------------------------------------------

aws::JsonClientOptions fast_retries() {
  aws::JsonClientOptions o;
  o.max_attempts = 2;
  o.retry_base = std::chrono::milliseconds(5);
  o.retry_cap = std::chrono::milliseconds(10);
  return o;
}

std::unique_ptr<GlueIcebergRegistrar> registrar(const FakeAws& fake, GlueRegistrarOptions options = {}) {
  return GlueIcebergRegistrar::open(fake.aws_config(), std::move(options), fast_retries()).value();
}

TEST(GlueIcebergRegistrarFake, ConcurrentModificationIsReadAgainAndRetried) {
  FakeAws fake;
  std::atomic<int> gets{0};
  fake.on("GetTable", [&](const AwsRequest&) {
    // Another writer moves the table to v5 (Glue version 8) between our first read and our update.
    return ++gets == 1 ? AwsAnswer{200, {{"Table", iceberg_glue_table(metadata_at(4), "7")}}}
                       : AwsAnswer{200, {{"Table", iceberg_glue_table(metadata_at(5), "8")}}};
  });
  fake.on("UpdateTable", [](const AwsRequest& r) {
    if (r.body.value("VersionId", "") == "7")
      return aws_error(400, "ConcurrentModificationException", "Update table failed due to concurrent modifications");
    return AwsAnswer{200, json::object()};
  });
  auto done = registrar(fake)->register_table(registration(6));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(*done, RegistrationOutcome::updated);
  auto requests = fake.requests();
  std::vector<std::string> ops;
  for (const auto& r : requests) ops.push_back(r.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"GetTable", "UpdateTable", "GetTable", "UpdateTable"}));
  const json& last = requests.back().body;
  EXPECT_EQ(last["VersionId"], "8") << "the retry carries the version read again";
  EXPECT_EQ(last["TableInput"]["Parameters"]["previous_metadata_location"], metadata_at(5));
  EXPECT_EQ(last["TableInput"]["Parameters"]["metadata_location"], metadata_at(6));
  EXPECT_EQ(last["SkipArchive"], true);
}

TEST(GlueIcebergRegistrarFake, ConcurrentWriterWithANewerVersionWinsWithoutAnUpdate) {
  FakeAws fake;
  std::atomic<int> gets{0};
  fake.on("GetTable", [&](const AwsRequest&) {
    return ++gets == 1 ? AwsAnswer{200, {{"Table", iceberg_glue_table(metadata_at(4), "7")}}}
                       : AwsAnswer{200, {{"Table", iceberg_glue_table(metadata_at(9), "8")}}};
  });
  fake.on("UpdateTable", [](const AwsRequest&) {
    return aws_error(400, "ConcurrentModificationException", "Update table failed due to concurrent modifications");
  });
  auto done = registrar(fake)->register_table(registration(6));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(*done, RegistrationOutcome::up_to_date) << "v9 landed meanwhile: our v6 must not replace it";
  EXPECT_EQ(fake.count("UpdateTable"), 1u);
}

TEST(GlueIcebergRegistrarFake, EndlessConcurrentModificationsGiveUpAsAConflict) {
  FakeAws fake;
  fake.on("GetTable", [](const AwsRequest&) { return AwsAnswer{200, {{"Table", iceberg_glue_table(metadata_at(1))}}}; });
  fake.on("UpdateTable", [](const AwsRequest&) {
    return aws_error(400, "ConcurrentModificationException", "Update table failed due to concurrent modifications");
  });
  GlueRegistrarOptions options;
  options.max_attempts = 3;
  auto done = registrar(fake, options)->register_table(registration(2));
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::conflict);
  EXPECT_EQ(fake.count("UpdateTable"), 3u) << "bounded attempts";
}

TEST(GlueIcebergRegistrarFake, CreateRaceIsReadAgainAndDecidedAgain) {
  FakeAws fake;
  std::atomic<int> gets{0};
  fake.on("GetTable", [&](const AwsRequest&) {
    return ++gets == 1 ? aws_error(400, "EntityNotFoundException", "Table songs_data not found")
                       : AwsAnswer{200, {{"Table", iceberg_glue_table(metadata_at(2), "1")}}};
  });
  fake.on("CreateTable", [](const AwsRequest&) { return aws_error(400, "AlreadyExistsException", "Table already exists"); });
  fake.on("UpdateTable", [](const AwsRequest&) { return AwsAnswer{200, json::object()}; });
  auto done = registrar(fake)->register_table(registration(3));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(*done, RegistrationOutcome::updated);
  EXPECT_EQ(fake.requests().back().body["VersionId"], "1");
}

TEST(GlueIcebergRegistrarFake, MissingDatabaseIsCreatedWhenAllowedElseRefused) {
  FakeAws fake;
  std::atomic<bool> database{false};
  fake.on("GetTable", [](const AwsRequest&) { return aws_error(400, "EntityNotFoundException", "Database spotify not found"); });
  fake.on("CreateDatabase", [&](const AwsRequest& r) {
    EXPECT_EQ(r.body["DatabaseInput"]["Name"], "spotify");
    database = true;
    return AwsAnswer{200, json::object()};
  });
  fake.on("CreateTable", [&](const AwsRequest& r) {
    EXPECT_EQ(r.body["TableInput"]["Parameters"]["table_type"], "ICEBERG");
    return database ? AwsAnswer{200, json::object()} : aws_error(400, "EntityNotFoundException", "Database spotify not found");
  });
  GlueRegistrarOptions no_create;
  no_create.create_database = false;
  auto refused = registrar(fake, no_create)->register_table(registration(1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_NE(refused.error().message.find("ETL_GLUE_CREATE=false"), std::string::npos) << refused.error().message;
  EXPECT_EQ(fake.count("CreateDatabase"), 0u);

  auto created = registrar(fake)->register_table(registration(1));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(*created, RegistrationOutcome::created);
  EXPECT_EQ(fake.count("CreateDatabase"), 1u);
}

TEST(GlueIcebergRegistrarFake, HiveTableIsAConflictAndNothingIsWritten) {
  FakeAws fake;
  fake.on("GetTable", [](const AwsRequest&) {
    return AwsAnswer{200, {{"Table", {{"Name", "songs_data"}, {"VersionId", "1"}, {"Parameters", {{"classification", "parquet"}}}}}}};
  });
  auto done = registrar(fake)->register_table(registration(1));
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::conflict);
  EXPECT_NE(done.error().message.find("spotify.songs_data is not an Iceberg table"), std::string::npos)
      << done.error().message;
  EXPECT_EQ(fake.count("UpdateTable") + fake.count("CreateTable"), 0u);
}

TEST(GlueIcebergRegistrarFake, EveryCallIsOneOfTheDeclaredOperations) {
  FakeAws fake;
  fake.on("GetTable", [](const AwsRequest&) { return aws_error(400, "EntityNotFoundException", "Database spotify not found"); });
  fake.on("CreateDatabase", [](const AwsRequest&) { return aws_error(400, "AlreadyExistsException", "exists"); });
  fake.on("CreateTable", [](const AwsRequest&) { return aws_error(400, "EntityNotFoundException", "Database spotify not found"); });
  (void)registrar(fake)->register_table(registration(1));
  const auto& declared = GlueIcebergRegistrar::operations();
  for (const auto& r : fake.requests())
    EXPECT_NE(std::find(declared.begin(), declared.end(), r.op), declared.end()) << r.op << " is not declared";
}

// ---- the IAM document -----------------------------------------------------------------------------

// The template (deploy/iam) and the AWS overlay's filled-in policy alike.
class GlueIcebergIam : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Policies, GlueIcebergIam,
                         ::testing::Values("deploy/iam/cataloger-glue-iceberg.json",
                                           "deploy/k8s/overlays/aws/iam/cataloger-policy.json"));

TEST_P(GlueIcebergIam, PolicyGrantsExactlyTheGlueOperationsUsed) {
  const std::string path = std::string(ETL_SOURCE_DIR) + "/" + GetParam();
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  json policy = json::parse(in, nullptr, false);
  ASSERT_FALSE(policy.is_discarded()) << path << " is not JSON";
  std::set<std::string> registration, everywhere;
  for (const auto& statement : policy["Statement"]) {
    json actions = statement["Action"];
    if (actions.is_string()) actions = json::array({actions});
    for (const auto& a : actions) {
      const std::string action = a.get<std::string>();
      if (!action.starts_with("glue:")) continue;
      everywhere.insert(action);
      if (statement.value("Sid", "") == "RegisterTheIcebergTablesInGlue") registration.insert(action);
    }
  }
  std::set<std::string> used;
  for (const auto& op : GlueIcebergRegistrar::operations()) used.insert("glue:" + op);
  EXPECT_EQ(registration, used) << "statement RegisterTheIcebergTablesInGlue must grant exactly the Glue calls of "
                                   "GlueIcebergRegistrar::operations()";
  // Athena reads the Glue catalog with the caller's permissions: the only other Glue actions.
  std::set<std::string> athena_reads{"glue:GetDatabase", "glue:GetTable"};
  std::set<std::string> expected = used;
  expected.insert(athena_reads.begin(), athena_reads.end());
  EXPECT_EQ(everywhere, expected) << "no Glue action beyond the registrar's calls and Athena's catalog reads";
}

}  // namespace
}  // namespace etl::cataloger

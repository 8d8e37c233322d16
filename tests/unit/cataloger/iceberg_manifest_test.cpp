#include "manifest_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace etl::cataloger::iceberg {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ETL_SOURCE_DIR) + "/tests/unit/cataloger/fixtures/iceberg/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ManifestHeader header() {
  return {R"({"type":"struct","schema-id":3,"fields":[{"id":1,"name":"dt","required":false,"type":"string"}]})", 3,
          R"([{"name":"dt","transform":"identity","source-id":1,"field-id":1000}])", 0};
}

ManifestEntry entry(int i) {
  ManifestEntry e;
  e.status = EntryStatus::added;
  e.snapshot_id = 9000 + i;
  e.file_path = "s3://lake/tracks/dt=2024-05-0" + std::to_string(i % 9 + 1) + "/part-" + std::to_string(i) + ".parquet";
  e.dt = "2024-05-0" + std::to_string(i % 9 + 1);
  e.record_count = 100 + i;
  e.file_size_in_bytes = 4096 + i;
  return e;
}

ManifestFile manifest_file() {
  ManifestFile m;
  m.manifest_path = "s3://lake/tracks/metadata/snap-1-m0.avro";
  m.manifest_length = 4242;
  m.sequence_number = 7;
  m.min_sequence_number = 3;
  m.added_snapshot_id = 123456789012345;
  m.added_files_count = 2;
  m.existing_files_count = 5;
  m.deleted_files_count = 1;
  m.added_rows_count = 200;
  m.existing_rows_count = 500;
  m.deleted_rows_count = 100;
  m.partitions = {{false, std::nullopt, "2024-05-01", "2024-05-09"}};
  return m;
}

std::vector<ManifestEntry> read_back(const std::vector<ManifestEntry>& entries) {
  auto bytes = write_manifest(header(), entries);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  if (!bytes) return {};
  auto read = read_manifest(*bytes);
  EXPECT_TRUE(read.ok()) << read.error().message;
  return read ? *read : std::vector<ManifestEntry>{};
}

TEST(IcebergManifest, EntriesRoundTripWithOptionalFieldsAbsentAndPresent) {
  ManifestEntry inherited = entry(1);  // an added file: snapshot and sequence numbers inherited
  inherited.snapshot_id.reset();
  ManifestEntry explicit_numbers = entry(2);
  explicit_numbers.status = EntryStatus::existing;
  explicit_numbers.sequence_number = 4;
  explicit_numbers.file_sequence_number = 5;
  ManifestEntry deleted = entry(3);
  deleted.status = EntryStatus::deleted;
  deleted.sequence_number = 1;
  deleted.file_sequence_number = 2;
  deleted.file_format = "AVRO";
  std::vector<ManifestEntry> entries{inherited, explicit_numbers, deleted};
  EXPECT_EQ(read_back(entries), entries);
}

TEST(IcebergManifest, NullPartitionValueStaysNull) {
  ManifestEntry e = entry(1);
  e.dt.reset();
  auto back = read_back({e});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_FALSE(back[0].dt.has_value()) << "dt read as '" << *back[0].dt << "'";
  ManifestEntry empty = entry(2);
  empty.dt = "";
  EXPECT_EQ(read_back({empty}), std::vector<ManifestEntry>{empty}) << "an empty dt is not null";
}

TEST(IcebergManifest, EmptyManifestHasNoEntries) {
  auto bytes = write_manifest(header(), {});
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto read = read_manifest(*bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read->empty());
}

TEST(IcebergManifest, TenThousandEntriesSpanSeveralBlocksInOrder) {
  std::vector<ManifestEntry> entries;
  for (int i = 0; i < 10000; ++i) entries.push_back(entry(i));
  auto bytes = write_manifest(header(), entries);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_GT(bytes->size(), 2u * 64 * 1024) << "small enough for one block: the test would not cross blocks";
  auto read = read_manifest(*bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), entries.size());
  EXPECT_EQ(*read, entries);
}

TEST(IcebergManifest, HeaderCarriesIcebergMetadata) {
  auto bytes = write_manifest(header(), {entry(1)});
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto meta = read_file_metadata(*bytes);
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  EXPECT_EQ(meta->at("schema"), header().schema_json);
  EXPECT_EQ(meta->at("schema-id"), "3");
  EXPECT_EQ(meta->at("partition-spec"), header().partition_spec_json);
  EXPECT_EQ(meta->at("partition-spec-id"), "0");
  EXPECT_EQ(meta->at("format-version"), "2");
  EXPECT_EQ(meta->at("content"), "data");
  EXPECT_EQ(meta->at("avro.codec"), "null");
  EXPECT_NE(meta->at("avro.schema").find(R"("field-id":1000)"), std::string::npos) << meta->at("avro.schema");
}

TEST(IcebergManifest, SameInputGivesSameBytes) {
  auto a = write_manifest(header(), {entry(1), entry(2)});
  auto b = write_manifest(header(), {entry(1), entry(2)});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(IcebergManifestList, RoundTripsWithAndWithoutPartitionSummaries) {
  ManifestFile full = manifest_file();
  full.partitions.push_back({true, true, std::nullopt, std::string("\0\x01", 2)});
  ManifestFile bare = manifest_file();
  bare.manifest_path = "file:///tmp/lake/m1.avro";
  bare.content = 1;
  bare.partitions.clear();
  std::vector<ManifestFile> list{full, bare, manifest_file()};
  auto bytes = write_manifest_list({1, std::nullopt, 7}, list);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto read = read_manifest_list(*bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, list);
}

TEST(IcebergManifestList, EmptyListHasNoManifests) {
  auto bytes = write_manifest_list({1, 0, 1}, {});
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto read = read_manifest_list(*bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read->empty());
}

TEST(IcebergManifestList, HeaderCarriesSnapshotIdsAndSequenceNumber) {
  auto first = write_manifest_list({11, std::nullopt, 1}, {manifest_file()});
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto meta = read_file_metadata(*first);
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  EXPECT_EQ(meta->at("snapshot-id"), "11");
  EXPECT_EQ(meta->at("parent-snapshot-id"), "null");
  EXPECT_EQ(meta->at("sequence-number"), "1");
  EXPECT_EQ(meta->at("format-version"), "2");
  auto second = write_manifest_list({12, 11, 2}, {manifest_file()});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(read_file_metadata(*second)->at("parent-snapshot-id"), "11");
}

// Avro containers have no end marker: a cut right after the header is a valid empty
// file (the header is what an empty write produces). Any other cut is an error.
TEST(IcebergManifest, TruncatedFilesAreErrorsNotCrashes) {
  auto manifest = write_manifest(header(), {entry(1), entry(2), entry(3)});
  auto empty_manifest = write_manifest(header(), {});
  ManifestListHeader list_header{1, std::nullopt, 1};
  auto list = write_manifest_list(list_header, {manifest_file(), manifest_file()});
  auto empty_list = write_manifest_list(list_header, {});
  ASSERT_TRUE(manifest.ok() && list.ok() && empty_manifest.ok() && empty_list.ok());
  for (std::size_t n = 0; n < manifest->size(); n += 7) {
    auto read = read_manifest(std::string_view(*manifest).substr(0, n));
    if (n == empty_manifest->size()) continue;
    ASSERT_FALSE(read.ok()) << "a manifest cut at byte " << n << " of " << manifest->size() << " was read";
    EXPECT_EQ(read.error().code, Errc::invalid_argument) << read.error().message;
  }
  for (std::size_t n = 0; n < list->size(); n += 7) {
    auto read = read_manifest_list(std::string_view(*list).substr(0, n));
    if (n == empty_list->size()) continue;
    ASSERT_FALSE(read.ok()) << "a list cut at byte " << n << " of " << list->size() << " was read";
    EXPECT_EQ(read.error().code, Errc::invalid_argument) << read.error().message;
  }
  auto at_header = read_manifest_list(std::string_view(*list).substr(0, empty_list->size()));
  ASSERT_TRUE(at_header.ok()) << at_header.error().message;
  EXPECT_TRUE(at_header->empty());
}

TEST(IcebergManifest, GarbageAndFlippedBytesAreErrorsNotCrashes) {
  EXPECT_FALSE(read_manifest("").ok());
  EXPECT_FALSE(read_manifest("not avro at all").ok());
  EXPECT_FALSE(read_manifest_list(std::string("Obj\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 14)).ok());
  auto manifest = write_manifest(header(), {entry(1), entry(2)});
  ASSERT_TRUE(manifest.ok());
  for (std::size_t i = 0; i < manifest->size(); ++i) {
    std::string bad = *manifest;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    (void)read_manifest(bad);  // any result but a crash
    (void)read_manifest_list(bad);
  }
}

TEST(IcebergManifest, ManifestListIsNotReadAsAManifest) {
  auto list = write_manifest_list({1, std::nullopt, 1}, {manifest_file()});
  ASSERT_TRUE(list.ok());
  auto read = read_manifest(*list);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Errc::invalid_argument);
  EXPECT_NE(read.error().message.find("status"), std::string::npos) << read.error().message;
}

// fixtures/iceberg/README.md: written by fastavro with Iceberg Java's schemas.
TEST(IcebergManifest, ReadsAnotherWritersDeflateManifestSkippingFieldsWeDoNotUse) {
  auto bytes = fixture("java_like_manifest_deflate.avro");
  ASSERT_FALSE(bytes.empty()) << "fixture missing";
  auto read = read_manifest(bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  std::istringstream expected(fixture("java_like_manifest_deflate.expected.txt"));
  auto opt = [](const std::string& s) { return s == "-" ? std::nullopt : std::optional<std::int64_t>(std::stoll(s)); };
  std::size_t i = 0;
  for (std::string line; std::getline(expected, line); ++i) {
    ASSERT_LT(i, read->size()) << "fewer entries than expected";
    std::istringstream f(line);
    std::string status, snap, seq, fseq, path, format, dt, rows, size;
    f >> status >> snap >> seq >> fseq >> path >> format >> dt >> rows >> size;
    ManifestEntry want{static_cast<EntryStatus>(std::stoi(status)), opt(snap), opt(seq), opt(fseq), path, format,
                       dt == "-" ? std::nullopt : std::optional<std::string>(dt), std::stoll(rows), std::stoll(size)};
    EXPECT_EQ((*read)[i], want) << "entry " << i << ": " << line;
  }
  EXPECT_EQ(i, 300u);
  EXPECT_EQ(read->size(), i);
}

TEST(IcebergManifestList, ReadsAV1ListWithItsNamesAndNullCountsAsZero) {
  auto read = read_manifest_list(fixture("v1_manifest_list.avro"));
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 1u);
  const auto& m = (*read)[0];
  EXPECT_EQ(m.manifest_path, "s3://lake/t/metadata/a-m0.avro");
  EXPECT_EQ(m.manifest_length, 6000);
  EXPECT_EQ(m.added_snapshot_id, 55);
  EXPECT_EQ(m.content, 0);
  EXPECT_EQ(m.sequence_number, 0);
  EXPECT_EQ(m.added_files_count, 3);
  EXPECT_EQ(m.existing_files_count, 0);
  EXPECT_EQ(m.added_rows_count, 30);
  ASSERT_EQ(m.partitions.size(), 1u);
  EXPECT_EQ(m.partitions[0], (PartitionFieldSummary{false, false, "2024-01-01", "2024-01-03"}));
}

// An Avro header with the given schema and no blocks (the framing by hand: a map of
// one block of two entries, zigzag lengths below 64).
std::string avro_file_with_schema(const std::string& schema) {
  auto zigzag = [](std::size_t n) { return std::string(1, static_cast<char>(n * 2)); };
  std::string out("Obj\x01", 4);
  out += zigzag(1) + zigzag(11) + "avro.schema";
  std::string len;  // the schema is longer than 63 bytes: a two-byte varint
  std::size_t z = schema.size() * 2;
  while (z >= 0x80) {
    len.push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  len.push_back(static_cast<char>(z));
  out += len + schema + zigzag(0) + std::string(16, 's');
  return out;
}

// Avro C leaks a second definition of a type name: such a schema is refused first.
TEST(IcebergManifest, SchemaDefiningARecordNameTwiceIsRefused) {
  std::string twice = R"({"type":"record","name":"manifest_entry","fields":[)"
                      R"({"name":"a","type":{"type":"record","name":"r102","fields":[]}},)"
                      R"({"name":"b","type":{"type":"record","name":"r102","fields":[]}}]})";
  auto read = read_manifest(avro_file_with_schema(twice));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Errc::invalid_argument);
  EXPECT_NE(read.error().message.find("twice"), std::string::npos) << read.error().message;
  std::string once = R"({"type":"record","name":"manifest_entry","fields":[)"
                     R"({"name":"a","type":{"type":"record","name":"r102","fields":[]}},{"name":"b","type":"r102"}]})";
  auto empty = read_manifest(avro_file_with_schema(once));
  ASSERT_TRUE(empty.ok()) << "a reference to a named type is not a second definition: " << empty.error().message;
}

}  // namespace
}  // namespace etl::cataloger::iceberg

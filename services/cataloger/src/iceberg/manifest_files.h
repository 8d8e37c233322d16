// Iceberg v2 manifests and manifest lists as Avro object container files
// (format spec: "Manifests", "Manifest Lists"). Encoding through Avro C; the
// schemas carry Iceberg field ids ("field-id") so any Iceberg reader (PyIceberg,
// DuckDB's iceberg extension, Trino, Spark) resolves them by id.
//
// Our tables have one partition spec (spec id 0): identity on the string column
// `dt` (partition field id 1000). Only data files (content 0) are written; no
// delete files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::cataloger::iceberg {

enum class EntryStatus : int { existing = 0, added = 1, deleted = 2 };

// One manifest_entry with its data_file.
struct ManifestEntry {
  EntryStatus status = EntryStatus::added;
  std::optional<std::int64_t> snapshot_id;           // the snapshot that added (or deleted) the file
  std::optional<std::int64_t> sequence_number;       // data sequence number (nullopt: inherited, for added)
  std::optional<std::int64_t> file_sequence_number;  // (nullopt: inherited, for added)
  std::string file_path;                             // full URL: s3://bucket/... or file:///...
  std::string file_format = "PARQUET";               // PARQUET | AVRO | ORC
  std::optional<std::string> dt;                     // the partition value (identity on dt)
  std::int64_t record_count = 0;
  std::int64_t file_size_in_bytes = 0;
  bool operator==(const ManifestEntry&) const = default;
};

// The manifest file's header: what readers need besides the entries.
struct ManifestHeader {
  std::string schema_json;          // the table schema (Iceberg JSON) the manifest was written with
  int schema_id = 0;
  std::string partition_spec_json;  // the spec's fields, as a JSON array
  int partition_spec_id = 0;
};

// Manifest (content 0 = data). Entries are written in the given order.
Result<std::string> write_manifest(const ManifestHeader& header, const std::vector<ManifestEntry>& entries);
// invalid_argument when the bytes are not a manifest this module can read: not an
// Avro container, a codec other than null or deflate, a data_file that is not
// content 0, or a partition without `dt`. Fields are read by name from the file's
// own schema, so other writers' extra fields are skipped.
Result<std::vector<ManifestEntry>> read_manifest(std::string_view bytes);

struct PartitionFieldSummary {
  bool contains_null = false;
  std::optional<bool> contains_nan;
  std::optional<std::string> lower_bound;  // Iceberg single-value binary form (a string: its UTF-8 bytes)
  std::optional<std::string> upper_bound;
  bool operator==(const PartitionFieldSummary&) const = default;
};

// One manifest_file of a manifest list.
struct ManifestFile {
  std::string manifest_path;  // full URL
  std::int64_t manifest_length = 0;
  int partition_spec_id = 0;
  int content = 0;  // 0 data, 1 deletes
  std::int64_t sequence_number = 0;
  std::int64_t min_sequence_number = 0;
  std::int64_t added_snapshot_id = 0;
  int added_files_count = 0;
  int existing_files_count = 0;
  int deleted_files_count = 0;
  std::int64_t added_rows_count = 0;
  std::int64_t existing_rows_count = 0;
  std::int64_t deleted_rows_count = 0;
  std::vector<PartitionFieldSummary> partitions;  // one per partition field (dt); empty is written as null
  bool operator==(const ManifestFile&) const = default;
};

struct ManifestListHeader {
  std::int64_t snapshot_id = 0;
  std::optional<std::int64_t> parent_snapshot_id;
  std::int64_t sequence_number = 0;
};

Result<std::string> write_manifest_list(const ManifestListHeader& header, const std::vector<ManifestFile>& manifests);
// Reads v2 lists and v1 ones (content and sequence numbers 0; the v1 names
// added_data_files_count etc. for the counts). Errors as read_manifest.
Result<std::vector<ManifestFile>> read_manifest_list(std::string_view bytes);

// The Avro file metadata of a manifest or manifest list: our keys (schema,
// partition-spec, snapshot-id, ...) plus avro.schema and avro.codec.
// invalid_argument when the bytes do not start with an Avro container header.
Result<std::map<std::string, std::string, std::less<>>> read_file_metadata(std::string_view bytes);

}  // namespace etl::cataloger::iceberg

#include "manifest_files.h"

#include "avro_container.h"

namespace etl::cataloger::iceberg {
namespace {

// manifest_entry with the v2 data_file's required fields and our partition tuple
// (spec "Manifest Entry Fields", "Data File Fields"). The optional metrics are not
// written: readers take a missing optional field as null.
constexpr std::string_view kManifestSchema = R"({"type":"record","name":"manifest_entry","fields":[
{"name":"status","type":"int","field-id":0},
{"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1},
{"name":"sequence_number","type":["null","long"],"default":null,"field-id":3},
{"name":"file_sequence_number","type":["null","long"],"default":null,"field-id":4},
{"name":"data_file","type":{"type":"record","name":"r2","fields":[
 {"name":"content","type":"int","field-id":134},
 {"name":"file_path","type":"string","field-id":100},
 {"name":"file_format","type":"string","field-id":101},
 {"name":"partition","type":{"type":"record","name":"r102","fields":[
  {"name":"dt","type":["null","string"],"default":null,"field-id":1000}]},"field-id":102},
 {"name":"record_count","type":"long","field-id":103},
 {"name":"file_size_in_bytes","type":"long","field-id":104}]},"field-id":2}]})";

// manifest_file (spec "Manifest Lists").
constexpr std::string_view kManifestListSchema = R"({"type":"record","name":"manifest_file","fields":[
{"name":"manifest_path","type":"string","field-id":500},
{"name":"manifest_length","type":"long","field-id":501},
{"name":"partition_spec_id","type":"int","field-id":502},
{"name":"content","type":"int","field-id":517},
{"name":"sequence_number","type":"long","field-id":515},
{"name":"min_sequence_number","type":"long","field-id":516},
{"name":"added_snapshot_id","type":"long","field-id":503},
{"name":"added_files_count","type":"int","field-id":504},
{"name":"existing_files_count","type":"int","field-id":505},
{"name":"deleted_files_count","type":"int","field-id":506},
{"name":"added_rows_count","type":"long","field-id":512},
{"name":"existing_rows_count","type":"long","field-id":513},
{"name":"deleted_rows_count","type":"long","field-id":514},
{"name":"partitions","type":["null",{"type":"array","element-id":508,"items":{"type":"record","name":"r508","fields":[
 {"name":"contains_null","type":"boolean","field-id":509},
 {"name":"contains_nan","type":["null","boolean"],"default":null,"field-id":518},
 {"name":"lower_bound","type":["null","bytes"],"default":null,"field-id":510},
 {"name":"upper_bound","type":["null","bytes"],"default":null,"field-id":511}]}}],"default":null,"field-id":507},
{"name":"key_metadata","type":["null","bytes"],"default":null,"field-id":519}]})";

Error missing(const char* name) { return make_error(Errc::invalid_argument, std::string("no field ") + name); }

// A required field: present, not null, of the type `as` accepts.
template <class As>
auto required_field(avro_value_t& record, const char* name, As as) -> decltype(as(record, name)) {
  auto v = avro::field(record, name);
  if (!v) return missing(name);
  return as(*v, name);
}

// An optional one: nullopt when absent or null.
template <class T, class As>
Result<std::optional<T>> optional_field(avro_value_t& record, const char* name, As as) {
  auto v = avro::field(record, name);
  if (!v) return std::optional<T>{};
  auto got = as(*v, name);
  if (!got) return std::move(got).error();
  return std::optional<T>{std::move(*got)};
}

// Assigns a Result's value to `out` or returns its error from the enclosing function.
#define ETL_ASSIGN(out, expr)                        \
  do {                                               \
    auto etl_r_ = (expr);                            \
    if (!etl_r_) return std::move(etl_r_).error();   \
    out = std::move(*etl_r_);                        \
  } while (0)

Status fill_entry(avro_value_t& datum, const ManifestEntry& e) {
  ETL_RETURN_IF_ERROR(avro::set_int(datum, "status", static_cast<int>(e.status)));
  ETL_RETURN_IF_ERROR(avro::set_optional_long(datum, "snapshot_id", e.snapshot_id));
  ETL_RETURN_IF_ERROR(avro::set_optional_long(datum, "sequence_number", e.sequence_number));
  ETL_RETURN_IF_ERROR(avro::set_optional_long(datum, "file_sequence_number", e.file_sequence_number));
  auto data_file = avro::child(datum, "data_file");
  if (!data_file) return std::move(data_file).error();
  ETL_RETURN_IF_ERROR(avro::set_int(*data_file, "content", 0));
  ETL_RETURN_IF_ERROR(avro::set_string(*data_file, "file_path", e.file_path));
  ETL_RETURN_IF_ERROR(avro::set_string(*data_file, "file_format", e.file_format));
  auto partition = avro::child(*data_file, "partition");
  if (!partition) return std::move(partition).error();
  ETL_RETURN_IF_ERROR(avro::set_optional_string(*partition, "dt", e.dt));
  ETL_RETURN_IF_ERROR(avro::set_long(*data_file, "record_count", e.record_count));
  return avro::set_long(*data_file, "file_size_in_bytes", e.file_size_in_bytes);
}

Result<ManifestEntry> entry_from(avro_value_t& datum) {
  ManifestEntry e;
  std::int32_t status = 0;
  ETL_ASSIGN(status, required_field(datum, "status", avro::as_int));
  if (status < 0 || status > 2) return make_error(Errc::invalid_argument, "status " + std::to_string(status));
  e.status = static_cast<EntryStatus>(status);
  ETL_ASSIGN(e.snapshot_id, optional_field<std::int64_t>(datum, "snapshot_id", avro::as_long));
  ETL_ASSIGN(e.sequence_number, optional_field<std::int64_t>(datum, "sequence_number", avro::as_long));
  ETL_ASSIGN(e.file_sequence_number, optional_field<std::int64_t>(datum, "file_sequence_number", avro::as_long));
  auto data_file = avro::field(datum, "data_file");
  if (!data_file) return missing("data_file");
  std::optional<std::int32_t> content;
  ETL_ASSIGN(content, optional_field<std::int32_t>(*data_file, "content", avro::as_int));  // absent in v1: data
  if (content.value_or(0) != 0)
    return make_error(Errc::invalid_argument, "data_file content " + std::to_string(*content) + ": only data files");
  ETL_ASSIGN(e.file_path, required_field(*data_file, "file_path", avro::as_bytes));
  ETL_ASSIGN(e.file_format, required_field(*data_file, "file_format", avro::as_bytes));
  auto partition = avro::field(*data_file, "partition");
  if (!partition) return missing("partition");
  avro_value_t dt;
  if (avro_value_get_by_name(&*partition, "dt", &dt, nullptr) != 0)
    return make_error(Errc::invalid_argument, "the partition has no dt field");
  ETL_ASSIGN(e.dt, optional_field<std::string>(*partition, "dt", avro::as_bytes));
  ETL_ASSIGN(e.record_count, required_field(*data_file, "record_count", avro::as_long));
  ETL_ASSIGN(e.file_size_in_bytes, required_field(*data_file, "file_size_in_bytes", avro::as_long));
  return e;
}

Status fill_manifest_file(avro_value_t& datum, const ManifestFile& m) {
  ETL_RETURN_IF_ERROR(avro::set_string(datum, "manifest_path", m.manifest_path));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "manifest_length", m.manifest_length));
  ETL_RETURN_IF_ERROR(avro::set_int(datum, "partition_spec_id", m.partition_spec_id));
  ETL_RETURN_IF_ERROR(avro::set_int(datum, "content", m.content));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "sequence_number", m.sequence_number));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "min_sequence_number", m.min_sequence_number));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "added_snapshot_id", m.added_snapshot_id));
  ETL_RETURN_IF_ERROR(avro::set_int(datum, "added_files_count", m.added_files_count));
  ETL_RETURN_IF_ERROR(avro::set_int(datum, "existing_files_count", m.existing_files_count));
  ETL_RETURN_IF_ERROR(avro::set_int(datum, "deleted_files_count", m.deleted_files_count));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "added_rows_count", m.added_rows_count));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "existing_rows_count", m.existing_rows_count));
  ETL_RETURN_IF_ERROR(avro::set_long(datum, "deleted_rows_count", m.deleted_rows_count));
  ETL_RETURN_IF_ERROR(avro::set_null(datum, "key_metadata"));
  if (m.partitions.empty()) return avro::set_null(datum, "partitions");
  auto list = avro::child(datum, "partitions", /*in_union=*/true);
  if (!list) return std::move(list).error();
  for (const auto& p : m.partitions) {
    avro_value_t summary;
    if (avro_value_append(&*list, &summary, nullptr) != 0)
      return avro::avro_error(Errc::internal, "append a partition summary");
    ETL_RETURN_IF_ERROR(avro::set_bool(summary, "contains_null", p.contains_null));
    ETL_RETURN_IF_ERROR(avro::set_optional_bool(summary, "contains_nan", p.contains_nan));
    ETL_RETURN_IF_ERROR(avro::set_optional_bytes(summary, "lower_bound", p.lower_bound));
    ETL_RETURN_IF_ERROR(avro::set_optional_bytes(summary, "upper_bound", p.upper_bound));
  }
  return ok_status();
}

// A count that v1 lists may name differently or leave null (then 0).
template <class T, class As>
Result<T> count(avro_value_t& datum, const char* v2_name, const char* v1_name, As as) {
  auto v = avro::field(datum, v2_name);
  if (!v) v = avro::field(datum, v1_name);
  if (!v) return T{0};
  return as(*v, v2_name);
}

Result<ManifestFile> manifest_file_from(avro_value_t& datum) {
  ManifestFile m;
  ETL_ASSIGN(m.manifest_path, required_field(datum, "manifest_path", avro::as_bytes));
  ETL_ASSIGN(m.manifest_length, required_field(datum, "manifest_length", avro::as_long));
  ETL_ASSIGN(m.partition_spec_id, required_field(datum, "partition_spec_id", avro::as_int));
  ETL_ASSIGN(m.added_snapshot_id, required_field(datum, "added_snapshot_id", avro::as_long));
  // v2 fields; a v1 list reads as 0 (spec "Manifest Lists").
  ETL_ASSIGN(m.content, count<int>(datum, "content", "content", avro::as_int));
  ETL_ASSIGN(m.sequence_number, count<std::int64_t>(datum, "sequence_number", "sequence_number", avro::as_long));
  ETL_ASSIGN(m.min_sequence_number,
             count<std::int64_t>(datum, "min_sequence_number", "min_sequence_number", avro::as_long));
  ETL_ASSIGN(m.added_files_count, count<int>(datum, "added_files_count", "added_data_files_count", avro::as_int));
  ETL_ASSIGN(m.existing_files_count,
             count<int>(datum, "existing_files_count", "existing_data_files_count", avro::as_int));
  ETL_ASSIGN(m.deleted_files_count,
             count<int>(datum, "deleted_files_count", "deleted_data_files_count", avro::as_int));
  ETL_ASSIGN(m.added_rows_count, count<std::int64_t>(datum, "added_rows_count", "added_rows_count", avro::as_long));
  ETL_ASSIGN(m.existing_rows_count,
             count<std::int64_t>(datum, "existing_rows_count", "existing_rows_count", avro::as_long));
  ETL_ASSIGN(m.deleted_rows_count,
             count<std::int64_t>(datum, "deleted_rows_count", "deleted_rows_count", avro::as_long));
  auto list = avro::field(datum, "partitions");
  if (!list) return m;
  if (avro_value_get_type(&*list) != AVRO_ARRAY)
    return make_error(Errc::invalid_argument, "field partitions is not an array");
  std::size_t n = 0;
  avro_value_get_size(&*list, &n);
  for (std::size_t i = 0; i < n; ++i) {
    avro_value_t s;
    if (avro_value_get_by_index(&*list, i, &s, nullptr) != 0 || avro_value_get_type(&s) != AVRO_RECORD)
      return make_error(Errc::invalid_argument, "a partitions element is not a field_summary record");
    PartitionFieldSummary p;
    ETL_ASSIGN(p.contains_null, required_field(s, "contains_null", avro::as_bool));
    ETL_ASSIGN(p.contains_nan, optional_field<bool>(s, "contains_nan", avro::as_bool));
    ETL_ASSIGN(p.lower_bound, optional_field<std::string>(s, "lower_bound", avro::as_bytes));
    ETL_ASSIGN(p.upper_bound, optional_field<std::string>(s, "upper_bound", avro::as_bytes));
    m.partitions.push_back(std::move(p));
  }
  return m;
}

// Checks a metadata key when the file has it: other writers may omit the optional ones.
Status check_metadata(std::string_view bytes, std::string_view key, std::string_view want) {
  auto metadata = avro::read_container_metadata(bytes);
  if (!metadata) return std::move(metadata).error();
  auto it = metadata->find(key);
  if (it != metadata->end() && it->second != want)
    return make_error(Errc::invalid_argument,
                      std::string(key) + " is '" + it->second + "', this reader wants '" + std::string(want) + "'");
  return ok_status();
}

}  // namespace

Result<std::string> write_manifest(const ManifestHeader& header, const std::vector<ManifestEntry>& entries) {
  avro::Metadata metadata{{"schema", header.schema_json},
                          {"schema-id", std::to_string(header.schema_id)},
                          {"partition-spec", header.partition_spec_json},
                          {"partition-spec-id", std::to_string(header.partition_spec_id)},
                          {"format-version", "2"},
                          {"content", "data"}};
  return avro::write_container(kManifestSchema, metadata, entries.size(),
                               [&](avro_value_t& datum, std::size_t i) { return fill_entry(datum, entries[i]); });
}

Result<std::vector<ManifestEntry>> read_manifest(std::string_view bytes) {
  ETL_RETURN_IF_ERROR(check_metadata(bytes, "content", "data"));
  std::vector<ManifestEntry> entries;
  ETL_RETURN_IF_ERROR(avro::read_container(bytes, [&](avro_value_t& datum) -> Status {
    auto e = entry_from(datum);
    if (!e) return make_error(Errc::invalid_argument, "manifest entry " + std::to_string(entries.size()) + ": " +
                                                          std::move(e).error().message);
    entries.push_back(std::move(*e));
    return ok_status();
  }));
  return entries;
}

Result<std::string> write_manifest_list(const ManifestListHeader& header, const std::vector<ManifestFile>& manifests) {
  avro::Metadata metadata{
      {"snapshot-id", std::to_string(header.snapshot_id)},
      {"parent-snapshot-id", header.parent_snapshot_id ? std::to_string(*header.parent_snapshot_id) : "null"},
      {"sequence-number", std::to_string(header.sequence_number)},
      {"format-version", "2"}};
  return avro::write_container(kManifestListSchema, metadata, manifests.size(), [&](avro_value_t& datum, std::size_t i) {
    return fill_manifest_file(datum, manifests[i]);
  });
}

Result<std::vector<ManifestFile>> read_manifest_list(std::string_view bytes) {
  std::vector<ManifestFile> manifests;
  ETL_RETURN_IF_ERROR(avro::read_container(bytes, [&](avro_value_t& datum) -> Status {
    auto m = manifest_file_from(datum);
    if (!m) return make_error(Errc::invalid_argument, "manifest list entry " + std::to_string(manifests.size()) +
                                                          ": " + std::move(m).error().message);
    manifests.push_back(std::move(*m));
    return ok_status();
  }));
  return manifests;
}

Result<std::map<std::string, std::string, std::less<>>> read_file_metadata(std::string_view bytes) {
  return avro::read_container_metadata(bytes);
}

}  // namespace etl::cataloger::iceberg

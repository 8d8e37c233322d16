// The Iceberg manifest and manifest list readers on arbitrary bytes (the Avro file
// header, its schema and the datums all come from the input): an error or entries,
// never a crash, a hang or a huge allocation; what reads writes back to the same.
// Also a compacted file's source list (its footer's JSON, compacted_sources.h).
#include <cstdlib>

#include "compacted_sources.h"
#include "manifest_files.h"

using namespace etl::cataloger::iceberg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)read_file_metadata(bytes);
  if (auto entries = read_manifest(bytes)) {
    auto again = write_manifest(ManifestHeader{}, *entries);
    if (!again) std::abort();
    auto reread = read_manifest(*again);
    if (!reread || *reread != *entries) std::abort();
  }
  if (auto manifests = read_manifest_list(bytes)) {
    auto again = write_manifest_list(ManifestListHeader{}, *manifests);
    if (!again) std::abort();
    auto reread = read_manifest_list(*again);
    if (!reread || *reread != *manifests) std::abort();
  }
  if (auto sources = decode_sources(bytes)) {
    auto reread = decode_sources(encode_sources(*sources));
    if (!reread || *reread != *sources) std::abort();
  }
  return 0;
}

// The envelope reader (simdjson On-Demand walk of a raw object) on arbitrary
// bytes with one reused parser, as the service uses it.
#include <simdjson.h>

#include "raw_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static simdjson::ondemand::parser parser;
  simdjson::padded_string padded(reinterpret_cast<const char*>(data), size);
  etl::transformer::RawObjectMeta meta;
  meta.key = "to_be_processed/spotify_raw_20261121T060000Z_album_4aawyAB9vmqN3uQ7FjRGTy_r1.json";
  etl::transformer::TransformOutput out;
  (void)etl::transformer::read_raw_object(parser, padded, meta, out);
  return 0;
}

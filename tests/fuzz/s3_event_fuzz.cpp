// The S3 event parser on arbitrary documents: an error or bounded records, never a crash.
#include <cstdlib>

#include "etl/s3_event.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  for (auto kinds : {etl::S3EventKinds::created, etl::S3EventKinds::created_and_removed}) {
    auto events = etl::parse_s3_events(doc, kinds);
    if (events && events->size() > etl::kMaxS3EventRecords) std::abort();
    if (events)
      for (const auto& e : *events) (void)etl::build_s3_event(e);
  }
  return 0;
}

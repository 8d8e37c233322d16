#include "transform.h"

#include <cstring>
#include <memory>

#include "raw_reader.h"

namespace etl::transformer {
namespace {

// Parsers and padded buffers are reused per thread: allocating them per object
// costs page faults on every call (for a 50 MB object, more than the parse
// itself). Up to the largest realistic object (a 10,000-item playlist, about
// 40-60 MB) they are kept; after a larger one they are dropped, so a rare
// 200 MB object does not pin its buffers for the life of the process.
constexpr std::size_t kKeepBuffersUpTo = 64u << 20;

struct Scratch {
  simdjson::ondemand::parser parser;
  std::unique_ptr<char[]> padded;
  std::size_t padded_capacity = 0;

  void shrink_after(std::size_t document_bytes) {
    if (document_bytes <= kKeepBuffersUpTo) return;
    parser = simdjson::ondemand::parser{};
    padded.reset();
    padded_capacity = 0;
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

Result<TransformOutput> run(simdjson::padded_string_view json, const RawObjectMeta& meta) {
  Scratch& s = scratch();
  TransformOutput out;
  Status status = read_raw_object(s.parser, json, meta, out);
  s.shrink_after(json.length());
  if (!status.ok()) return std::move(status).error();
  return out;
}

}  // namespace

Result<TransformOutput> transform_raw(std::string_view raw_bytes, const RawObjectMeta& meta) {
  Scratch& s = scratch();
  const std::size_t needed = raw_bytes.size() + simdjson::SIMDJSON_PADDING;
  if (s.padded_capacity < needed) {
    s.padded.reset(new char[needed]);
    s.padded_capacity = needed;
  }
  if (!raw_bytes.empty()) std::memcpy(s.padded.get(), raw_bytes.data(), raw_bytes.size());
  std::memset(s.padded.get() + raw_bytes.size(), 0, simdjson::SIMDJSON_PADDING);
  return run(simdjson::padded_string_view(s.padded.get(), raw_bytes.size(), s.padded_capacity), meta);
}

Result<TransformOutput> transform_raw_in_place(std::string& raw, const RawObjectMeta& meta) {
  const std::size_t size = raw.size();
  if (raw.capacity() < size + simdjson::SIMDJSON_PADDING) raw.reserve(size + simdjson::SIMDJSON_PADDING);
  return run(simdjson::padded_string_view(raw.data(), size, raw.capacity()), meta);
}

}  // namespace etl::transformer

// What the query engine process sends the cataloger, on arbitrary frames: the
// process runs hostile SQL, so its frames are read as untrusted. decode and every
// reader of a header give a value or an error, never a crash or an exception
// (one would end a query worker's thread, and the cataloger with it).
#include <cstdlib>
#include <string>

#include "engine_wire.h"

namespace wire = etl::cataloger::engine_wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::string_view frame(reinterpret_cast<const char*>(data), size);
    auto message = wire::decode(frame);
    if (!message) return 0;
    const auto& h = message->header;
    (void)wire::field(h, "epoch", std::uint64_t{0});
    (void)wire::field(h, "id", std::uint64_t{0});
    (void)wire::field(h, "current", false);
    (void)wire::field(h, "resident_bytes", std::uint64_t{0});
    (void)wire::error_from_json(wire::field(h, "error", nlohmann::json::object()));
    (void)wire::table_from_json(h);
    (void)wire::partition_from_json(h);
    (void)wire::pinned_from_json(h);
    auto result = wire::result_from_message(*message);
    if (result && result->rows.size() + 1 != message->parts.size()) std::abort();  // the parts are rows, then CSV
    (void)wire::encode(*message);  // what was read can be sent on
  } catch (...) {
    std::abort();
  }
  return 0;
}

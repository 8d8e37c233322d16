// The simdjson On-Demand reader of raw objects: walks the document once, in
// document order, reading only the fields the tables need; everything else
// (the ~185 available_markets codes per track and album, images, ...) is
// skipped over the structural index without being materialised.
//
// Validation: the structure (strings, brackets, UTF-8) of the whole document is
// checked by simdjson's first stage; values are checked only where they are
// read, which is the point of On-Demand.
#pragma once

#include <simdjson.h>

#include "etl/result.h"
#include "transform.h"

namespace etl::transformer {

// Reads `json` (a raw object) and appends its rows to `out`. `parser` is
// reused across calls by the caller; the document lives only inside this call.
Status read_raw_object(simdjson::ondemand::parser& parser, simdjson::padded_string_view json,
                       const RawObjectMeta& meta, TransformOutput& out);

}  // namespace etl::transformer

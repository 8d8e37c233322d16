#include "etl/result.h"

namespace etl {

const char* to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::unauthorized: return "unauthorized";
    case Errc::forbidden: return "forbidden";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::too_large: return "too_large";
    case Errc::rate_limited: return "rate_limited";
    case Errc::quota_exceeded: return "quota_exceeded";
    case Errc::bad_data: return "bad_data";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::cancelled: return "cancelled";
    case Errc::internal: return "internal";
  }
  return "internal";
}

}  // namespace etl

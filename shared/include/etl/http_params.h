// Query-parameter parsing shared by the services' routes, so that every handler
// answers a malformed parameter the same way (400 problem+json naming the rule)
// and the OpenAPI documents can state one rule: present means valid.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::http {

// The whole number in `text` (query parameter `name`, as Request::query_param gives
// it), from `min` to `max`; `fallback` when the parameter is absent. Present but
// empty, signed, non-numeric, with trailing characters or out of range ->
// invalid_argument.
Result<std::size_t> count_param(const std::optional<std::string>& text, std::string_view name, std::size_t fallback,
                                std::size_t min, std::size_t max);

}  // namespace etl::http

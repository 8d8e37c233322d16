#include "etl/http_params.h"

#include <charconv>

namespace etl::http {

Result<std::size_t> count_param(const std::optional<std::string>& text, std::string_view name, std::size_t fallback,
                                std::size_t min, std::size_t max) {
  if (!text) return fallback;
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc{} || end != text->data() + text->size() || value < min || value > max)
    return make_error(Errc::invalid_argument, std::string(name) + " must be a whole number from " +
                                                  std::to_string(min) + " to " + std::to_string(max) + ", got '" +
                                                  *text + "'");
  return value;
}

}  // namespace etl::http

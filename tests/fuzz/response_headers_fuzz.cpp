// The outbound client's header reading (response_headers.h) on arbitrary header
// lines: what a store, an API, a proxy or anything at a configured endpoint can
// answer. Never a crash; names come out lowercased and values without line ends;
// a Content-Length is either refused or one number that every value states.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "response_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace etl::http;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ClientResponse response;
  while (!input.empty()) {  // libcurl hands the lines over one at a time, each with its end
    const auto end = input.find('\n');
    const std::string_view line = input.substr(0, end == std::string_view::npos ? input.size() : end + 1);
    add_header_line(response, line);
    input.remove_prefix(line.size());
  }
  for (const auto& [name, value] : response.headers) {
    if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) std::abort();
    if (name.find(':') != std::string::npos) std::abort();
    if (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) std::abort();
  }
  const Framing framing = framing_of(response);
  if (framing.declared && !framing.invalid.empty()) std::abort();
  if (framing.declared && !response.header("transfer-encoding").empty()) std::abort();
  if (framing.declared && *framing.declared != UINT64_MAX) {
    // Every Content-Length item is that number's digits (leading zeros allowed).
    for (const auto& [name, value] : response.headers) {
      if (name != "content-length") continue;
      std::string_view rest = value;
      while (true) {
        const auto comma = rest.find(',');
        std::string item(rest.substr(0, comma));
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (std::strtoull(item.c_str(), nullptr, 10) != *framing.declared) std::abort();
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  return 0;
}

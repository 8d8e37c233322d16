// The outbound client's reading of a response's header lines (http_client.cpp):
// what any server, or anything listening at a configured endpoint, can send.
// libcurl splits the lines; the rest is ours, and fuzzed (tests/fuzz/response_headers_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "etl/http_client.h"

namespace etl::http {

// One header line ("Name: value\r\n") into `response.headers`: the name lowercased,
// the value without surrounding blanks or its line end. A line without a colon
// (a status line, the blank line that ends the headers) adds nothing.
void add_header_line(ClientResponse& response, std::string_view line);

// What a response's Content-Length headers say of its body (RFC 9112 §6.3).
struct Framing {
  std::optional<std::uint64_t> declared;  // none: read to the end (chunked, or until close)
  std::string invalid;                    // not empty: the value that frames nothing
};

// Every Content-Length value (repeated headers, comma lists) must be the same run of
// digits; a number past 2^64 - 1 declares more than any limit. Anything else, which
// libcurl reads leniently ("1e3" as 1, "5, 7" as 5), would hand back a cut body as if
// whole: the RFC has a user agent discard such a response. With Transfer-Encoding the
// chunks frame the body and a length is ignored.
Framing framing_of(const ClientResponse& response);

}  // namespace etl::http

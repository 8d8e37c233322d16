// Where a request's body ends (RFC 9112 section 6), read strictly: a message
// whose length two parties could read differently (two Content-Lengths, one
// with Transfer-Encoding, `-5` as a chunk size) is refused, never guessed,
// since a proxy in front may have guessed otherwise (request smuggling).
// httplib 0.11 takes the first Content-Length, prefers chunked to it, and
// reads chunk sizes with strtoul ("-5" is a huge size it then waits for).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etl::http::framing {

// The elements of comma-separated field values (RFC 9110 5.6.1), trimmed;
// empty ones are kept so that callers can refuse them.
std::vector<std::string_view> list_elements(const std::vector<std::string_view>& values);

struct Refusal {
  int status;          // 400, or 501 for a transfer coding this server does not know
  std::string detail;  // for the problem+json body
};

// The refusal for a request with these Content-Length and Transfer-Encoding
// field values (every field line of each, in order), or nullopt when its
// length is clear: no field, chunked as the only coding, or Content-Length
// values that are all the same number (RFC 9112 6.3 lets "2, 2" stand for 2).
std::optional<Refusal> check(const std::vector<std::string_view>& content_lengths,
                             const std::vector<std::string_view>& transfer_encodings);

enum class ChunkedBody { complete, too_large, malformed };

// Reads a chunked body (RFC 9112 7.1) from `in` into `body`, at most `limit`
// bytes of data: chunk sizes are hex digits only, extensions are skipped,
// trailer fields read and dropped, every line ends in CRLF. Stops at the first
// size over the limit (too_large) or anything else (malformed, also when the
// stream ends or times out); the connection cannot be reused after either.
ChunkedBody read_chunked(httplib::Stream& in, std::size_t limit, std::string& body);

}  // namespace etl::http::framing

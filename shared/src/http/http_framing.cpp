#include "http_framing.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "etl/ascii.h"

namespace etl::http::framing {

std::vector<std::string_view> list_elements(const std::vector<std::string_view>& values) {
  std::vector<std::string_view> out;
  for (std::string_view v : values) {
    while (true) {
      std::size_t comma = v.find(',');
      out.push_back(trim_blanks(v.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

namespace {

// 1*DIGIT as a number, saturated (any such number is over every body limit);
// nullopt for anything else.
std::optional<std::uint64_t> decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    n = n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10 ? std::numeric_limits<std::uint64_t>::max()
                                                                     : n * 10 + digit;
  }
  return n;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One line without its CRLF; false when the stream ends, the line is longer
// than `max`, or it has a CR or LF of its own (a bare LF ends no line here).
bool read_line(httplib::Stream& in, std::string& line, std::size_t max) {
  line.clear();
  char c;
  while (in.read(&c, 1) == 1) {
    if (c == '\n') {
      if (line.empty() || line.back() != '\r') return false;
      line.pop_back();
      return line.find('\r') == std::string::npos;
    }
    if (line.size() > max) return false;  // max and the CR
    line.push_back(c);
  }
  return false;
}

}  // namespace

std::optional<Refusal> check(const std::vector<std::string_view>& content_lengths,
                             const std::vector<std::string_view>& transfer_encodings) {
  if (!content_lengths.empty() && !transfer_encodings.empty())
    return Refusal{400, "a request must not have both Content-Length and Transfer-Encoding (RFC 9112 6.3)"};
  if (!transfer_encodings.empty()) {
    const auto codings = list_elements(transfer_encodings);
    std::size_t chunked = 0;
    for (std::string_view coding : codings) {
      if (coding.empty()) continue;
      if (ascii_lower(coding) != "chunked")
        return Refusal{501, "Transfer-Encoding " + std::string(coding) + " is not implemented by this server (only chunked is)"};
      ++chunked;
    }
    if (chunked != 1 || ascii_lower(codings.back()) != "chunked")
      return Refusal{400, "Transfer-Encoding must name chunked once, as the last coding (RFC 9112 6.3)"};
    return std::nullopt;
  }
  std::optional<std::uint64_t> length;
  for (std::string_view value : list_elements(content_lengths)) {
    auto n = decimal(value);
    if (!n) return Refusal{400, "Content-Length '" + std::string(value) + "' is not a number of bytes"};
    if (length && *length != *n) return Refusal{400, "the request has differing Content-Length values (RFC 9112 6.3)"};
    length = n;
  }
  return std::nullopt;
}

ChunkedBody read_chunked(httplib::Stream& in, std::size_t limit, std::string& body) {
  constexpr std::size_t kMaxLine = 4096;         // a size line with its extensions
  constexpr std::size_t kMaxTrailers = 8 * 1024;  // all trailer lines together
  std::string line;
  while (true) {
    if (!read_line(in, line, kMaxLine)) return ChunkedBody::malformed;
    std::size_t digits = 0;
    std::uint64_t size = 0;
    for (int d; digits < line.size() && (d = hex_digit(line[digits])) >= 0; ++digits) {
      size = size > (std::numeric_limits<std::uint64_t>::max() >> 4) ? std::numeric_limits<std::uint64_t>::max()
                                                                      : (size << 4) | static_cast<std::uint64_t>(d);
    }
    std::string_view rest = trim_blanks(std::string_view(line).substr(digits));  // BWS before an extension
    if (digits == 0 || (!rest.empty() && rest.front() != ';')) return ChunkedBody::malformed;
    if (size == 0) break;
    if (size > limit - std::min<std::uint64_t>(limit, body.size())) return ChunkedBody::too_large;
    std::size_t left = static_cast<std::size_t>(size);
    char buf[4096];
    while (left > 0) {
      ssize_t n = in.read(buf, std::min(left, sizeof buf));
      if (n <= 0) return ChunkedBody::malformed;
      body.append(buf, static_cast<std::size_t>(n));
      left -= static_cast<std::size_t>(n);
    }
    if (!read_line(in, line, 0)) return ChunkedBody::malformed;  // the CRLF after the data
  }
  std::size_t trailers = 0;
  do {
    if (!read_line(in, line, kMaxLine)) return ChunkedBody::malformed;
    trailers += line.size() + 2;
  } while (!line.empty() && trailers <= kMaxTrailers);
  return line.empty() ? ChunkedBody::complete : ChunkedBody::malformed;
}

}  // namespace etl::http::framing

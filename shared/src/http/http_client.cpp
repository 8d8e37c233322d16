#include "etl/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <mutex>
#include <optional>

#include "response_headers.h"

namespace etl::http {

namespace {
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool blank(char c) { return c == ' ' || c == '\t'; }
}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  std::string lowered(name);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), lower);  // as add_header_line stores names
  for (const auto& [k, v] : headers)
    if (k == lowered) return v;
  return {};
}

void add_header_line(ClientResponse& response, std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), lower);
  auto value = line.substr(colon + 1);
  while (!value.empty() && blank(value.front())) value.remove_prefix(1);
  while (!value.empty() && (blank(value.back()) || value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  response.headers.emplace_back(std::move(name), std::string(value));
}

Framing framing_of(const ClientResponse& response) {
  Framing f;
  if (!response.header("transfer-encoding").empty()) return f;  // the chunks frame it; a length is ignored
  std::optional<std::string_view> digits;
  for (const auto& [name, value] : response.headers) {
    if (name != "content-length") continue;
    std::string_view rest = value;
    while (true) {
      const auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && blank(item.front())) item.remove_prefix(1);
      while (!item.empty() && blank(item.back())) item.remove_suffix(1);
      const bool number = !item.empty() && std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!number || (digits && *digits != item)) {
        f.invalid = value;
        return f;
      }
      digits = item;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (!digits) return f;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits->data(), digits->data() + digits->size(), n);
  f.declared = ec == std::errc() && end == digits->data() + digits->size() ? n : std::numeric_limits<std::uint64_t>::max();
  return f;
}

namespace {

std::once_flag g_curl_init;

// Where the body goes, and what the headers said of it.
struct Sink {
  ClientResponse* response;
  std::uint64_t limit;
  bool head = false;                      // a HEAD's Content-Length describes no body
  std::optional<std::uint64_t> declared;  // Content-Length of the final response
  bool headers_done = false;              // the final response's headers are in
  bool overflow = false;
  std::string bad_length;  // an invalid Content-Length: the response was discarded
};

constexpr std::uint64_t kMaxReserve = 64ull << 20;  // a declared length reserves at most this up front
// Spare capacity past a declared body: a parser that reads past the end (simdjson
// reads up to 64 bytes beyond, transform_raw_in_place) uses the body where it is
// instead of copying it into a larger buffer.
constexpr std::uint64_t kBodySlack = 64;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string& body = sink->response->body;
  size_t bytes = size * n;
  if (body.size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  // One allocation for the whole body instead of a doubling per 16 KiB chunk
  // (a compressed body's declared length is not the decoded one: left to grow).
  if (body.empty() && sink->declared && sink->response->header("content-encoding").empty())
    body.reserve(static_cast<std::size_t>(std::min(*sink->declared, kMaxReserve) + kBodySlack));
  body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  ClientResponse* response = sink->response;
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100-continue or redirect)
    response->headers.clear();
    sink->declared.reset();
    sink->headers_done = false;
  }
  if (line == "\r\n" || line == "\n") {  // the end of a response's headers
    sink->headers_done = true;  // an interim (1xx) response's are undone by the next status line
    if (sink->head) return size * n;  // a HEAD's Content-Length describes no body
    Framing framing = framing_of(*response);
    if (!framing.invalid.empty()) {
      sink->bad_length = std::move(framing.invalid);
      return 0;  // discarded: its body has no trustworthy end
    }
    sink->declared = framing.declared;
    if (sink->declared && *sink->declared > sink->limit) {
      sink->overflow = true;
      return 0;  // refused before a byte of the body is read
    }
    return size * n;
  }
  add_header_line(*response, line);
  return size * n;
}

// What the progress callback watches: a stop request, and with a time per KiB
// the deadlines: `timeout` until the headers are in, then the timeout plus the
// declared body's share (an undeclared body has the outer CURLOPT_TIMEOUT).
struct Watch {
  const std::stop_token* stop;
  const Sink* sink;
  std::chrono::steady_clock::time_point deadline;  // without the body's share
  std::chrono::milliseconds per_kib;
  bool timed_out = false;
};

// Non-zero aborts the call (CURLE_ABORTED_BY_CALLBACK).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* watch = static_cast<Watch*>(user);
  if (watch->stop->stop_requested()) return 1;
  if (watch->per_kib.count() == 0) return 0;
  const Sink& sink = *watch->sink;
  auto deadline = watch->deadline;
  if (sink.headers_done && sink.declared)
    deadline += watch->per_kib * static_cast<std::int64_t>(std::min<std::uint64_t>(*sink.declared >> 10, 1ull << 40));
  else if (sink.headers_done)
    return 0;
  if (std::chrono::steady_clock::now() <= deadline) return 0;
  watch->timed_out = true;
  return 1;
}

}  // namespace

// Easy handles, each with its own connections, reused call after call. Every
// handle goes back to the pool: there are never more than the calls ever made at
// once (what the caller's threads allow, a setting), and all of them are needed
// again at the next burst. Keeping only some (it kept 16) closed the others'
// connections whenever a burst ended, so the next burst paid a TCP and TLS
// handshake per call past the 16th.
struct Client::Pool {
  std::mutex mutex;
  std::vector<CURL*> idle;

  CURL* acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        curl_easy_reset(h);  // keeps live connections and the session caches
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* h) {
    std::lock_guard lock(mutex);
    idle.push_back(h);
  }
  ~Pool() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
};

Client::Client() : pool_(std::make_unique<Pool>()) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Client::~Client() = default;

Result<ClientResponse> Client::send(const ClientRequest& request) {
  CURL* h = pool_->acquire();
  if (h == nullptr) return make_error(Errc::internal, "curl_easy_init failed");
  ClientResponse response;
  Sink sink{&response, request.max_response_bytes, request.method == "HEAD", std::nullopt, false, false, {}};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // An empty Expect avoids the 1 s wait for 100-continue on larger PUTs.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  // With a time per KiB, the whole call may take what the largest allowed body
  // would; a declared length brings the deadline in (on_progress).
  const auto body_time = request.timeout_per_kib.count() > 0
                             ? std::min<std::uint64_t>(request.max_response_bytes >> 10, 1ull << 40) *
                                   static_cast<std::uint64_t>(request.timeout_per_kib.count())
                             : 0;
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::min<std::uint64_t>(static_cast<std::uint64_t>(request.timeout.count()) + body_time,
                                                             std::numeric_limits<long>::max())));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate/br as the server offers
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "DELETE" || !request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }

  // libcurl calls this at least once a second while a call is in progress.
  Watch watch{&request.stop, &sink, std::chrono::steady_clock::now() + request.timeout, request.timeout_per_kib};
  if (request.stop.stop_possible() || request.timeout_per_kib.count() > 0) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &watch);
  }

  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  pool_->release(h);

  if (!sink.bad_length.empty())
    return make_error(Errc::unavailable, "response from " + request.url + " has an invalid Content-Length (\"" +
                                             sink.bad_length.substr(0, 64) + "\"): its body cannot be framed");
  if (sink.overflow && sink.declared)
    return make_error(Errc::too_large, "response from " + request.url + " declares " + std::to_string(*sink.declared) +
                                           " bytes, over the limit of " + std::to_string(request.max_response_bytes));
  if (sink.overflow)
    return make_error(Errc::too_large, "response from " + request.url + " exceeds " +
                                           std::to_string(request.max_response_bytes) + " bytes");
  if (rc == CURLE_ABORTED_BY_CALLBACK && !watch.timed_out)
    return make_error(Errc::cancelled, request.method + " " + request.url + " stopped on request");
  if (rc == CURLE_OPERATION_TIMEDOUT || watch.timed_out)
    return make_error(Errc::timeout, request.method + " " + request.url + " timed out");
  if (rc != CURLE_OK)
    return make_error(Errc::unavailable, request.method + " " + request.url + ": " + curl_easy_strerror(rc));
  response.status = static_cast<int>(status);
  return response;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_decode(std::string_view s, bool plus_is_space) {
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += url_encode(k) + "=" + url_encode(v);
  }
  return out;
}

}  // namespace etl::http

#include "s3_protocol.h"

#include "aws_endpoint.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "etl/object_store.h"
#include "etl/sigv4.h"

namespace etl::s3 {
namespace {

using namespace std::chrono;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Legacy (us-east-1) names allow upper case and '_'; today's rules are 3-63 of a-z 0-9 . -
bool is_valid_bucket_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_';
  });
}

// Usable as one DNS label under a wildcard TLS certificate: no dots.
bool is_virtual_host_bucket(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  if (!is_lower_alnum(name.front()) || !is_lower_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

std::optional<int> parse_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<system_clock::time_point> make_time(int y, int mo, int d, int h, int mi, int s) {
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

bool one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

Result<Location> parse_url(std::string_view url) {
  if (!url.starts_with("s3://")) return make_error(Errc::invalid_argument, "not an s3:// URL: " + std::string(url));
  auto rest = url.substr(5);
  auto slash = rest.find('/');
  Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) loc.prefix = std::string(rest.substr(slash + 1));
  while (!loc.prefix.empty() && loc.prefix.back() == '/') loc.prefix.pop_back();
  if (!is_valid_bucket_name(loc.bucket))
    return make_error(Errc::invalid_argument, "s3:// URL '" + std::string(url) + "' has no valid bucket name (3-63 of a-z 0-9 . -)");
  if (!loc.prefix.empty()) {
    if (auto st = validate_key(loc.prefix); !st.ok())
      return make_error(Errc::invalid_argument, "s3:// URL '" + std::string(url) + "' has a bad prefix: " + st.error().message);
  }
  return loc;
}

Result<Endpoint> make_endpoint(const AwsConfig& aws, const std::string& bucket) {
  Endpoint ep;
  ep.bucket = bucket;
  const bool s3_specific = !aws.endpoint_url_s3.empty();
  const std::string& custom = s3_specific ? aws.endpoint_url_s3 : aws.endpoint_url;
  const std::string variable = s3_specific ? "AWS_ENDPOINT_URL_S3" : "AWS_ENDPOINT_URL";
  if (!custom.empty()) {
    auto parsed = aws::parse_endpoint_url(custom, variable);
    if (!parsed) return std::move(parsed).error();
    ep.scheme = std::move(parsed->scheme);
    ep.host = std::move(parsed->host);
    ep.base_path = std::move(parsed->base_path);
    ep.path_style = true;
    ep.custom = true;
    return ep;
  }
  const std::string& region = aws.region;
  if (region.empty() || !std::all_of(region.begin(), region.end(), [](char c) { return is_lower_alnum(c) || c == '-'; }))
    return make_error(Errc::invalid_argument, "AWS_REGION '" + region + "' is not a region name like eu-west-1");
  const std::string domain = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  ep.scheme = "https";
  ep.path_style = !is_virtual_host_bucket(bucket);
  ep.host = (ep.path_style ? "" : bucket + ".") + "s3." + region + "." + domain;
  return ep;
}

std::string Endpoint::path(std::string_view full_key) const {
  std::string out = path_style ? base_path + "/" + uri_encode(bucket, true) : std::string();
  if (!full_key.empty() || !path_style) out += "/" + encode_key(full_key);
  return out;
}

std::string Endpoint::url(std::string_view wire_path, const QueryParams& query) const {
  std::string out = scheme + "://" + host + std::string(wire_path);
  if (!query.empty()) out += "?" + encode_query(query);
  return out;
}

std::string Endpoint::display() const { return scheme + "://" + host + base_path; }

std::string encode_key(std::string_view key) { return uri_encode(key, false); }

std::string encode_query(const QueryParams& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += '&';
    out += uri_encode(name, true) + "=" + uri_encode(value, true);
  }
  return out;
}

bool is_retryable(int status, std::string_view code) {
  if (one_of(code, {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling",
                    "ThrottlingException", "RequestThrottled", "RequestLimitExceeded", "TooManyRequestsException",
                    "OperationAborted"}))
    return true;
  return status == 429 || (status >= 500 && status != 501);
}

Errc errc_for(int status, std::string_view code) {
  if (one_of(code, {"NoSuchKey", "NoSuchVersion", "NoSuchUpload"})) return Errc::not_found;
  if (one_of(code, {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                    "TokenRefreshRequired", "AccountProblem", "AllAccessDisabled", "InvalidSecurity",
                    "MissingSecurityHeader", "RequestTimeTooSkewed", "InvalidClientTokenId"}))
    return Errc::unauthorized;
  if (one_of(code, {"NoSuchBucket", "PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed",
                    "IllegalLocationConstraintException"}))
    return Errc::unavailable;
  if (code == "EntityTooLarge") return Errc::too_large;
  if (one_of(code, {"KeyTooLongError", "InvalidBucketName"})) return Errc::invalid_argument;
  if (one_of(code, {"PreconditionFailed", "ConditionalRequestConflict"})) return Errc::conflict;
  if (is_retryable(status, code)) return Errc::unavailable;
  switch (status) {
    case 404: return Errc::not_found;
    case 401:
    case 403: return Errc::unauthorized;
    case 301:
    case 307: return Errc::unavailable;
    case 409:
    case 412: return Errc::conflict;
    case 413: return Errc::too_large;
    default: return Errc::internal;
  }
}

milliseconds backoff_delay(int attempt, milliseconds base, milliseconds cap, double unit) {
  const int doublings = std::clamp(attempt - 1, 0, 30);
  const auto grown = base.count() * (std::int64_t{1} << doublings);
  const auto ceiling = std::min<std::int64_t>(std::max<std::int64_t>(grown, 0), cap.count());
  const double share = std::clamp(unit, 0.0, 1.0) * static_cast<double>(ceiling - ceiling / 2);
  return milliseconds(std::min<std::int64_t>(ceiling, ceiling / 2 + static_cast<std::int64_t>(share)));
}

std::optional<system_clock::time_point> parse_http_date(std::string_view text) {
  auto comma = text.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  auto s = text.substr(comma + 2);  // "06 Nov 1994 08:49:37 GMT"
  if (s.size() != 24 || s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s[14] != ':' || s[17] != ':' || s[20] != ' ')
    return std::nullopt;
  if (s.substr(21) != "GMT" && s.substr(21) != "UTC") return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto month_it = std::find(kMonths.begin(), kMonths.end(), s.substr(3, 3));
  auto d = parse_int(s.substr(0, 2)), y = parse_int(s.substr(7, 4)), h = parse_int(s.substr(12, 2)),
       mi = parse_int(s.substr(15, 2)), sec = parse_int(s.substr(18, 2));
  if (month_it == kMonths.end() || !d || !y || !h || !mi || !sec) return std::nullopt;
  return make_time(*y, static_cast<int>(month_it - kMonths.begin()) + 1, *d, *h, *mi, *sec);
}

std::optional<system_clock::time_point> parse_iso8601(std::string_view s) {
  // "2009-10-12T17:50:30" then an optional fraction, then "Z" or "+00:00"
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto y = parse_int(s.substr(0, 4)), mo = parse_int(s.substr(5, 2)), d = parse_int(s.substr(8, 2)),
       h = parse_int(s.substr(11, 2)), mi = parse_int(s.substr(14, 2)), sec = parse_int(s.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  auto rest = s.substr(19);
  milliseconds fraction{0};
  if (!rest.empty() && rest.front() == '.') {
    std::size_t n = 1;
    int ms = 0, digits = 0;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
      if (digits < 3) ms = ms * 10 + (rest[n] - '0'), ++digits;
      ++n;
    }
    if (n == 1) return std::nullopt;
    while (digits < 3) ms *= 10, ++digits;
    fraction = milliseconds(ms);
    rest.remove_prefix(n);
  }
  if (rest != "Z" && rest != "z" && rest != "+00:00") return std::nullopt;
  auto t = make_time(*y, *mo, *d, *h, *mi, *sec);
  if (!t) return std::nullopt;
  return *t + fraction;
}

std::string strip_etag_quotes(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

std::uint64_t part_size_for(std::uint64_t total, std::uint64_t wanted) {
  constexpr std::uint64_t kMaxParts = 10'000;
  const std::uint64_t smallest = total / kMaxParts + (total % kMaxParts ? 1 : 0);
  return std::max({wanted, smallest, std::uint64_t{1}});
}

std::string content_type_for(std::string_view key) {
  auto name = key.substr(key.rfind('/') == std::string_view::npos ? 0 : key.rfind('/') + 1);
  auto dot = name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (ext == "json") return "application/json";
  if (ext == "jsonl" || ext == "ndjson") return "application/x-ndjson";
  if (ext == "csv") return "text/csv";
  if (ext == "parquet") return "application/vnd.apache.parquet";
  return "application/octet-stream";
}

}  // namespace etl::s3

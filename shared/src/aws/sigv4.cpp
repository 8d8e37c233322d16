#include "etl/sigv4.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "etl/ascii.h"

namespace etl {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }


// SigV4's "Trimall": outer blanks dropped, inner runs of blanks made one space.
std::string trim_all(std::string_view value) {
  std::string out;
  bool in_blank = false;
  for (char c : trim_blanks(value)) {
    if (is_blank(c)) {
      in_blank = true;
      continue;
    }
    if (in_blank) out += ' ';
    in_blank = false;
    out += c;
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;   // "name:value\n" per header
  std::string signed_names;
};

CanonicalHeaders canonical_headers(HeaderList headers) {
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < headers.size();) {
    const std::string& name = headers[i].first;
    std::string value = headers[i].second;
    // A repeated header is signed once with its values joined in order.
    for (++i; i < headers.size() && headers[i].first == name; ++i) value += "," + headers[i].second;
    out.block += name + ":" + value + "\n";
    out.signed_names += (out.signed_names.empty() ? "" : ";") + name;
  }
  return out;
}

std::string canonical_uri(std::string_view path, std::string_view service) {
  if (path.empty()) return "/";
  if (service == "s3") return std::string(path);
  return uri_encode(normalize_uri_path(path), false);
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0f];
  }
  return out;
}

namespace {
// OpenSSL 3 looks an algorithm up again on every call that names it (EVP_sha256()
// in EVP_Digest, EVP_Q_mac); every S3 request signs with several HMACs and hashes,
// so the algorithms are fetched once and reused. Null when the provider lacks one
// (MD5 under FIPS): the call using it then fails as before.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
const EVP_MD* md5_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

std::string digest(std::string_view data, const EVP_MD* md, const char* name) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out, &length, md, nullptr) != 1)
    throw std::runtime_error(std::string("OpenSSL ") + name + " failed");
  return std::string(reinterpret_cast<const char*>(out), length);
}

// One HMAC-SHA256 context per thread, its digest set once; each call gives it the key.
class HmacContext {
 public:
  HmacContext() {
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (hmac == nullptr || (ctx_ = EVP_MAC_CTX_new(hmac)) == nullptr) return;
    char sha256[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256, 0), OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx_, params) != 1) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~HmacContext() { EVP_MAC_CTX_free(ctx_); }
  HmacContext(const HmacContext&) = delete;
  HmacContext& operator=(const HmacContext&) = delete;

  std::string mac(std::string_view key, std::string_view data) {
    // A null key would mean "the previous call's key" to EVP_MAC_init: an empty one
    // still points somewhere.
    static const unsigned char kNoKey[1] = {0};
    const auto* k = key.empty() ? kNoKey : reinterpret_cast<const unsigned char*>(key.data());
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (ctx_ == nullptr || EVP_MAC_init(ctx_, k, key.size(), nullptr) != 1 ||
        EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(ctx_, out, &length, sizeof out) != 1)
      throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(out), length);
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

// The signing key changes with the credentials, the day, the region and the service:
// each thread keeps the last one, which every request of a day with the same
// credentials reuses (four HMACs less per request).
const std::string& cached_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                      std::string_view service) {
  struct Entry {
    std::string secret, date, region, service, key;
  };
  thread_local Entry last;
  if (last.key.empty() || last.secret != secret || last.date != date || last.region != region ||
      last.service != service) {
    std::string key = sigv4_signing_key(secret, date, region, service);
    last = {std::string(secret), std::string(date), std::string(region), std::string(service), std::move(key)};
  }
  return last.key;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
  // Every request without a body (GET, HEAD, DELETE) signs this one.
  static const std::string kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  if (data.empty()) return kEmpty;
  return hex_encode(digest(data, sha256_md(), "SHA-256"));
}
std::string md5_hex(std::string_view data) { return hex_encode(digest(data, md5_md(), "MD5")); }

std::string md5_base64(std::string_view data) {
  const std::string md5 = digest(data, md5_md(), "MD5");
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, reinterpret_cast<const unsigned char*>(md5.data()), static_cast<int>(md5.size()));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local HmacContext context;
  return context.mac(key, data);
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0x0f];
    }
  }
  return out;
}

std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                              std::string_view service) {
  std::string key = hmac_sha256("AWS4" + std::string(secret_access_key), date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, "aws4_request");
}

std::string normalize_uri_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const auto segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  std::string out;
  for (auto segment : segments) out += "/" + std::string(segment);
  if (out.empty()) return "/";
  if (path.back() == '/') out += '/';
  return out;
}

std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{floor<seconds>(now - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()));
  return buf;
}

Sigv4Steps sigv4_steps(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                       std::string_view service, std::chrono::system_clock::time_point now,
                       bool s3_content_sha_header) {
  Sigv4Steps steps;
  steps.amz_date = amz_date(now);
  const std::string date = steps.amz_date.substr(0, 8);
  steps.credential_scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";

  HeaderList headers;
  headers.emplace_back("host", trim_all(request.host));
  for (const auto& [raw_name, value] : request.headers) {
    const std::string name = ascii_lower(trim_blanks(raw_name));
    const bool generated = name == "host" || name == "x-amz-date" || name == "x-amz-security-token" ||
                           name == "authorization" || (s3_content_sha_header && name == "x-amz-content-sha256");
    if (name.empty() || generated) continue;
    headers.emplace_back(name, trim_all(value));
  }
  headers.emplace_back("x-amz-date", steps.amz_date);
  if (s3_content_sha_header) headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty()) headers.emplace_back("x-amz-security-token", credentials.session_token);
  const CanonicalHeaders canonical = canonical_headers(std::move(headers));
  steps.signed_headers = canonical.signed_names;

  steps.canonical_request = request.method + "\n" + canonical_uri(request.path, service) + "\n" +
                            canonical_query_string(request.query) + "\n" + canonical.block + "\n" +
                            canonical.signed_names + "\n" + request.payload_sha256;
  steps.string_to_sign = std::string(kAlgorithm) + "\n" + steps.amz_date + "\n" + steps.credential_scope + "\n" +
                         sha256_hex(steps.canonical_request);
  const std::string& key = cached_signing_key(credentials.secret_access_key, date, region, service);
  steps.signing_key_hex = hex_encode(key);
  steps.signature = hex_encode(hmac_sha256(key, steps.string_to_sign));

  steps.headers_to_add.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           steps.credential_scope + ", SignedHeaders=" + steps.signed_headers +
                           ", Signature=" + steps.signature);
  steps.headers_to_add.emplace_back("X-Amz-Date", steps.amz_date);
  if (s3_content_sha_header) steps.headers_to_add.emplace_back("X-Amz-Content-Sha256", request.payload_sha256);
  if (!credentials.session_token.empty())
    steps.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  return steps;
}

HeaderList sigv4_sign(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                      std::string_view service, std::chrono::system_clock::time_point now,
                      bool s3_content_sha_header) {
  return sigv4_steps(request, credentials, region, service, now, s3_content_sha_header).headers_to_add;
}

}  // namespace etl

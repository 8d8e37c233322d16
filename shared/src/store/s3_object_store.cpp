// Over 400 lines on purpose: every S3 operation the ObjectStore interface needs
// (get with If-Match, put single and multipart, list paging, head, copy+delete
// moves, delete) with the one retry loop they share; the pure protocol parts are
// already apart in s3_protocol.* and s3_xml.*.
#include "s3_object_store.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "etl/log.h"
#include "s3_xml.h"

namespace etl {
namespace {

using namespace std::chrono;

constexpr std::uint64_t kMaxCopyBytes = 5ull << 30;     // CopyObject's limit; beyond it needs UploadPartCopy
constexpr std::uint64_t kXmlReplyLimit = 64ull << 20;   // a 1,000-key listing page is a few hundred KB
constexpr std::size_t kDeleteBatch = 1000;              // DeleteObjects' limit of keys per request
constexpr std::uint64_t kErrorBodyRoom = 64ull << 10;   // room for an <Error> body on small limited reads
constexpr int kMaxListPages = 1'000'000;

double unit_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// S3's <Message> is text from the server: bounded and single-line in our messages.
std::string clean_message(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (text.size() > 300) out += "...";
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

system_clock::time_point date_or_now(const http::ClientResponse& response) {
  auto date = s3::parse_http_date(response.header("date"));
  return date ? *date : system_clock::now();
}

std::string credential_hint(std::string_view code) {
  if (code == "InvalidAccessKeyId") return " (check AWS_ACCESS_KEY_ID)";
  if (code == "SignatureDoesNotMatch") return " (check AWS_SECRET_ACCESS_KEY)";
  if (code == "ExpiredToken" || code == "InvalidToken") return " (check AWS_SESSION_TOKEN, or the web identity role's session)";
  if (code == "RequestTimeTooSkewed") return " (this machine's clock is off)";
  return {};
}

}  // namespace

struct S3ObjectStore::Call {
  const char* op = "";
  std::string method = "GET";
  std::string key;  // the full key in the bucket; "" addresses the bucket itself
  s3::QueryParams query;
  HeaderList headers;  // sent and signed
  std::string_view body;
  std::uint64_t max_response_bytes = kXmlReplyLimit;
  bool error_in_200 = false;  // CopyObject and CompleteMultipartUpload may fail with a 200
  int max_attempts = 0;       // 0: options_.max_attempts
  milliseconds timeout{0};    // 0: options_.request_timeout, plus 1 s per MiB of body
  milliseconds timeout_per_kib{0};  // and this much per KiB of the body the answer declares
};

struct S3ObjectStore::Reply {
  http::ClientResponse response;
  std::optional<s3::ErrorDoc> error;
  int attempts = 1;
  bool ok() const { return response.status >= 200 && response.status < 300 && !error; }
  std::string code() const { return error ? error->code : std::string(); }
};

S3ObjectStore::S3ObjectStore(std::string url, s3::Location location, s3::Endpoint endpoint, const AwsConfig& aws,
                             S3Options options, std::shared_ptr<aws::CredentialsProvider> credentials)
    : url_(std::move(url)),
      location_(std::move(location)),
      endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      region_(aws.region.empty() ? "us-east-1" : aws.region),
      options_(options) {}

std::string S3ObjectStore::event_key(const std::string& key) const {
  return location_.prefix.empty() ? key : location_.prefix + "/" + key;
}

std::optional<std::string> S3ObjectStore::relative_key(std::string_view bucket_name, std::string_view full_key) const {
  if (bucket_name != location_.bucket) return std::nullopt;
  const std::string root = location_.prefix.empty() ? std::string() : location_.prefix + "/";
  if (!full_key.starts_with(root) || full_key.size() == root.size()) return std::nullopt;
  return std::string(full_key.substr(root.size()));
}

Result<S3ObjectStore::Reply> S3ObjectStore::execute(const Call& call) {
  if (!credentials_)
    return make_error(Errc::unauthorized,
                      "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN and "
                      "AWS_WEB_IDENTITY_TOKEN_FILE (web identity, as IRSA sets them; instance profiles are not "
                      "supported)");
  const std::string path = endpoint_.path(call.key);
  http::ClientRequest request;
  request.method = call.method;
  request.url = endpoint_.url(path, call.query);
  request.body = std::string(call.body);
  request.connect_timeout = options_.connect_timeout;
  request.timeout = call.timeout.count() > 0 ? call.timeout
                                             : options_.request_timeout + milliseconds(call.body.size() >> 10);
  request.timeout_per_kib = call.timeout_per_kib;
  request.max_response_bytes = call.max_response_bytes;
  SigningRequest signing{call.method, endpoint_.host, path, call.query, call.headers, {}};
  const int attempts = std::max(1, call.max_attempts > 0 ? call.max_attempts : options_.max_attempts);

  for (int attempt = 1;; ++attempt) {
    // Asked per attempt: temporary credentials may be renewed between two tries.
    auto credentials = credentials_->credentials();
    if (!credentials.ok()) return std::move(credentials).error();
    try {
      if (signing.payload_sha256.empty()) signing.payload_sha256 = sha256_hex(call.body);
      request.headers = call.headers;
      request.headers.emplace_back("Host", endpoint_.host);
      for (auto& header : sigv4_sign(signing, *credentials, region_, "s3", system_clock::now(), true))
        request.headers.push_back(std::move(header));
    } catch (const std::exception& e) {
      return make_error(Errc::internal, std::string("signing an S3 request failed: ") + e.what());
    }
    auto sent = client_.send(request);
    std::string trouble;
    if (sent.ok()) {
      Reply reply{std::move(sent).value(), std::nullopt, attempt};
      const int status = reply.response.status;
      // A successful GetObject body is the object, never parsed; error bodies are XML.
      if (status >= 300 || (call.error_in_200 && !reply.response.body.empty()))
        reply.error = s3::parse_error(reply.response.body);
      if (reply.ok() || !s3::is_retryable(status, reply.code()) || attempt >= attempts) return reply;
      reply.attempts = 1;  // the log line counts attempts itself
      trouble = failure(call, reply).message;
    } else {
      // Refused, reset, DNS: worth another try. Timeouts and over-limit bodies are final.
      if (sent.error().code != Errc::unavailable) return std::move(sent).error();
      if (attempt >= attempts) {
        Error error = std::move(sent).error();
        if (attempts > 1) error.message += " (after " + std::to_string(attempts) + " attempts)";
        return error;
      }
      trouble = sent.error().message;
    }
    const auto delay = s3::backoff_delay(attempt, options_.retry_base, options_.retry_cap, unit_random());
    log::warn("S3 request failed, retrying",
              {{"op", call.op}, {"attempt", attempt}, {"of", attempts}, {"delay_ms", delay.count()}, {"error", trouble}});
    std::this_thread::sleep_for(delay);
  }
}

Error S3ObjectStore::failure(const Call& call, const Reply& reply) const {
  const int status = reply.response.status;
  const std::string code = reply.code();
  std::string message;
  if (code == "NoSuchBucket" || (call.key.empty() && status == 404 && code.empty())) {
    message = "bucket " + location_.bucket + " does not exist at " + endpoint_.display();
  } else {
    message = "S3 " + std::string(call.op) + " s3://" + location_.bucket + (call.key.empty() ? "" : "/" + call.key) +
              " at " + endpoint_.display() + ": HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code);
    if (reply.error && !reply.error->message.empty()) message += ": " + clean_message(reply.error->message);
  }
  message += credential_hint(code);
  std::string bucket_region = reply.response.header("x-amz-bucket-region");
  if (bucket_region.empty() && reply.error) bucket_region = reply.error->region;
  if ((status == 301 || code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed") &&
      !bucket_region.empty() && bucket_region != region_)
    message += " (the bucket is in " + clean_message(bucket_region) + ", AWS_REGION is " + region_ + ")";
  if (status == 403 && code.empty() && call.method == "HEAD" && !call.key.empty())
    message += " (S3 also answers 403 for a missing key when s3:ListBucket is not granted)";
  if (reply.attempts > 1) message += " (after " + std::to_string(reply.attempts) + " attempts)";
  return make_error(s3::errc_for(status, code), std::move(message));
}

Result<ObjectInfo> S3ObjectStore::put(const std::string& key, std::string_view data) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  if (data.size() > options_.multipart_threshold) return put_multipart(key, data, false);
  return put_single(key, data, false);
}

// If-None-Match: * on PutObject and CompleteMultipartUpload (AWS S3 since 2024, MinIO).
Result<ObjectInfo> S3ObjectStore::put_if_absent(const std::string& key, std::string_view data) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  if (!conditional_puts_.load()) return put(key, data);
  if (data.size() > options_.multipart_threshold) return put_multipart(key, data, true);
  return put_single(key, data, true);
}

Result<ObjectInfo> S3ObjectStore::put_single(const std::string& key, std::string_view data, bool exclusive) {
  Call call;
  call.op = "PutObject";
  call.method = "PUT";
  call.key = event_key(key);
  call.headers = {{"Content-Type", s3::content_type_for(key)}};
  if (exclusive) call.headers.emplace_back("If-None-Match", "*");
  call.body = data;
  auto reply = execute(call);
  if (!reply.ok()) return std::move(reply).error();
  if (exclusive && (reply->response.status == 501 || reply->code() == "NotImplemented")) {
    // A store without conditional writes (older S3-compatible servers): a plain put,
    // as before put_if_absent existed; what it protected against is logged once.
    if (conditional_puts_.exchange(false))
      log::warn("the object store does not support conditional writes (If-None-Match); puts that should only "
                "create are plain puts, so two transformers owning one partition at once may write a batch twice",
                {{"endpoint", endpoint_.display()}, {"bucket", location_.bucket}});
    return put_single(key, data, false);
  }
  if (!reply->ok()) return failure(call, *reply);
  return ObjectInfo{key, data.size(), s3::strip_etag_quotes(reply->response.header("etag")),
                    date_or_now(reply->response)};
}

void S3ObjectStore::abort_multipart(const std::string& full_key, const std::string& upload_id) {
  Call call;
  call.op = "AbortMultipartUpload";
  call.method = "DELETE";
  call.key = full_key;
  call.query = {{"uploadId", upload_id}};
  auto reply = execute(call);
  if (!reply.ok() || (!reply->ok() && reply->response.status != 404))
    log::warn("could not abort an S3 multipart upload; a bucket lifecycle rule will have to clean it up",
              {{"bucket", location_.bucket}, {"key", full_key},
               {"error", reply.ok() ? failure(call, *reply).message : reply.error().message}});
}

// Parts go up one after the other; nothing is visible under the key until the
// CompleteMultipartUpload, so a failure leaves the previous object untouched.
Result<ObjectInfo> S3ObjectStore::put_multipart(const std::string& key, std::string_view data, bool exclusive) {
  const std::string full_key = event_key(key);
  Call start;
  start.op = "CreateMultipartUpload";
  start.method = "POST";
  start.key = full_key;
  start.query = {{"uploads", ""}};
  start.headers = {{"Content-Type", s3::content_type_for(key)}};
  auto started = execute(start);
  if (!started.ok()) return std::move(started).error();
  if (!started->ok()) return failure(start, *started);
  auto upload_id = s3::parse_initiate_multipart_upload(started->response.body);
  if (!upload_id.ok()) return std::move(upload_id).error();

  const std::uint64_t part_size = s3::part_size_for(data.size(), options_.part_size);
  std::vector<std::string> etags;
  for (std::uint64_t offset = 0; offset < data.size(); offset += part_size) {
    Call part;
    part.op = "UploadPart";
    part.method = "PUT";
    part.key = full_key;
    part.query = {{"partNumber", std::to_string(etags.size() + 1)}, {"uploadId", *upload_id}};
    part.body = data.substr(offset, part_size);
    auto reply = execute(part);
    Error error;
    if (!reply.ok()) error = std::move(reply).error();
    else if (!reply->ok()) error = failure(part, *reply);
    else if (reply->response.header("etag").empty())
      error = make_error(Errc::bad_data, "S3 took part " + std::to_string(etags.size() + 1) + " of s3://" +
                                             location_.bucket + "/" + full_key + " without an ETag");
    else {
      etags.push_back(reply->response.header("etag"));
      continue;
    }
    abort_multipart(full_key, *upload_id);
    return error;
  }

  const std::string manifest = s3::complete_multipart_upload_body(etags);
  Call complete;
  complete.op = "CompleteMultipartUpload";
  complete.method = "POST";
  complete.key = full_key;
  complete.query = {{"uploadId", *upload_id}};
  complete.headers = {{"Content-Type", "application/xml"}};
  if (exclusive) complete.headers.emplace_back("If-None-Match", "*");
  complete.body = manifest;
  complete.error_in_200 = true;
  complete.timeout = options_.request_timeout + milliseconds(data.size() >> 12);  // S3 assembles large objects slowly
  auto done = execute(complete);
  if (done.ok() && done->ok()) {
    auto result = s3::parse_complete_multipart_upload(done->response.body);
    if (!result.ok()) return std::move(result).error();
    return ObjectInfo{key, data.size(), s3::strip_etag_quotes(result->etag), date_or_now(done->response)};
  }
  // A retried Complete whose first try went through finds no upload: the object is in place.
  if (done.ok() && done->code() == "NoSuchUpload" && done->attempts > 1) {
    auto info = head(key);
    if (info.ok() && info->size == data.size() && info->etag.ends_with("-" + std::to_string(etags.size())))
      return info;
  }
  Error error = done.ok() ? failure(complete, *done) : std::move(done).error();
  abort_multipart(full_key, *upload_id);
  return error;
}

Result<std::string> S3ObjectStore::get(const std::string& key, std::uint64_t max_bytes) {
  return get_object(key, max_bytes, "");
}

Result<std::string> S3ObjectStore::get_if_match(const std::string& key, const std::string& etag,
                                                std::uint64_t max_bytes) {
  if (etag.empty()) return make_error(Errc::invalid_argument, "get_if_match needs an ETag");
  return get_object(key, max_bytes, etag);
}

Result<std::string> S3ObjectStore::get_object(const std::string& key, std::uint64_t max_bytes,
                                              const std::string& if_match) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  const bool limited = max_bytes != std::numeric_limits<std::uint64_t>::max();
  auto too_large = [&](const std::string& detail) {
    return make_error(Errc::too_large, "object " + key + " is over the limit of " + std::to_string(max_bytes) +
                                           " bytes (" + detail + ")");
  };
  Call call;
  call.op = "GetObject";
  call.key = event_key(key);
  if (!if_match.empty()) call.headers = {{"If-Match", "\"" + if_match + "\""}};
  // Without a limit the size is unknown: allow ten times the usual time.
  call.timeout = options_.request_timeout * 10;
  call.max_response_bytes = std::numeric_limits<std::uint64_t>::max();
  if (limited) {
    // One request: an object over the limit is refused at the answer's headers
    // (its Content-Length), before a byte of it is read, and the time allowed
    // grows by 1 s per MiB of what it declares. (A HEAD first cost a round trip
    // and a request per object.)
    call.timeout = options_.request_timeout;
    call.timeout_per_kib = milliseconds(1);
    call.max_response_bytes = std::max(max_bytes, kErrorBodyRoom);
  }
  auto reply = execute(call);
  if (!reply.ok()) {
    if (reply.error().code == Errc::too_large) return too_large(reply.error().message);
    return std::move(reply).error();
  }
  if (!reply->ok()) return failure(call, *reply);
  if (reply->response.body.size() > max_bytes) return too_large(std::to_string(reply->response.body.size()) + " bytes");
  return std::move(reply->response.body);
}

Result<ObjectInfo> S3ObjectStore::head(const std::string& key) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  Call call;
  call.op = "HeadObject";
  call.method = "HEAD";
  call.key = event_key(key);
  auto reply = execute(call);
  if (!reply.ok()) return std::move(reply).error();
  if (!reply->ok()) return failure(call, *reply);
  auto size = parse_u64(reply->response.header("content-length"));
  if (!size) return make_error(Errc::bad_data, "S3 HeadObject of " + key + " answered without a Content-Length");
  auto modified = s3::parse_http_date(reply->response.header("last-modified"));
  return ObjectInfo{key, *size, s3::strip_etag_quotes(reply->response.header("etag")),
                    modified.value_or(system_clock::time_point{})};
}

Result<std::vector<ObjectInfo>> S3ObjectStore::list(const std::string& prefix) {
  const std::string root = location_.prefix.empty() ? std::string() : location_.prefix + "/";
  const std::string full_prefix = root + prefix;
  std::vector<ObjectInfo> out;
  std::string token;
  for (int page = 0; page < kMaxListPages; ++page) {
    Call call;
    call.op = "ListObjectsV2";
    // encoding-type=url: keys with characters XML 1.0 cannot carry still list.
    call.query = {{"list-type", "2"}, {"prefix", full_prefix}, {"encoding-type", "url"}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    auto reply = execute(call);
    if (!reply.ok()) return std::move(reply).error();
    if (!reply->ok()) return failure(call, *reply);
    auto parsed = s3::parse_list_objects_v2(reply->response.body);
    if (!parsed.ok()) return std::move(parsed).error();
    for (auto& entry : parsed->entries) {
      if (!entry.key.starts_with(full_prefix)) continue;
      std::string relative = entry.key.substr(root.size());
      // Folder markers ("x/") and names no relative key can be are not objects of this store.
      if (!validate_key(relative).ok()) continue;
      out.push_back(ObjectInfo{std::move(relative), entry.size, s3::strip_etag_quotes(entry.etag),
                               s3::parse_iso8601(entry.last_modified).value_or(system_clock::time_point{})});
    }
    if (!parsed->truncated) {
      std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
      return out;
    }
    if (parsed->next_continuation_token.empty() || parsed->next_continuation_token == token)
      return make_error(Errc::bad_data, "S3 listing of s3://" + location_.bucket + "/" + full_prefix +
                                            " is truncated but gives no new continuation token");
    token = std::move(parsed->next_continuation_token);
  }
  return make_error(Errc::bad_data, "S3 listing of s3://" + location_.bucket + "/" + full_prefix + " never ends");
}

// The copy half of a move: true when `to` now holds `from` and `from` is to be deleted;
// false when there is nothing to delete (a move onto itself, or one that already happened).
Result<bool> S3ObjectStore::copy_for_move(const std::string& from, const std::string& to) {
  ETL_RETURN_IF_ERROR(validate_key(from));
  ETL_RETURN_IF_ERROR(validate_key(to));
  if (from == to) {  // S3 refuses a copy onto itself, and the delete would lose the object
    auto info = head(from);
    if (!info.ok()) return std::move(info).error();
    return false;
  }
  Call copy;
  copy.op = "CopyObject";
  copy.method = "PUT";
  copy.key = event_key(to);
  copy.headers = {{"x-amz-copy-source", "/" + location_.bucket + "/" + s3::encode_key(event_key(from))}};
  copy.error_in_200 = true;
  copy.timeout = options_.request_timeout * 10;  // a server-side copy of a large object takes a while
  auto copied = execute(copy);
  if (!copied.ok()) return std::move(copied).error();
  if (copied->ok()) return true;
  const int status = copied->response.status;
  const std::string code = copied->code();
  if (code == "NoSuchKey" || (status == 404 && code.empty())) {
    // `from` is gone: moved before (a retry after a crash) when `to` is there.
    auto there = head(to);
    if (there.ok()) return false;
    if (there.error().code != Errc::not_found) return std::move(there).error();
    return make_error(Errc::not_found, "no object " + from + " in s3://" + location_.bucket +
                                           (location_.prefix.empty() ? "" : "/" + location_.prefix));
  }
  if (status == 400) {
    auto source = head(from);
    if (source.ok() && source->size > kMaxCopyBytes)
      return make_error(Errc::too_large, "object " + from + " is " + std::to_string(source->size) +
                                             " bytes: moving objects over 5 GiB needs a multipart copy, which "
                                             "this store does not do");
  }
  return failure(copy, *copied);
}

Status S3ObjectStore::move(const std::string& from, const std::string& to) {
  auto copied = copy_for_move(from, to);
  if (!copied.ok()) return std::move(copied).error();
  return *copied ? remove(from) : Status{};
}

std::vector<Status> S3ObjectStore::move_all(const std::vector<std::pair<std::string, std::string>>& moves,
                                            const ForEach& for_each) {
  std::vector<Status> moved(moves.size());
  std::vector<char> copied(moves.size(), 0);  // and its source is to be deleted
  for_each(moves.size(), [&](std::size_t i) {
    auto c = copy_for_move(moves[i].first, moves[i].second);
    if (!c.ok()) moved[i] = std::move(c).error();
    else copied[i] = *c;
  });
  std::vector<std::string> sources;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < moves.size(); ++i)
    if (copied[i]) sources.push_back(moves[i].first), at.push_back(i);
  auto deleted = delete_objects(sources);
  for (std::size_t j = 0; j < at.size(); ++j) moved[at[j]] = std::move(deleted[j]);
  return moved;
}

Status S3ObjectStore::remove(const std::string& key) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  Call call;
  call.op = "DeleteObject";
  call.method = "DELETE";
  call.key = event_key(key);
  auto reply = execute(call);
  if (!reply.ok()) return std::move(reply).error();
  if (reply->ok() || (reply->response.status == 404 && reply->code() != "NoSuchBucket")) return {};
  return failure(call, *reply);
}

Status S3ObjectStore::remove_all(const std::vector<std::string>& keys) {
  for (auto& status : delete_objects(keys))
    if (!status.ok()) return status;
  return {};
}

// DeleteObjects, quiet (only failures are answered), up to 1,000 keys a request; each
// key's outcome at its index. A key that is already gone counts as deleted, as with
// DeleteObject. A request that fails fails each of its keys.
std::vector<Status> S3ObjectStore::delete_objects(const std::vector<std::string>& keys) {
  std::vector<Status> out(keys.size());
  for (std::size_t at = 0; at < keys.size(); at += kDeleteBatch) {
    const std::size_t end = std::min(keys.size(), at + kDeleteBatch);
    std::vector<std::string> full_keys;
    std::map<std::string, std::size_t> index;  // full key -> its position in `keys`
    for (std::size_t i = at; i < end; ++i) {
      if (Status valid = validate_key(keys[i]); !valid.ok()) {
        out[i] = std::move(valid);
        continue;
      }
      index.emplace(event_key(keys[i]), i);
      full_keys.push_back(event_key(keys[i]));
    }
    if (full_keys.empty()) continue;
    const std::string body = s3::delete_objects_body(full_keys);
    Call call;
    call.op = "DeleteObjects";
    call.method = "POST";
    call.query = {{"delete", ""}};
    call.headers = {{"Content-MD5", md5_base64(body)}, {"Content-Type", "application/xml"}};
    call.body = body;
    call.error_in_200 = true;  // an <Error> document in a 200 (a failure mid-answer) is retried
    auto reply = execute(call);
    std::optional<Error> whole;
    if (!reply.ok()) whole = std::move(reply).error();
    else if (!reply->ok()) whole = failure(call, *reply);
    auto result = whole ? Result<s3::DeleteResult>(*whole) : s3::parse_delete_result(reply->response.body);
    if (!whole && !result.ok())
      whole = make_error(Errc::bad_data, "S3 DeleteObjects in s3://" + location_.bucket + " at " + endpoint_.display() +
                                             ": " + result.error().message);
    if (whole) {
      for (const auto& [key, i] : index) out[i] = *whole;
      continue;
    }
    for (const auto& f : result->failed) {
      auto it = index.find(f.key);
      if (it == index.end() || f.code == "NoSuchKey") continue;  // not ours; gone already is deleted
      out[it->second] = make_error(s3::errc_for(500, f.code),
                                   "S3 DeleteObjects s3://" + location_.bucket + "/" + f.key + " at " +
                                       endpoint_.display() + ": " + f.code +
                                       (f.message.empty() ? "" : ": " + clean_message(f.message)));
    }
  }
  return out;
}

Status S3ObjectStore::ping() {
  Call call;
  call.op = "ListObjectsV2";
  call.query = {{"list-type", "2"}, {"max-keys", "1"},
                {"prefix", location_.prefix.empty() ? std::string() : location_.prefix + "/"}};
  call.max_attempts = 2;  // a readiness probe answers quickly rather than waits out a slow server
  call.timeout = std::min<milliseconds>(options_.request_timeout, seconds(5));
  auto reply = execute(call);
  if (!reply.ok()) return std::move(reply).error();
  if (!reply->ok()) return failure(call, *reply);
  return {};
}

Result<std::unique_ptr<ObjectStore>> open_s3_object_store(const std::string& url, const AwsConfig& aws,
                                                          const S3Options& options) {
  auto location = s3::parse_url(url);
  if (!location.ok()) return std::move(location).error();
  auto endpoint = s3::make_endpoint(aws, location->bucket);
  if (!endpoint.ok()) return std::move(endpoint).error();
  auto credentials = aws::make_credentials_provider(aws);
  if (!credentials.ok()) return std::move(credentials).error();
  if (endpoint->custom && !*credentials)
    return make_error(Errc::invalid_argument, "the S3 endpoint " + endpoint->display() + " for " + url +
                                                  " needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_ROLE_ARN "
                                                  "and AWS_WEB_IDENTITY_TOKEN_FILE)");
  if (options.part_size == 0 || options.max_attempts < 1)
    return make_error(Errc::invalid_argument, "S3 options need a part size above 0 and at least one attempt");
  return std::unique_ptr<ObjectStore>(std::make_unique<S3ObjectStore>(
      url, std::move(location).value(), std::move(endpoint).value(), aws, options, std::move(credentials).value()));
}

}  // namespace etl

// A fake S3 for the S3 backend's tests: one path-style bucket in memory on a real
// HTTP server (httplib), speaking enough of the REST API for the store (Put, Get,
// Head, ListObjectsV2, Copy, Delete, multipart). It records every request, checks
// each SigV4 signature by recomputing it from what arrived on the wire, and injects
// failures chosen by a predicate.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "etl/config.h"
#include "etl/http_client.h"
#include "etl/sigv4.h"
#include "s3_xml.h"

namespace etl::testing {

struct RecordedRequest {
  std::string method;
  std::string path;  // raw, as on the wire ("/bucket/a%20b")
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::multimap<std::string, std::string> headers;           // names lower-cased, values URL-decoded (httplib)
  std::string body;
  std::string signature_problem;  // "" when the signature checked out

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_query(const std::string& name) const {
    for (const auto& [k, v] : query)
      if (k == name) return true;
    return false;
  }
  std::string query_value(const std::string& name) const {
    for (const auto& [k, v] : query)
      if (k == name) return v;
    return {};
  }
};

struct Fault {
  int status = 503;
  std::string code = "SlowDown";
  bool in_200 = false;                      // answer 200 with an <Error> body, as CopyObject may
  std::chrono::milliseconds delay{0};       // wait this long before answering
  bool after_applying = false;              // carry the request out, then answer with the fault
};

class FakeS3 {
 public:
  using FaultRule = std::function<std::optional<Fault>(const RecordedRequest&)>;

  explicit FakeS3(std::string bucket = "fake-bucket", AwsCredentials credentials = {"AKIDFAKE", "fake/secret+key", ""},
                  std::string region = "us-east-1")
      : bucket_(std::move(bucket)), credentials_(std::move(credentials)), region_(std::move(region)) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    server_.Get(".*", handler);
    server_.Put(".*", handler);
    server_.Post(".*", handler);
    server_.Delete(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("the fake S3 could not bind a port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeS3() {
    server_.stop();
    thread_.join();
  }
  FakeS3(const FakeS3&) = delete;
  FakeS3& operator=(const FakeS3&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What a store needs to talk to this fake.
  AwsConfig aws() const {
    AwsConfig aws;
    aws.region = region_;
    aws.access_key_id = credentials_.access_key_id;
    aws.secret_access_key = credentials_.secret_access_key;
    aws.session_token = credentials_.session_token;
    aws.endpoint_url_s3 = endpoint();
    return aws;
  }
  const std::string& bucket() const { return bucket_; }

  void fail_when(FaultRule rule) {
    std::lock_guard lock(mutex_);
    rule_ = std::move(rule);
  }
  void set_list_page_size(std::size_t n) {
    std::lock_guard lock(mutex_);
    page_size_ = n;
  }
  // Stores an object directly (full key), bypassing the API.
  void put_raw(const std::string& key, const std::string& data) {
    std::lock_guard lock(mutex_);
    objects_[key] = data;
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::map<std::string, std::string> objects() const {
    std::lock_guard lock(mutex_);
    return objects_;
  }
  std::size_t open_uploads() const {
    std::lock_guard lock(mutex_);
    return uploads_.size();
  }
  void clear_requests() {
    std::lock_guard lock(mutex_);
    requests_.clear();
  }
  // DeleteObjects answers AccessDenied for this full key (and leaves it).
  void refuse_delete(const std::string& key) {
    std::lock_guard lock(mutex_);
    undeletable_.insert(key);
  }

 private:
  static std::string error_xml(const std::string& code, const std::string& message) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
           s3::escape_xml(message) + "</Message><RequestId>fake-1</RequestId></Error>";
  }
  static void reply_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    res.status = status;
    res.set_content(error_xml(code, message), "application/xml");
  }
  static std::string etag_of(const std::string& data) { return "\"" + sha256_hex(data).substr(0, 32) + "\""; }

  // Recomputes the signature from the request as it arrived; "" when it matches.
  std::string check_signature(const httplib::Request& req, const RecordedRequest& rec) const {
    const std::string auth = rec.header("authorization");
    const std::string prefix = "AWS4-HMAC-SHA256 Credential=";
    if (auth.rfind(prefix, 0) != 0) return "no SigV4 Authorization header";
    auto cred_end = auth.find(", SignedHeaders=");
    auto sig_pos = auth.find(", Signature=");
    if (cred_end == std::string::npos || sig_pos == std::string::npos) return "malformed Authorization header";
    const std::string credential = auth.substr(prefix.size(), cred_end - prefix.size());
    const std::string signed_names = auth.substr(cred_end + 16, sig_pos - cred_end - 16);
    const std::string signature = auth.substr(sig_pos + 12);
    if (credential.rfind(credentials_.access_key_id + "/", 0) != 0) return "InvalidAccessKeyId";
    const std::string amz = rec.header("x-amz-date");
    if (amz.size() != 16) return "bad x-amz-date";
    using namespace std::chrono;
    const year_month_day ymd{year{std::stoi(amz.substr(0, 4))}, month{unsigned(std::stoi(amz.substr(4, 2)))},
                             day{unsigned(std::stoi(amz.substr(6, 2)))}};
    const auto when = sys_days{ymd} + hours{std::stoi(amz.substr(9, 2))} + minutes{std::stoi(amz.substr(11, 2))} +
                      seconds{std::stoi(amz.substr(13, 2))};
    SigningRequest s;
    s.method = rec.method;
    s.host = rec.header("host");
    s.path = rec.path;
    s.query = rec.query;
    s.payload_sha256 = rec.header("x-amz-content-sha256");
    std::size_t start = 0;
    while (start <= signed_names.size()) {
      auto end = signed_names.find(';', start);
      if (end == std::string::npos) end = signed_names.size();
      const std::string name = signed_names.substr(start, end - start);
      for (std::size_t i = 0; i < req.get_header_value_count(name); ++i) {
        // httplib 0.11 hands header values over URL-decoded; the copy source went out
        // encoded the way every S3 client sends it, so encode it back to check.
        const std::string value = req.get_header_value(name, i);
        s.headers.emplace_back(name, name == "x-amz-copy-source" ? uri_encode(value, false) : value);
      }
      start = end + 1;
    }
    const auto steps = sigv4_steps(s, credentials_, region_, "s3", when, true);
    if (steps.signed_headers != signed_names) return "SignedHeaders differ: " + signed_names;
    if (steps.signature != signature) return "SignatureDoesNotMatch";
    if (!credentials_.session_token.empty() && rec.header("x-amz-security-token") != credentials_.session_token)
      return "InvalidToken";
    return {};
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest rec;
    rec.method = req.method;
    auto q = req.target.find('?');
    rec.path = req.target.substr(0, q);
    if (q != std::string::npos) {
      std::string_view rest = std::string_view(req.target).substr(q + 1);
      while (!rest.empty()) {
        auto amp = rest.find('&');
        auto pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        rec.query.emplace_back(http::url_decode(pair.substr(0, eq), false),
                               eq == std::string_view::npos ? "" : http::url_decode(pair.substr(eq + 1), false));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
      }
    }
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rec.headers.emplace(name, v);
    }
    rec.body = req.body;
    rec.signature_problem = check_signature(req, rec);

    std::optional<Fault> fault;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(rec);
      if (rule_) fault = rule_(rec);
    }
    if (fault) {
      std::this_thread::sleep_for(fault->delay);
      if (fault->after_applying) serve(req, rec, res);  // the work is done, only the answer is lost
      reply_error(res, fault->in_200 ? 200 : fault->status, fault->code, "injected by the test");
      return;
    }
    serve(req, rec, res);
  }

  void serve(const httplib::Request& req, const RecordedRequest& rec, httplib::Response& res) {
    if (!rec.signature_problem.empty()) {
      const bool bad_key = rec.signature_problem == "InvalidAccessKeyId";
      return reply_error(res, 403, bad_key ? "InvalidAccessKeyId" : "SignatureDoesNotMatch",
                         bad_key ? "The AWS Access Key Id you provided does not exist in our records."
                                 : "The request signature we calculated does not match: " + rec.signature_problem);
    }
    if (rec.header("x-amz-content-sha256") != sha256_hex(rec.body))
      return reply_error(res, 400, "XAmzContentSHA256Mismatch", "payload hash differs");

    const std::string root = "/" + bucket_;
    if (rec.path != root && rec.path.rfind(root + "/", 0) != 0)
      return reply_error(res, 404, "NoSuchBucket", "The specified bucket does not exist");
    const std::string key = http::url_decode(rec.path.size() > root.size() + 1 ? rec.path.substr(root.size() + 1) : "", false);
    std::lock_guard lock(mutex_);
    if (key.empty()) {
      if (req.method == "GET" && rec.query_value("list-type") == "2") return list(rec, res);
      if (req.method == "POST" && rec.has_query("delete")) return delete_objects(rec, res);
      return reply_error(res, 400, "InvalidRequest", "unsupported bucket request");
    }
    if (req.method == "GET" || req.method == "HEAD") {
      auto it = objects_.find(key);
      if (it == objects_.end()) return reply_error(res, 404, "NoSuchKey", "The specified key does not exist.");
      res.set_header("ETag", etags_[key].empty() ? etag_of(it->second) : etags_[key]);
      res.set_header("Last-Modified", "Tue, 03 Mar 2026 10:00:00 GMT");
      res.set_content(it->second, "application/octet-stream");
      return;
    }
    if (req.method == "DELETE") {
      if (rec.has_query("uploadId")) uploads_.erase(rec.query_value("uploadId"));
      else objects_.erase(key), etags_.erase(key);
      res.status = 204;
      return;
    }
    if (req.method == "PUT" && !rec.header("x-amz-copy-source").empty()) {
      const std::string source = rec.header("x-amz-copy-source");  // already decoded by httplib
      auto it = objects_.find(source.substr(root.size() + 1));
      if (source.rfind(root + "/", 0) != 0 || it == objects_.end())
        return reply_error(res, 404, "NoSuchKey", "The specified key does not exist.");
      objects_[key] = it->second;
      etags_[key] = etag_of(it->second);
      res.set_content("<CopyObjectResult><LastModified>2026-03-03T10:00:00.000Z</LastModified><ETag>" +
                          s3::escape_xml(etags_[key]) + "</ETag></CopyObjectResult>",
                      "application/xml");
      return;
    }
    if (req.method == "PUT" && rec.has_query("uploadId")) {
      auto up = uploads_.find(rec.query_value("uploadId"));
      if (up == uploads_.end()) return reply_error(res, 404, "NoSuchUpload", "no such upload");
      const int n = std::stoi(rec.query_value("partNumber"));
      up->second.parts[n] = rec.body;
      res.set_header("ETag", etag_of(rec.body));
      return;
    }
    if (req.method == "PUT") {
      objects_[key] = rec.body;
      etags_[key] = etag_of(rec.body);
      res.set_header("ETag", etags_[key]);
      return;
    }
    if (req.method == "POST" && rec.has_query("uploads")) {
      const std::string id = "upload-" + std::to_string(++next_upload_);
      uploads_[id] = Upload{key, {}};
      res.set_content("<InitiateMultipartUploadResult><Bucket>" + bucket_ + "</Bucket><Key>" + s3::escape_xml(key) +
                          "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>",
                      "application/xml");
      return;
    }
    if (req.method == "POST" && rec.has_query("uploadId")) {
      auto up = uploads_.find(rec.query_value("uploadId"));
      if (up == uploads_.end()) return reply_error(res, 404, "NoSuchUpload", "no such upload");
      auto manifest = s3::parse_xml(rec.body);
      if (!manifest.ok() || manifest->name != "CompleteMultipartUpload")
        return reply_error(res, 400, "MalformedXML", "bad manifest");
      std::string data;
      int expected = 1;
      for (const auto& part : manifest->children) {
        auto stored = up->second.parts.find(std::stoi(part.child_text("PartNumber")));
        if (std::stoi(part.child_text("PartNumber")) != expected++ || stored == up->second.parts.end() ||
            part.child_text("ETag") != etag_of(stored->second))
          return reply_error(res, 400, "InvalidPart", "part missing or ETag differs");
        data += stored->second;
      }
      if (expected - 1 != static_cast<int>(up->second.parts.size()))
        return reply_error(res, 400, "InvalidPart", "parts left out");
      const std::string etag = "\"" + sha256_hex(data).substr(0, 32) + "-" + std::to_string(expected - 1) + "\"";
      objects_[key] = data;
      etags_[key] = etag;
      uploads_.erase(up);
      res.set_content("<CompleteMultipartUploadResult><Key>" + s3::escape_xml(key) + "</Key><ETag>" +
                          s3::escape_xml(etag) + "</ETag></CompleteMultipartUploadResult>",
                      "application/xml");
      return;
    }
    reply_error(res, 400, "InvalidRequest", "unsupported request");
  }

  // DeleteObjects: Content-MD5 required (as AWS does), quiet or not.
  void delete_objects(const RecordedRequest& rec, httplib::Response& res) {
    if (rec.header("content-md5") != md5_base64(rec.body))
      return reply_error(res, 400, "InvalidDigest", "Content-MD5 missing or wrong");
    auto doc = s3::parse_xml(rec.body);
    if (!doc.ok() || doc->name != "Delete") return reply_error(res, 400, "MalformedXML", "bad Delete document");
    const bool quiet = doc->child_text("Quiet") == "true";
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult>";
    int n = 0;
    for (const auto& object : doc->children) {
      if (object.name != "Object") continue;
      if (++n > 1000) return reply_error(res, 400, "MalformedXML", "over 1000 keys");
      const std::string key = object.child_text("Key");
      if (undeletable_.count(key)) {
        out += "<Error><Key>" + s3::escape_xml(key) + "</Key><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>";
        continue;
      }
      objects_.erase(key), etags_.erase(key);
      if (!quiet) out += "<Deleted><Key>" + s3::escape_xml(key) + "</Key></Deleted>";
    }
    res.set_content(out + "</DeleteResult>", "application/xml");
  }

  // ListObjectsV2 with encoding-type=url the way AWS does it: spaces as '+'.
  void list(const RecordedRequest& rec, httplib::Response& res) {
    const std::string prefix = rec.query_value("prefix");
    const bool encode = rec.query_value("encoding-type") == "url";
    std::size_t max_keys = page_size_;
    if (rec.has_query("max-keys")) max_keys = std::min<std::size_t>(max_keys, std::stoul(rec.query_value("max-keys")));
    const std::string after = rec.query_value("continuation-token");
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    std::size_t n = 0;
    std::string last;
    bool truncated = false;
    for (auto it = after.empty() ? objects_.begin() : objects_.upper_bound(after); it != objects_.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) continue;
      if (n == max_keys) {
        truncated = true;
        break;
      }
      std::string key = it->first;
      if (encode) {
        key.clear();
        for (char c : it->first) key += c == ' ' ? std::string("+") : uri_encode(std::string(1, c), false);
      }
      xml += "<Contents><Key>" + s3::escape_xml(key) + "</Key><LastModified>2026-03-03T10:00:00.000Z</LastModified><ETag>&quot;" +
             sha256_hex(it->second).substr(0, 32) + "&quot;</ETag><Size>" + std::to_string(it->second.size()) +
             "</Size><StorageClass>STANDARD</StorageClass></Contents>";
      last = it->first;
      ++n;
    }
    xml += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
    if (truncated) xml += "<NextContinuationToken>" + s3::escape_xml(last) + "</NextContinuationToken>";
    if (encode) xml += "<EncodingType>url</EncodingType>";
    xml += "<KeyCount>" + std::to_string(n) + "</KeyCount></ListBucketResult>";
    res.set_content(xml, "application/xml");
  }

  struct Upload {
    std::string key;
    std::map<int, std::string> parts;
  };

  std::string bucket_;
  AwsCredentials credentials_;
  std::string region_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  FaultRule rule_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, std::string> objects_;
  std::map<std::string, std::string> etags_;
  std::map<std::string, Upload> uploads_;
  std::set<std::string> undeletable_;
  int next_upload_ = 0;
  std::size_t page_size_ = 1000;
};

}  // namespace etl::testing

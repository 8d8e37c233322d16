// The s3:// backend: AWS S3 or an S3-compatible server (MinIO, moto) over its REST
// API, signed with SigV4, on the shared libcurl client (pooled connections). One
// instance is safe to use from many threads.
//
// Credentials come from AwsConfig through aws::make_credentials_provider: static
// keys, else a web identity (IRSA) exchanged with STS and refreshed before expiry;
// every request asks the provider, so a long-running store outlives any one set.
// Instance profiles and SSO are out of scope: without either, a custom endpoint is
// refused at open time and an AWS endpoint answers every call with unauthorized.
#pragma once

#include <atomic>

#include <chrono>
#include <cstdint>

#include "etl/aws_credentials.h"
#include "etl/http_client.h"
#include "etl/object_store.h"
#include "etl/sigv4.h"
#include "s3_protocol.h"

namespace etl {

struct S3Options {
  std::uint64_t multipart_threshold = 16ull << 20;  // put() bodies larger than this go up in parts
  std::uint64_t part_size = 8ull << 20;             // multipart part size (S3 wants >= 5 MiB but for the last)
  int max_attempts = 5;                             // per request, on 5xx / throttling / network errors
  std::chrono::milliseconds retry_base{100};        // first backoff; doubled per attempt, jittered
  std::chrono::milliseconds retry_cap{5000};        // longest single backoff
  std::chrono::milliseconds connect_timeout{5000};  // TCP + TLS connect
  std::chrono::milliseconds request_timeout{30000};  // per request; bodies add 1 s per MiB
};

class S3ObjectStore final : public ObjectStore {
 public:
  // `credentials` null: none configured (every call answers unauthorized).
  S3ObjectStore(std::string url, s3::Location location, s3::Endpoint endpoint, const AwsConfig& aws,
                S3Options options, std::shared_ptr<aws::CredentialsProvider> credentials);

  Result<ObjectInfo> put(const std::string& key, std::string_view data) override;
  Result<ObjectInfo> put_if_absent(const std::string& key, std::string_view data) override;
  Result<std::string> get(const std::string& key, std::uint64_t max_bytes) override;
  Result<std::string> get_if_match(const std::string& key, const std::string& etag, std::uint64_t max_bytes) override;
  Result<ObjectInfo> head(const std::string& key) override;
  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override;
  Status move(const std::string& from, const std::string& to) override;
  Status remove(const std::string& key) override;
  std::vector<Status> move_all(const std::vector<std::pair<std::string, std::string>>& moves,
                               const ForEach& for_each) override;
  Status remove_all(const std::vector<std::string>& keys) override;
  Status ping() override;
  std::string url() const override { return url_; }
  std::string bucket() const override { return location_.bucket; }
  std::string event_key(const std::string& key) const override;
  std::optional<std::string> relative_key(std::string_view bucket, std::string_view full_key) const override;

  const s3::Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Call;
  struct Reply;
  Result<Reply> execute(const Call& call);
  Error failure(const Call& call, const Reply& reply) const;
  Result<bool> copy_for_move(const std::string& from, const std::string& to);
  std::vector<Status> delete_objects(const std::vector<std::string>& keys);
  Result<std::string> get_object(const std::string& key, std::uint64_t max_bytes, const std::string& if_match);
  Result<ObjectInfo> put_single(const std::string& key, std::string_view data, bool exclusive);
  Result<ObjectInfo> put_multipart(const std::string& key, std::string_view data, bool exclusive);
  void abort_multipart(const std::string& full_key, const std::string& upload_id);

  std::string url_;
  s3::Location location_;
  s3::Endpoint endpoint_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;  // null: none; what it hands out is never logged
  std::string region_;
  S3Options options_;
  http::Client client_;
  std::atomic<bool> conditional_puts_{true};  // false once the store answered If-None-Match with 501
};

// Opens "s3://bucket[/prefix]" with the endpoint and credentials of `aws`.
// invalid_argument for a bad URL or endpoint (S3's or STS's), or a custom endpoint
// without keys or a web identity.
Result<std::unique_ptr<ObjectStore>> open_s3_object_store(const std::string& url, const AwsConfig& aws,
                                                          const S3Options& options = {});

}  // namespace etl

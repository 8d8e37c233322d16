#include "credential_vendor.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "etl/dates.h"
#include "etl/s3_url.h"

namespace etl::cataloger::iceberg {

using nlohmann::json;

std::string read_policy(const std::string& bucket, const std::string& table_prefix) {
  const json policy = {
      {"Version", "2012-10-17"},
      {"Statement",
       json::array({{{"Effect", "Allow"},
                     {"Action", json::array({"s3:GetObject"})},
                     {"Resource", json::array({"arn:aws:s3:::" + bucket + "/" + table_prefix + "*"})}},
                    {{"Effect", "Allow"},
                     {"Action", json::array({"s3:ListBucket"})},
                     {"Resource", json::array({"arn:aws:s3:::" + bucket})},
                     {"Condition", {{"StringLike", {{"s3:prefix", json::array({table_prefix + "*"})}}}}}}})}};
  return policy.dump();
}

json client_config(const aws::ExpiringCredentials& credentials, const std::string& region, const std::string& endpoint) {
  const auto expires_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(credentials.expiration.time_since_epoch()).count();
  json out = {{"s3.access-key-id", credentials.credentials.access_key_id},
              {"s3.secret-access-key", credentials.credentials.secret_access_key},
              {"s3.session-token", credentials.credentials.session_token},
              {"s3.session-token-expires-at-ms", std::to_string(expires_ms)},
              {"s3.region", region},
              {"client.region", region}};
  if (!endpoint.empty()) {
    out["s3.endpoint"] = endpoint;
    out["s3.path-style-access"] = "true";          // Iceberg Java, DuckDB
    out["s3.force-virtual-addressing"] = "false";  // PyIceberg
  }
  return out;
}

Result<std::unique_ptr<CredentialVendor>> CredentialVendor::open(const Config& config, Exchange exchange) {
  auto location = s3::parse_url(config.transformed_url);
  if (!location)
    return make_error(Errc::invalid_argument,
                      "vended credentials need an s3:// ETL_TRANSFORMED_URL: " + location.error().message);
  std::unique_ptr<CredentialVendor> vendor(new CredentialVendor());
  vendor->bucket_ = location->bucket;
  vendor->prefix_ = location->prefix.empty() ? "" : location->prefix + "/";
  vendor->region_ = config.aws.region.empty() ? "us-east-1" : config.aws.region;
  vendor->endpoint_ = !config.aws.endpoint_url_s3.empty() ? config.aws.endpoint_url_s3 : config.aws.endpoint_url;
  vendor->base_.role_arn = config.iceberg_vended_role_arn;
  vendor->base_.duration = config.iceberg_vended_ttl;
  vendor->base_.region = vendor->region_;
  // MinIO serves STS on its S3 endpoint; on AWS it is STS's own (AWS_ENDPOINT_URL_STS, else regional).
  vendor->base_.sts_endpoint = config.aws.endpoint_url_sts.empty() && !config.aws.endpoint_url_s3.empty()
                                   ? config.aws.endpoint_url_s3
                                   : aws::sts_endpoint_url(config.aws);
  if (exchange) {
    vendor->exchange_ = std::move(exchange);
  } else {
    auto signer = aws::make_credentials_provider(config.aws);
    if (!signer) return std::move(signer).error();
    if (!*signer)
      return make_error(Errc::invalid_argument, "vended credentials (ETL_ICEBERG_VENDED_CREDENTIALS=sts) need the "
                                                "cataloger's own AWS credentials to call STS with");
    vendor->signer_ = std::move(signer).value();
    vendor->exchange_ = [signer = vendor->signer_](const aws::AssumeRoleOptions& options) {
      return aws::assume_role(*signer, options);
    };
  }
  return vendor;
}

Result<json> CredentialVendor::vend(const std::string& table) {
  const std::string table_prefix = prefix_ + table + "/";
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::system_clock::now();
  auto it = cache_.find(table);
  if (it == cache_.end() || now >= it->second.renew_at) {
    aws::AssumeRoleOptions options = base_;
    options.session_name = "spotify-etl-" + table.substr(0, 40);
    for (auto& c : options.session_name)  // STS takes [A-Za-z0-9+=,.@_-]
      if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("+=,.@_-").find(c) == std::string_view::npos)
        c = '-';
    options.policy = read_policy(bucket_, table_prefix);
    auto got = exchange_(options);
    if (!got) return make_error(got.error().code, "cannot vend credentials for " + table + ": " + got.error().message);
    // Handed out while a third of their life is left, and never with less than
    // kMinLeftToHandOut: Iceberg Java clients renew 5 minutes before expiry,
    // and keys with less left would send them straight back for new ones.
    const auto lifetime = got->expiration - now;
    const auto keep_left = std::max<std::chrono::system_clock::duration>(lifetime / 3, kMinLeftToHandOut);
    const auto reuse = std::max<std::chrono::system_clock::duration>(lifetime - keep_left, {});
    it = cache_.insert_or_assign(table, Cached{*got, now + reuse}).first;
  }
  const json config = client_config(it->second.credentials, region_, endpoint_);
  return json{{"config", config},
              {"storage-credentials", json::array({{{"prefix", "s3://" + bucket_ + "/" + table_prefix}, {"config", config}}})}};
}

}  // namespace etl::cataloger::iceberg

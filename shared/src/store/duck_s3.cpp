#include "etl/duck_s3.h"

#include <unistd.h>

#include <functional>
#include <map>

#include "etl/aws_credentials.h"
#include "etl/s3_url.h"
#include "s3_protocol.h"

namespace etl::duck {
namespace fs = std::filesystem;

namespace {

constexpr const char* kHttpfs = "httpfs.duckdb_extension";

bool holds_httpfs(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / kHttpfs, ec);
}

fs::path executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

struct TableFiles::Remote {
  fs::path httpfs;
  std::string scope;     // s3://bucket/prefix/
  std::string endpoint;  // host[:port][/path]
  std::string region;
  bool path_style = true;
  bool use_ssl = true;
  std::shared_ptr<aws::CredentialsProvider> credentials;  // nullptr: unsigned requests

  std::mutex mutex;
  std::map<const void*, std::size_t> installed;  // connection -> fingerprint of the credentials its database holds

  Status install(Connection& conn, bool force) {
    AwsCredentials keys;
    if (credentials) {
      auto got = credentials->credentials();
      if (!got) return Error{got.error().code, "S3 credentials for DuckDB: " + got.error().message};
      keys = std::move(got).value();
    }
    const std::size_t fingerprint = std::hash<std::string>{}(keys.access_key_id + '\n' + keys.secret_access_key + '\n' +
                                                             keys.session_token);
    std::lock_guard lock(mutex);
    auto it = installed.find(conn.raw());
    if (!force && it != installed.end() && it->second == fingerprint) return {};
    std::string sql = "CREATE OR REPLACE SECRET etl_lake (TYPE s3, PROVIDER config, SCOPE " + quote_literal(scope) +
                      ", ENDPOINT " + quote_literal(endpoint) + ", REGION " + quote_literal(region) +
                      ", URL_STYLE " + (path_style ? "'path'" : "'vhost'") + ", USE_SSL " + (use_ssl ? "true" : "false");
    if (!keys.access_key_id.empty())
      sql += ", KEY_ID " + quote_literal(keys.access_key_id) + ", SECRET " + quote_literal(keys.secret_access_key);
    if (!keys.session_token.empty()) sql += ", SESSION_TOKEN " + quote_literal(keys.session_token);
    sql += ")";
    if (Status s = conn.execute(sql); !s.ok())  // DuckDB's message, never the statement (it holds the secret)
      return Error{s.error().code, "cannot give DuckDB the S3 credentials: " + s.error().message};
    installed[conn.raw()] = fingerprint;
    return {};
  }
};

fs::path find_extension_dir(const fs::path& configured) {
  if (!configured.empty()) return holds_httpfs(configured) ? configured : fs::path();
  if (fs::path beside = executable_dir() / ".." / "lib" / "duckdb-extensions"; holds_httpfs(beside))
    return beside.lexically_normal();
#ifdef ETL_DUCKDB_EXTENSION_DIR_DEFAULT
  if (fs::path built = ETL_DUCKDB_EXTENSION_DIR_DEFAULT; holds_httpfs(built)) return built;
#endif
  return {};
}

TableFiles::TableFiles(const fs::path& dir) : root_(fs::absolute(dir).lexically_normal().string()) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<TableFiles> TableFiles::s3(const AwsConfig& aws, const std::string& url, const fs::path& extension_dir,
                                  std::shared_ptr<aws::CredentialsProvider> credentials) {
  fs::path dir = find_extension_dir(extension_dir);
  if (dir.empty())
    return make_error(Errc::invalid_argument,
                      "reading " + url + " in place needs DuckDB's httpfs extension (" + kHttpfs + "): " +
                          (extension_dir.empty() ? std::string("none found beside the binaries")
                                                 : "not in ETL_DUCKDB_EXTENSION_DIR=" + extension_dir.string()) +
                          "; run scripts/setup.sh, set ETL_DUCKDB_EXTENSION_DIR, or ETL_CATALOG_READS=mirror");
  auto location = s3::parse_url(url);
  if (!location) return std::move(location).error();
  auto endpoint = s3::make_endpoint(aws, location->bucket);
  if (!endpoint) return std::move(endpoint).error();
  if (!credentials) {
    auto chain = aws::make_credentials_provider(aws);
    if (!chain) return std::move(chain).error();
    credentials = std::move(chain).value();
  }

  auto remote = std::make_shared<Remote>();
  remote->httpfs = dir / kHttpfs;
  remote->endpoint = endpoint->host + endpoint->base_path;
  if (!endpoint->custom && !endpoint->path_style) {
    // Virtual-hosted: DuckDB puts the bucket in front of the endpoint itself.
    remote->endpoint = endpoint->host.substr(location->bucket.size() + 1);
  }
  remote->region = aws.region;
  remote->path_style = endpoint->path_style;
  remote->use_ssl = endpoint->scheme == "https";
  remote->credentials = std::move(credentials);

  TableFiles files;
  files.root_ = "s3://" + location->bucket + (location->prefix.empty() ? "" : "/" + location->prefix);
  remote->scope = files.root_ + "/";
  files.remote_ = std::move(remote);
  return files;
}

std::string TableFiles::path(std::string_view key) const {
  std::string out = root_;
  out += '/';
  out += key;
  return out;
}

Status TableFiles::prepare(Connection& conn) const {
  if (!remote_) return {};
  if (Status s = conn.execute("LOAD " + quote_literal(remote_->httpfs.string())); !s.ok())
    return Error{s.error().code, "cannot load DuckDB's httpfs extension from " + remote_->httpfs.string() + ": " +
                                     s.error().message};
  return remote_->install(conn, true);
}

Status TableFiles::refresh(Connection& conn) const {
  if (!remote_) return {};
  return remote_->install(conn, false);
}

}  // namespace etl::duck

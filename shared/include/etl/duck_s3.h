// Where an embedded DuckDB reads the transformed tables: a local folder, or an
// s3:// prefix read in place through DuckDB's httpfs extension (no copy of the lake).
//
// httpfs is DuckDB's signed build (its `duckdb-ext-httpfs` wheel, unpacked by
// scripts/setup.sh and shipped in the image), LOADed by path: nothing is ever
// downloaded at run time. It signs with an S3 secret made from the same
// credentials chain as our own S3 store (static keys, or IRSA web identity through
// STS), scoped to the lake's prefix; refresh() replaces the secret when the chain
// hands out new credentials, so a long-running engine outlives any one set.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "etl/config.h"
#include "etl/duck.h"
#include "etl/result.h"

namespace etl::aws {
class CredentialsProvider;
}

namespace etl::duck {

// The folder of DuckDB's *.duckdb_extension files: `configured` (ETL_DUCKDB_EXTENSION_DIR)
// when set, else next to the binaries (<exe>/../lib/duckdb-extensions, the image's),
// else the development build's (scripts/setup.sh's cache). "" when none holds httpfs.
std::filesystem::path find_extension_dir(const std::filesystem::path& configured);

class TableFiles final {
 public:
  TableFiles() = default;
  // A local folder, read in place (implicit: wherever a folder will do).
  TableFiles(const std::filesystem::path& dir);  // NOLINT(google-explicit-constructor)
  // An s3://bucket[/prefix] store read in place: the endpoint and credentials as
  // the S3 store takes them from `aws`. invalid_argument (one line, naming the
  // variable) when httpfs is not in `extension_dir` or the endpoint is malformed.
  // `credentials`: nullptr = the chain make_credentials_provider(aws) builds.
  static Result<TableFiles> s3(const AwsConfig& aws, const std::string& url, const std::filesystem::path& extension_dir,
                               std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);

  bool remote() const { return remote_ != nullptr; }
  // "/abs/folder" or "s3://bucket/prefix" (never a trailing '/').
  const std::string& root() const { return root_; }
  // root() + "/" + key.
  std::string path(std::string_view key) const;

  // Readies a database to read root(), through one of its connections, before the
  // database is locked down: for s3, LOADs httpfs and creates the secret.
  Status prepare(Connection& conn) const;
  // Before each use of a prepared database: replaces its secret when the
  // credentials changed since (cheap otherwise). Safe from many threads.
  Status refresh(Connection& conn) const;

 private:
  struct Remote;
  std::string root_;
  std::shared_ptr<Remote> remote_;
};

}  // namespace etl::duck

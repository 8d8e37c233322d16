// s3:// URLs as configuration names them (ETL_RAW_URL, ETL_TRANSFORMED_URL,
// ATHENA output): the bucket and the key prefix. Public because more than the
// S3 store needs them (the Glue catalog names crawler targets with them).
#pragma once

#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::s3 {

// "s3://bucket" or "s3://bucket/some/prefix/" -> bucket and prefix ("some/prefix",
// no trailing '/'). The prefix must be a clean relative key (no "..", "//").
struct Location {
  std::string bucket;
  std::string prefix;  // "" for the bucket's root
};
Result<Location> parse_url(std::string_view url);

}  // namespace etl::s3

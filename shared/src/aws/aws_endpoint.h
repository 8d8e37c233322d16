// Custom AWS endpoint URLs (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 / _GLUE /
// _ATHENA), parsed once for every AWS client: the S3 store and the JSON clients.
#pragma once

#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::aws {

struct EndpointUrl {
  std::string scheme;     // http | https
  std::string host;       // host[:port] as curl sends it in Host (default ports left out)
  std::string base_path;  // "" or "/path" without a trailing '/'
};

// invalid_argument naming `variable` for anything but http(s)://host[:port][/path].
// Messages quote no part of the URL: it might carry a user:password.
Result<EndpointUrl> parse_endpoint_url(std::string_view url, const std::string& variable);

}  // namespace etl::aws

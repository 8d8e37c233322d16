#include "aws_endpoint.h"

#include <algorithm>

namespace etl::aws {

Result<EndpointUrl> parse_endpoint_url(std::string_view url, const std::string& variable) {
  EndpointUrl out;
  std::string_view rest = url;
  if (rest.starts_with("http://")) out.scheme = "http";
  else if (rest.starts_with("https://")) out.scheme = "https";
  else return make_error(Errc::invalid_argument, variable + " must be an http:// or https:// URL");
  rest.remove_prefix(out.scheme.size() + 3);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return make_error(Errc::invalid_argument, variable + " must not have a query or a fragment");
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.base_path = std::string(rest.substr(slash));
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (authority.find('@') != std::string_view::npos)
    return make_error(Errc::invalid_argument, variable + " must not hold a user name or password");
  std::string_view host = authority, port;
  auto bracket = authority.rfind(']');
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535)
      return make_error(Errc::invalid_argument, variable + " has a bad port");
  }
  if (host.empty()) return make_error(Errc::invalid_argument, variable + " has no host");
  // curl leaves a default port out of the Host header; the signature must agree.
  const bool default_port = (out.scheme == "http" && port == "80") || (out.scheme == "https" && port == "443");
  out.host = std::string(host) + (port.empty() || default_port ? "" : ":" + std::string(port));
  return out;
}

}  // namespace etl::aws

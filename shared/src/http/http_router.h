// Routes by OpenAPI path template ("/v1/query/{query_id}"): segment by
// segment, no regex. A path that a route knows under another method gives the
// Allow list for 405; a path no route knows is 404.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/http_server.h"

namespace etl::http {

struct Route {
  std::string method;         // GET | POST | DELETE
  std::string path_template;  // the OpenAPI path, also the metrics label
  std::vector<std::string> segments;  // "{name}" marks a parameter
  Handler handler;
  Access access = Access::read;
};

struct RouteMatch {
  const Route* route = nullptr;     // null: no route for this method
  std::vector<std::string> params;  // the {name} segments, in order
  std::string allow;                // methods the path answers ("GET, HEAD, OPTIONS"); empty: unknown path
  // The template the path matched, under any method (route's own when there is
  // one): the metrics label of a 405 or OPTIONS too. Null: unknown path.
  const std::string* path_template = nullptr;
};

class Router {
 public:
  // Fails (invalid_argument) on a template that is not /literal/{name}/... .
  Status add(std::string method, const std::string& path_template, Handler handler, Access access = Access::read);
  // HEAD matches GET routes.
  RouteMatch match(std::string_view method, std::string_view path) const;
  std::vector<std::string> list() const;  // "GET /v1/runs/{run_id}"
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Splits "/a/b" into {"a","b"}; "/" into {""}.
std::vector<std::string_view> path_segments(std::string_view path);

}  // namespace etl::http

#include "http_router.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace etl::http {

std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

namespace {

bool is_param(std::string_view segment) {
  if (segment.size() < 3 || segment.front() != '{' || segment.back() != '}') return false;
  auto name = segment.substr(1, segment.size() - 2);
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) != 0 || c == '_'; });
}

bool matches(const Route& route, const std::vector<std::string_view>& segments, std::vector<std::string>* params) {
  if (route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (is_param(route.segments[i])) {
      if (segments[i].empty()) return false;
      if (params) params->emplace_back(segments[i]);
    } else if (route.segments[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status Router::add(std::string method, const std::string& path_template, Handler handler) {
  Route route{std::move(method), path_template, {}, std::move(handler)};
  for (auto s : path_segments(path_template)) {
    bool literal = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
      return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
    });
    if (!literal && !is_param(s)) return make_error(Errc::invalid_argument, "bad route template " + path_template);
    route.segments.emplace_back(s);
  }
  if (route.segments.empty()) return make_error(Errc::invalid_argument, "bad route template " + path_template);
  routes_.push_back(std::move(route));
  return {};
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch out;
  const auto segments = path_segments(path);
  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  std::set<std::string> allowed;
  for (const auto& route : routes_) {
    if (!matches(route, segments, nullptr)) continue;
    allowed.insert(route.method);
    if (route.method == "GET") allowed.insert("HEAD");
    if (!out.route && route.method == wanted) {
      out.route = &route;
      matches(route, segments, &out.params);
    }
  }
  if (allowed.empty()) return out;
  allowed.insert("OPTIONS");
  for (const auto& m : allowed) out.allow += (out.allow.empty() ? "" : ", ") + m;
  return out;
}

std::vector<std::string> Router::list() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.method + " " + r.path_template);
  return out;
}

}  // namespace etl::http

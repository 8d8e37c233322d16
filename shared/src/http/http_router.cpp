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

// `{name*}`, last in a template: the rest of the path, slashes included ("" too).
bool is_rest_param(std::string_view segment) {
  return segment.size() > 3 && segment.ends_with("*}") && is_param(std::string(segment.substr(0, segment.size() - 2)) + "}");
}

bool matches(const Route& route, const std::vector<std::string_view>& segments, std::vector<std::string>* params) {
  const bool rest = !route.segments.empty() && is_rest_param(route.segments.back());
  const size_t fixed = rest ? route.segments.size() - 1 : route.segments.size();
  if (rest ? segments.size() < route.segments.size() : segments.size() != fixed) return false;
  for (size_t i = 0; i < fixed; ++i) {
    if (is_param(route.segments[i])) {
      if (segments[i].empty()) return false;
      if (params) params->emplace_back(segments[i]);
    } else if (route.segments[i] != segments[i]) {
      return false;
    }
  }
  if (rest && params) {
    std::string tail;
    for (size_t i = fixed; i < segments.size(); ++i) tail += (i > fixed ? "/" : "") + std::string(segments[i]);
    params->push_back(std::move(tail));
  }
  return true;
}

}  // namespace

Status Router::add(std::string method, const std::string& path_template, Handler handler, Access access) {
  Route route{std::move(method), path_template, {}, std::move(handler), access};
  for (auto s : path_segments(path_template)) {
    bool literal = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
      return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
    });
    const bool last = s.data() + s.size() == path_template.data() + path_template.size();
    // An empty segment only last: "/" itself, or a template with a trailing slash ("/v1/runs/").
    const bool trailing_slash = last && s.empty();
    if (!literal && !trailing_slash && !is_param(s) && !(last && is_rest_param(s)))
      return make_error(Errc::invalid_argument, "bad route template " + path_template);
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
    if (!out.path_template) out.path_template = &route.path_template;
    if (!out.route && route.method == wanted) {
      out.route = &route;
      out.path_template = &route.path_template;
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

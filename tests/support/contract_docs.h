// docs/contract.md is the product's contract and "describes the code as it is".
// These helpers let unit tests hold the code to it: every route a service
// publishes in /openapi.json is named on that page as `METHOD /path`.
#pragma once

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace etl::testing {

inline std::string contract_text() {
  std::ifstream in(std::string(ETL_SOURCE_DIR) + "/docs/contract.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "GET /v1/runs/{run_id}" for each operation of `openapi` that the contract does
// not name in those words (a path parameter may be named differently there).
inline std::vector<std::string> routes_missing_from_contract(const nlohmann::json& openapi) {
  const std::string contract = contract_text();
  // Path parameters compare by position, not by name: "{id}" for every one.
  auto shape = [](const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '{') {
        out += text[i];
        continue;
      }
      const auto close = text.find('}', i);
      if (close == std::string::npos) return out + text.substr(i);
      out += "{id}";
      i = close;
    }
    return out;
  };
  const std::string shaped = shape(contract);
  std::vector<std::string> missing;
  for (const auto& [path, operations] : openapi.at("paths").items()) {
    for (const auto& [method, _] : operations.items()) {
      static const std::vector<std::string> kMethods = {"get", "put", "post", "delete", "options", "head", "patch"};
      if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) continue;  // "parameters", ...
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string route = upper + " " + shape(path);
      // Followed by a character that cannot continue the path: "GET /v1/runs"
      // must not be satisfied by "GET /v1/runs/{id}" alone.
      bool found = false;
      for (auto at = shaped.find(route); at != std::string::npos && !found; at = shaped.find(route, at + 1)) {
        const char next = at + route.size() < shaped.size() ? shaped[at + route.size()] : ' ';
        found = next != '/' && next != '{' && !std::isalnum(static_cast<unsigned char>(next)) && next != '_' && next != '-';
      }
      if (!found) missing.push_back(upper + " " + path);
    }
  }
  return missing;
}

}  // namespace etl::testing

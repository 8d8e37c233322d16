// Checks that a service's OpenAPI document and its parse function state the
// same request rules: from a request schema, one valid instance (examples,
// defaults, minimal values) that the parser must accept, and for every
// constraint one instance that breaks just that constraint, which the parser
// must refuse. A rule in the handler but not in the document makes the valid
// instance fail; a rule in the document but not in the handler makes its
// breaking instance pass.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace etl::testing {

using nlohmann::json;

struct Variant {
  std::string what;  // which constraint it breaks
  json value;
};

class SchemaRules {
 public:
  explicit SchemaRules(const json& document) : doc_(document) {}

  const json& resolve(const json& schema) const {
    if (!schema.contains("$ref")) return schema;
    std::string ref = schema["$ref"].get<std::string>();  // "#/components/schemas/X"
    return resolve(doc_.at(json::json_pointer(ref.substr(1))));
  }

  json valid(const json& in) const {
    const json& s = resolve(in);
    if (s.contains("anyOf")) return valid(s["anyOf"][0]);
    if (s.contains("const")) return s["const"];
    if (s.contains("example")) return s["example"];
    if (s.contains("default") && !s["default"].is_null()) return s["default"];
    if (s.contains("enum")) return s["enum"][0];
    const std::string type = main_type(s);
    if (type == "object") {
      json out = json::object();
      const json required = s.value("required", json::array());
      for (const auto& name : required) out[name.get<std::string>()] = valid(s["properties"][name.get<std::string>()]);
      return out;
    }
    if (type == "array") {
      json out = json::array();
      for (int i = 0; i < std::max(1, s.value("minItems", 1)); ++i) out.push_back(valid(s["items"]));
      return out;
    }
    if (type == "integer") return s.value("minimum", 1);
    if (type == "boolean") return true;
    return std::string(static_cast<size_t>(std::max(1, s.value("minLength", 1))), 'a');
  }

  // Instances that each break one constraint of `schema`, from valid(schema).
  std::vector<Variant> breaking(const json& in, const std::string& where = "$") const {
    const json& s = resolve(in);
    std::vector<Variant> out;
    if (s.contains("anyOf")) {
      // Our unions are told apart by `type`: breaking a branch breaks the union.
      for (const auto& branch : s["anyOf"])
        for (auto& v : breaking(branch, where)) out.push_back(std::move(v));
      return out;
    }
    const std::string type = main_type(s);
    const json base = valid(s);
    if (type != "string" && !(s.contains("const") && s["const"].is_string())) out.push_back({where + " not a string", "x"});
    if (type == "string" || s.contains("const")) out.push_back({where + " a number", 42});
    if (s.contains("const")) out.push_back({where + " another value", "not-" + s["const"].get<std::string>()});
    if (s.contains("enum")) out.push_back({where + " outside the enum", "not-in-the-enum"});
    if (type == "string") strings(s, base, where, out);
    if (type == "integer") {
      out.push_back({where + " fractional", 1.5});
      if (s.contains("minimum")) out.push_back({where + " under the minimum", s["minimum"].get<long long>() - 1});
      if (s.contains("maximum")) out.push_back({where + " over the maximum", s["maximum"].get<long long>() + 1});
    }
    if (type == "array") arrays(s, base, where, out);
    if (type == "object") objects(s, base, where, out);
    if (type == "object" || type == "array" || type == "boolean" || type == "integer")
      if (!allows_null(s)) out.push_back({where + " null", nullptr});
    return out;
  }

 private:
  static std::string main_type(const json& s) {
    if (!s.contains("type")) return s.contains("properties") ? "object" : "string";
    if (s["type"].is_string()) return s["type"];
    for (const auto& t : s["type"])
      if (t != "null") return t;
    return "null";
  }
  static bool allows_null(const json& s) {
    return s.contains("type") && s["type"].is_array() &&
           std::find(s["type"].begin(), s["type"].end(), "null") != s["type"].end();
  }
  static void strings(const json& s, const json& base, const std::string& where, std::vector<Variant>& out) {
    if (s.value("minLength", 0) > 0) out.push_back({where + " shorter than minLength", std::string(s["minLength"].get<size_t>() - 1, 'a')});
    if (s.contains("maxLength")) {
      std::string longer = base.get<std::string>();
      longer.resize(s["maxLength"].get<size_t>() + 1, 'a');
      out.push_back({where + " longer than maxLength", longer});
    }
    if (s.contains("pattern")) {
      // Anchored patterns here never admit a control character; unanchored
      // ones ask for one non-blank character.
      const bool anchored = s["pattern"].get<std::string>().front() == '^';
      out.push_back({where + " not matching the pattern", anchored ? base.get<std::string>() + "\x01" : std::string(" \t")});
    }
  }
  void arrays(const json& s, const json& base, const std::string& where, std::vector<Variant>& out) const {
    if (s.value("minItems", 0) > 0) out.push_back({where + " fewer than minItems", json::array()});
    if (s.contains("maxItems")) {
      json more = json::array();
      for (size_t i = 0; i <= s["maxItems"].get<size_t>(); ++i) more.push_back(valid(s["items"]));
      out.push_back({where + " more than maxItems", more});
    }
    for (auto& v : breaking(s["items"], where + "[0]")) {
      json copy = base;
      copy[0] = v.value;
      out.push_back({v.what, copy});
    }
  }
  void objects(const json& s, const json& base, const std::string& where, std::vector<Variant>& out) const {
    out.push_back({where + " not an object", json::array()});
    const json required = s.value("required", json::array());
    for (const auto& name : required) {
      json copy = base;
      copy.erase(name.get<std::string>());
      out.push_back({where + "." + name.get<std::string>() + " missing", copy});
    }
    // A named copy: the range's temporary would die before the loop (items() keeps no copy).
    const json properties = s.value("properties", json::object());
    for (const auto& [name, property] : properties.items()) {
      for (auto& v : breaking(property, where + "." + name)) {
        json copy = base;
        copy[name] = v.value;
        out.push_back({v.what, copy});
      }
    }
  }
  const json& doc_;
};

// The JSON request schema of an operation.
inline const json& request_schema(const json& doc, const std::string& path, const std::string& method) {
  return doc.at("paths").at(path).at(method).at("requestBody").at("content").at("application/json").at("schema");
}

}  // namespace etl::testing

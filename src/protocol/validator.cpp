// Generic shape validation for decoded input.
#include "ecsd/protocol/validator.hpp"

#include <regex>

#include "ecsd/common/clock.hpp"

namespace ecsd::protocol {

using model::Type;
using nlohmann::json;

namespace {
std::string join(const std::string& path, const std::string& name) { return path.empty() ? name : path + "." + name; }

const char* type_name(Type t) {
  switch (t) {
    case Type::Structure: return "structure";
    case Type::List: return "list";
    case Type::Map: return "map";
    case Type::String: return "string";
    case Type::Integer: return "integer";
    case Type::Long: return "long";
    case Type::Boolean: return "boolean";
    case Type::Double: return "double";
    case Type::Float: return "float";
    case Type::Timestamp: return "timestamp";
    case Type::Blob: return "blob";
  }
  return "value";
}

std::string shown(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "null";
  std::string s = v.dump();
  return s.size() > 100 ? s.substr(0, 100) + "..." : s;
}

// Patterns are compiled once per distinct pattern string and kept; models have a few dozen.
bool matches(const std::string& pattern, const std::string& s) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::optional<std::regex>> cache;
  std::optional<std::regex>* re;
  {
    std::lock_guard lock(mu);
    auto it = cache.find(pattern);
    if (it == cache.end()) {
      std::optional<std::regex> compiled;
      try {
        compiled.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error&) {
        // Java-only syntax (e.g. \p{...}): not checked rather than refusing valid input.
      }
      it = cache.emplace(pattern, std::move(compiled)).first;
    }
    re = &it->second;
  }
  return !re->has_value() || std::regex_search(s, **re);
}
}  // namespace

TypeProblem check_json_types(const model::Service& svc, int shape_idx, json& v, const std::string& path) {
  if (v.is_null()) return {};
  const auto& sh = svc.shape(shape_idx);
  auto bad = [&] { return TypeProblem{path.empty() ? "(root)" : path, type_name(sh.type)}; };
  switch (sh.type) {
    case Type::Structure:
      if (!v.is_object()) return bad();
      for (const auto& m : sh.members) {
        auto it = v.find(m.name);
        if (it == v.end()) continue;
        if (auto p = check_json_types(svc, m.shape, *it, join(path, m.name)); !p.path.empty()) return p;
      }
      return {};
    case Type::List:
      if (!v.is_array()) return bad();
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto p = check_json_types(svc, sh.member, v[i], path + "." + std::to_string(i + 1)); !p.path.empty())
          return p;
      return {};
    case Type::Map:
      if (!v.is_object()) return bad();
      for (auto it = v.begin(); it != v.end(); ++it)
        if (auto p = check_json_types(svc, sh.value, it.value(), join(path, it.key())); !p.path.empty()) return p;
      return {};
    case Type::String:
    case Type::Blob:
      return v.is_string() ? TypeProblem{} : bad();
    case Type::Integer:
    case Type::Long:
      if (v.is_number_integer()) return {};
      if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()))) {
        v = static_cast<long long>(v.get<double>());
        return {};
      }
      return bad();
    case Type::Boolean:
      return v.is_boolean() ? TypeProblem{} : bad();
    case Type::Double:
    case Type::Float:
      return v.is_number() ? TypeProblem{} : bad();
    case Type::Timestamp: {
      if (v.is_number()) return {};
      double t;
      if (v.is_string() && parse_iso8601(v.get<std::string>(), t)) {
        v = t;
        return {};
      }
      return bad();
    }
  }
  return {};
}

std::vector<std::string> validate(const model::Service& svc, int shape_idx, const json& v, const std::string& path) {
  std::vector<std::string> out;
  const auto& sh = svc.shape(shape_idx);
  auto fail = [&](const std::string& constraint) {
    out.push_back("Value '" + shown(v) + "' at '" + (path.empty() ? "(root)" : path) +
                  "' failed to satisfy constraint: " + constraint);
  };
  auto range = [&](double n, const char* what) {
    if (sh.min && n < *sh.min)
      fail(std::string("Member must have ") + what + " greater than or equal to " + std::to_string(static_cast<long long>(*sh.min)));
    if (sh.max && n > *sh.max)
      fail(std::string("Member must have ") + what + " less than or equal to " + std::to_string(static_cast<long long>(*sh.max)));
  };
  switch (sh.type) {
    case Type::Structure:
      for (const auto& m : sh.members) {
        auto it = v.find(m.name);
        if (it == v.end() || it->is_null()) {
          if (m.required)
            out.push_back("Value null at '" + join(path, m.name) + "' failed to satisfy constraint: Member must not be null");
          continue;
        }
        auto sub = validate(svc, m.shape, *it, join(path, m.name));
        out.insert(out.end(), sub.begin(), sub.end());
      }
      break;
    case Type::List:
      range(static_cast<double>(v.size()), "length");
      for (std::size_t i = 0; i < v.size(); ++i) {
        auto sub = validate(svc, sh.member, v[i], path + "." + std::to_string(i + 1) + ".member");
        out.insert(out.end(), sub.begin(), sub.end());
      }
      break;
    case Type::Map:
      range(static_cast<double>(v.size()), "length");
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto ksub = validate(svc, sh.key, json(it.key()), path + ".key");
        auto vsub = validate(svc, sh.value, it.value(), path + "." + it.key());
        out.insert(out.end(), ksub.begin(), ksub.end());
        out.insert(out.end(), vsub.begin(), vsub.end());
      }
      break;
    case Type::String: {
      const auto& s = v.get_ref<const std::string&>();
      if (!sh.enum_values.empty() &&
          std::find(sh.enum_values.begin(), sh.enum_values.end(), s) == sh.enum_values.end()) {
        std::string set;
        for (const auto& e : sh.enum_values) set += (set.empty() ? "" : ", ") + e;
        fail("Member must satisfy enum value set: [" + set + "]");
      }
      range(static_cast<double>(s.size()), "length");
      // std::regex recurses per character: long values are not pattern-checked. Java-only
      // classes such as \p{L} mean something else to ECMAScript, so those patterns are skipped.
      if (!sh.pattern.empty() && s.size() <= 512 && sh.pattern.find("\\p{") == std::string::npos &&
          !matches(sh.pattern, s))
        fail("Member must satisfy regular expression pattern: " + sh.pattern);
      break;
    }
    case Type::Integer:
    case Type::Long:
    case Type::Double:
    case Type::Float:
      if (sh.min && v.get<double>() < *sh.min)
        fail("Member must have value greater than or equal to " + std::to_string(static_cast<long long>(*sh.min)));
      if (sh.max && v.get<double>() > *sh.max)
        fail("Member must have value less than or equal to " + std::to_string(static_cast<long long>(*sh.max)));
      break;
    default:
      break;
  }
  return out;
}

std::string validation_message(const std::vector<std::string>& problems) {
  std::string msg = std::to_string(problems.size()) + (problems.size() == 1 ? " validation error" : " validation errors") +
                    " detected: ";
  for (std::size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  return msg;
}

}  // namespace ecsd::protocol

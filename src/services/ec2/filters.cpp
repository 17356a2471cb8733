// The one filter engine all EC2 Describe* handlers use.
#include "ecsd/services/ec2/filters.hpp"

#include "ecsd/common/api_error.hpp"

namespace ecsd::services::ec2 {

using nlohmann::json;

Filters::Filters(const json& filters, const FilterNames& known) {
  if (!filters.is_array()) return;
  for (const auto& f : filters) {
    std::string name = f.value("Name", "");
    if (name.rfind("tag:", 0) != 0 && !known.count(name))
      throw ApiError("InvalidParameterValue", "The filter '" + name + "' is invalid");
    std::vector<std::string> values;
    for (const auto& v : f.value("Values", json::array()))
      if (v.is_string()) values.push_back(v.get<std::string>());
    filters_.emplace_back(std::move(name), std::move(values));
  }
}

bool Filters::matches(const FilterValues& values) const {
  for (const auto& [name, patterns] : filters_) {
    auto it = values.find(name);
    if (it == values.end()) return false;
    bool any = false;
    for (const auto& p : patterns) {
      for (const auto& v : it->second)
        if (wildcard_match(p, v)) {
          any = true;
          break;
        }
      if (any) break;
    }
    if (!any) return false;
  }
  return true;
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative glob with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
      continue;
    }
    if (p < pattern.size()) {
      char pc = pattern[p];
      std::size_t width = 1;
      bool literal = false;
      if (pc == '\\' && p + 1 < pattern.size()) {
        pc = pattern[p + 1];
        width = 2;
        literal = true;
      }
      if ((!literal && pc == '?') || pc == text[t]) {
        p += width;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    t = ++mark;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

void add_tag_values(FilterValues& values, const store::Tags& tags) {
  auto& keys = values["tag-key"];
  auto& vals = values["tag-value"];
  for (const auto& [k, v] : tags) {
    values["tag:" + k].push_back(v);
    keys.push_back(k);
    vals.push_back(v);
  }
}

}  // namespace ecsd::services::ec2

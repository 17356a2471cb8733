// EC2's generic Filter.N.Name / Filter.N.Value.M evaluation. A resource is seen as a map from
// filter name to its values for that filter; a request matches a resource when every filter has
// at least one value matching one of the resource's values (values may use * and ? wildcards,
// escaped with a backslash). Filter names are checked against the ones EC2 documents.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::ec2 {

/// A resource as filters see it: filter name -> the resource's values.
using FilterValues = std::map<std::string, std::vector<std::string>, std::less<>>;
/// The filter names EC2 documents for one kind of resource.
using FilterNames = std::set<std::string, std::less<>>;

class Filters {
 public:
  /// @param filters the request's Filters member ([{Name, Values}]), or null.
  /// @param known the filter names EC2 documents for the resource; "tag:<key>" is always accepted.
  /// @throws ApiError InvalidParameterValue for a filter name that is not known.
  Filters(const nlohmann::json& filters, const FilterNames& known);
  /// @return true when `values` satisfies every filter.
  bool matches(const FilterValues& values) const;
  bool empty() const { return filters_.empty(); }

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> filters_;
};

/// @return true when `text` matches `pattern` (`*` any run, `?` one character, `\` escapes).
bool wildcard_match(std::string_view pattern, std::string_view text);

/// Adds the tag filters of a resource: "tag:<key>" -> value, "tag-key" -> keys, "tag-value" -> values.
void add_tag_values(FilterValues& values, const store::Tags& tags);

/// "true"/"false" as filters compare booleans.
inline std::string bool_value(bool b) { return b ? "true" : "false"; }

}  // namespace ecsd::services::ec2

// CloudWatch Logs filter patterns (FilterLogEvents' filterPattern), parsed once and matched
// against each event message. Pure: no store, no I/O.
//
// Supported syntax:
//   ""                        every event
//   ERROR Exception           every term appears (case-sensitive substring)
//   "a phrase: with [chars]"  a quoted term is matched as an exact phrase
//   ?ERROR ?WARN              at least one optional term appears
//   ERROR -Exiting            the excluded term does not appear
//   { $.level = "error" }     JSON messages: = != < > <= >= on a selector ($.a.b, $.a[0]),
//                             "*" wildcards in string values, IS TRUE|FALSE|NULL, NOT EXISTS,
//                             && and || with parentheses
//   %regex%                   a regular expression found anywhere in the message
// Not supported (rejected as invalid): space-delimited [field, ...] patterns.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ecsd::domain::logs {

/// A pattern the parser rejects; what() is the message for InvalidParameterException.
struct FilterPatternError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class FilterPattern {
 public:
  /// @throws FilterPatternError for a pattern that cannot be parsed.
  explicit FilterPattern(std::string_view pattern);
  ~FilterPattern();
  FilterPattern(FilterPattern&&) noexcept;
  FilterPattern& operator=(FilterPattern&&) noexcept;

  /// @return true when `message` matches.
  bool matches(std::string_view message) const;
  /// @return true when every message matches (the empty pattern).
  bool matches_all() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// @return true when `text` matches `glob` where '*' stands for any run of characters.
bool glob_match(std::string_view glob, std::string_view text);

}  // namespace ecsd::domain::logs

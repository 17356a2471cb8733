// Tags of any resource, keyed by its ARN, kept in insertion order of their keys.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

using Tags = std::vector<std::pair<std::string, std::string>>;

class TagRepo {
 public:
  explicit TagRepo(Db& db) : db_(db) {}
  Tags get(std::string_view arn);
  /// Adds or overwrites each tag.
  void put(std::string_view arn, const Tags& tags);
  void remove(std::string_view arn, const std::vector<std::string>& keys);
  void remove_all(std::string_view arn);

 private:
  Db& db_;
};

/// Account settings (PutAccountSetting / ListAccountSettings).
class AccountSettingRepo {
 public:
  explicit AccountSettingRepo(Db& db) : db_(db) {}
  void put(const Scope& scope, std::string_view principal, std::string_view name, std::string_view value);
  /// @return (principal, name, value) rows of the account, optionally one principal and/or name.
  std::vector<std::tuple<std::string, std::string, std::string>> list(const Scope& scope, std::string_view principal,
                                                                      std::string_view name);
  void remove(const Scope& scope, std::string_view principal, std::string_view name);

 private:
  Db& db_;
};

}  // namespace ecsd::store

// Tag and account setting rows.
#include "ecsd/store/tag_repo.hpp"

#include <tuple>

namespace ecsd::store {

namespace {
constexpr const char* kGet = "SELECT key, value FROM tags WHERE resource_arn=? ORDER BY rowid";
constexpr const char* kPut =
    "INSERT INTO tags(resource_arn, key, value) VALUES(?,?,?) "
    "ON CONFLICT(resource_arn, key) DO UPDATE SET value=excluded.value";
constexpr const char* kRemove = "DELETE FROM tags WHERE resource_arn=? AND key=?";
constexpr const char* kRemoveAll = "DELETE FROM tags WHERE resource_arn=?";
constexpr const char* kPutSetting =
    "INSERT INTO account_settings(account, region, principal_arn, name, value) VALUES(?,?,?,?,?) "
    "ON CONFLICT(account, region, principal_arn, name) DO UPDATE SET value=excluded.value";
constexpr const char* kListSettings =
    "SELECT principal_arn, name, value FROM account_settings WHERE account=?1 AND region=?2 "
    "AND (?3='' OR principal_arn=?3) AND (?4='' OR name=?4) ORDER BY name, principal_arn";
constexpr const char* kRemoveSetting =
    "DELETE FROM account_settings WHERE account=? AND region=? AND principal_arn=? AND name=?";
}  // namespace

Tags TagRepo::get(std::string_view arn) {
  auto& s = db_.prepare(kGet).bind_all(arn);
  Tags out;
  while (s.step()) out.emplace_back(s.text(0), s.text(1));
  s.reset();
  return out;
}

void TagRepo::put(std::string_view arn, const Tags& tags) {
  for (const auto& [k, v] : tags) db_.prepare(kPut).bind_all(arn, k, v).run();
}

void TagRepo::remove(std::string_view arn, const std::vector<std::string>& keys) {
  for (const auto& k : keys) db_.prepare(kRemove).bind_all(arn, k).run();
}

void TagRepo::remove_all(std::string_view arn) { db_.prepare(kRemoveAll).bind_all(arn).run(); }

void AccountSettingRepo::put(const Scope& scope, std::string_view principal, std::string_view name,
                             std::string_view value) {
  db_.prepare(kPutSetting).bind_all(scope.account, scope.region, principal, name, value).run();
}

std::vector<std::tuple<std::string, std::string, std::string>> AccountSettingRepo::list(const Scope& scope,
                                                                                        std::string_view principal,
                                                                                        std::string_view name) {
  auto& s = db_.prepare(kListSettings).bind_all(scope.account, scope.region, principal, name);
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  while (s.step()) out.emplace_back(s.text(0), s.text(1), s.text(2));
  s.reset();
  return out;
}

void AccountSettingRepo::remove(const Scope& scope, std::string_view principal, std::string_view name) {
  db_.prepare(kRemoveSetting).bind_all(scope.account, scope.region, principal, name).run();
}

}  // namespace ecsd::store

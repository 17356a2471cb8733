// ECS account setting handlers: ListAccountSettings, PutAccountSetting, PutAccountSettingDefault,
// DeleteAccountSetting. Settings not set explicitly have the defaults of a new AWS account.
#include "ecsd/common/api_error.hpp"
#include "ecsd/services/ecs/ecs.hpp"

namespace ecsd::services::ecs {

namespace {

// Defaults of a new account, as ListAccountSettings --effective-settings reports them.
const std::vector<std::pair<std::string, std::string>>& defaults() {
  static const std::vector<std::pair<std::string, std::string>> kDefaults = {
      {"awsvpcTrunking", "disabled"},
      {"containerInsights", "disabled"},
      {"containerInstanceLongArnFormat", "enabled"},
      {"defaultLogDriverMode", "non-blocking"},
      {"fargateFIPSMode", "disabled"},
      {"fargateTaskRetirementWaitPeriod", "7"},
      {"guardDutyActivate", "off"},
      {"serviceLongArnFormat", "enabled"},
      {"tagResourceAuthorization", "on"},
      {"taskLongArnFormat", "enabled"},
  };
  return kDefaults;
}

json setting(const std::string& name, const std::string& value, const std::string& principal, const char* type) {
  return {{"name", name}, {"value", value}, {"principalArn", principal}, {"type", type}};
}

void check_value(const std::string& name, const std::string& value) {
  static const std::vector<std::string> kOnOff = {"enabled", "disabled"};
  if (name == "fargateTaskRetirementWaitPeriod") {
    if (value != "0" && value != "7" && value != "14")
      throw ApiError("InvalidParameterException", "The fargateTaskRetirementWaitPeriod value must be 0, 7 or 14.");
  } else if (name == "containerInsights") {
    if (value != "enabled" && value != "disabled" && value != "enhanced")
      throw ApiError("InvalidParameterException", "The containerInsights value must be enabled, disabled or enhanced.");
  } else if (name == "guardDutyActivate" || name == "tagResourceAuthorization") {
    if (value != "on" && value != "off")
      throw ApiError("InvalidParameterException", "The " + name + " value must be on or off.");
  } else if (name == "defaultLogDriverMode") {
    if (value != "blocking" && value != "non-blocking")
      throw ApiError("InvalidParameterException", "The defaultLogDriverMode value must be blocking or non-blocking.");
  } else if (std::find(kOnOff.begin(), kOnOff.end(), value) == kOnOff.end()) {
    throw ApiError("InvalidParameterException", "The " + name + " value must be enabled or disabled.");
  }
}

// The account-wide default is stored under the root principal.
json put(RequestContext& ctx, const std::string& principal, const json& in) {
  std::string name = in.at("name"), value = in.at("value");
  check_value(name, value);
  ctx.store.write([&](store::Db& db) { store::AccountSettingRepo(db).put(ctx.scope, principal, name, value); });
  return json{{"setting", setting(name, value, principal, "user")}};
}

}  // namespace

json put_account_setting(RequestContext& ctx, const json& in) {
  return put(ctx, in.value("principalArn", ctx.principal()), in);
}

json put_account_setting_default(RequestContext& ctx, const json& in) { return put(ctx, ctx.principal(), in); }

json delete_account_setting(RequestContext& ctx, const json& in) {
  std::string name = in.at("name"), principal = in.value("principalArn", ctx.principal());
  std::string value;
  for (const auto& [n, v] : defaults())
    if (n == name) value = v;
  ctx.store.write([&](store::Db& db) { store::AccountSettingRepo(db).remove(ctx.scope, principal, name); });
  return json{{"setting", setting(name, value, principal, "user")}};
}

json list_account_settings(RequestContext& ctx, const json& in) {
  std::string name = in.value("name", ""), value = in.value("value", "");
  std::string principal = in.value("principalArn", "");
  bool effective = in.value("effectiveSettings", false);
  int limit = in.value("maxResults", 10);
  if (limit < 1 || limit > 10) throw ApiError("InvalidParameterException", "maxResults must be between 1 and 10.");
  std::int64_t offset = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  auto rows = ctx.store.read([&](store::Db& db) {
    return store::AccountSettingRepo(db).list(ctx.scope, principal.empty() && effective ? "" : principal, name);
  });
  json all = json::array();
  for (const auto& [p, n, v] : rows) all.push_back(setting(n, v, p, "user"));
  if (effective) {
    std::string who = principal.empty() ? ctx.principal() : principal;
    json merged = json::array();
    for (const auto& [n, v] : defaults()) {
      if (!name.empty() && n != name) continue;
      json chosen = setting(n, v, who, "aws_managed");
      for (const auto& s : all)
        if (s["name"] == n && (s["principalArn"] == who || s["principalArn"] == ctx.principal())) {
          chosen = s;
          if (s["principalArn"] == who) break;
        }
      merged.push_back(chosen);
    }
    all = merged;
  }
  json filtered = json::array();
  for (const auto& s : all)
    if (value.empty() || s["value"] == value) filtered.push_back(s);
  json out = {{"settings", json::array()}};
  for (std::int64_t i = offset; i < static_cast<std::int64_t>(filtered.size()) && i < offset + limit; ++i)
    out["settings"].push_back(filtered[static_cast<std::size_t>(i)]);
  if (offset + limit < static_cast<std::int64_t>(filtered.size())) out["nextToken"] = encode_token(offset + limit);
  return out;
}

}  // namespace ecsd::services::ecs

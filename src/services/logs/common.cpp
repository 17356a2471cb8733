// Lookups and token formats shared by the CloudWatch Logs handlers, and the dispatch table.
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/logs/logs.hpp"

namespace ecsd::services::logs {

std::string group_arn(const RequestContext& ctx, const std::string& name) {
  return arn::make("logs", ctx.scope.region, ctx.scope.account, "log-group:" + name);
}

std::int64_t now_ms(const RequestContext& ctx) { return static_cast<std::int64_t>(std::llround(ctx.now * 1000)); }

namespace {
// "arn:aws:logs:r:a:log-group:NAME" or ".../NAME:*" -> NAME; nullopt for another account/region.
std::optional<std::string> name_from_identifier(const RequestContext& ctx, const std::string& id) {
  if (!arn::is_arn(id)) return id;
  auto a = arn::parse(id);
  if (!a || a->service != "logs" || a->resource.rfind("log-group:", 0) != 0)
    throw ApiError("InvalidParameterException", "Invalid log group identifier: " + id);
  if (a->account != ctx.scope.account || a->region != ctx.scope.region) return std::nullopt;
  std::string name = a->resource.substr(10);
  if (name.size() >= 2 && name.compare(name.size() - 2, 2, ":*") == 0) name.resize(name.size() - 2);
  return name;
}
}  // namespace

store::LogGroupRow require_group(store::Db& db, const RequestContext& ctx, const json& in) {
  bool by_name = in.contains("logGroupName"), by_id = in.contains("logGroupIdentifier");
  if (by_name && by_id)
    throw ApiError("InvalidParameterException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  if (!by_name && !by_id)
    throw ApiError("InvalidParameterException", "Should provide either name or ARN of the log group.");
  std::optional<std::string> name =
      by_name ? std::optional(in["logGroupName"].get<std::string>())
              : name_from_identifier(ctx, in["logGroupIdentifier"].get<std::string>());
  auto g = name ? store::LogRepo(db).find_group(ctx.scope, *name) : std::nullopt;
  if (!g) throw ApiError("ResourceNotFoundException", "The specified log group does not exist.");
  return *g;
}

store::LogStreamRow require_stream(store::Db& db, store::LogGroupRow& group, const std::string& name) {
  auto s = store::LogRepo(db).find_stream(group.id, name);
  if (!s) throw ApiError("ResourceNotFoundException", "The specified log stream does not exist.");
  return *s;
}

std::string stream_token(char direction, store::LogCursor cursor) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%c/%020" PRId64 "%020" PRId64 "/s", direction, cursor.ts_ms, cursor.id);
  return buf;
}

std::pair<char, store::LogCursor> parse_stream_token(const std::string& token) {
  auto bad = [&] { return ApiError("InvalidParameterException", "The specified nextToken is invalid."); };
  if (token.size() < 42 || (token[0] != 'f' && token[0] != 'b') || token[1] != '/') throw bad();
  std::string digits = token.substr(2, 40);
  if (digits.find_first_not_of("0123456789") != std::string::npos) throw bad();
  std::string rest = token.substr(42);
  if (!rest.empty() && rest != "/s") throw bad();
  store::LogCursor c{std::stoll(digits.substr(0, 20)), std::stoll(digits.substr(20))};
  return {token[0], c};
}

ServiceApi make_api() {
  ServiceApi api;
  api.model = &model::get("logs");
  api.validation_code = "InvalidParameterException";
  api.handlers = {
      {"CreateLogGroup", create_log_group},
      {"DeleteLogGroup", delete_log_group},
      {"DescribeLogGroups", describe_log_groups},
      {"PutRetentionPolicy", put_retention_policy},
      {"DeleteRetentionPolicy", delete_retention_policy},
      {"TagResource", tag_resource},
      {"UntagResource", untag_resource},
      {"ListTagsForResource", list_tags_for_resource},
      {"TagLogGroup", tag_log_group},
      {"UntagLogGroup", untag_log_group},
      {"ListTagsLogGroup", list_tags_log_group},
      {"CreateLogStream", create_log_stream},
      {"DeleteLogStream", delete_log_stream},
      {"DescribeLogStreams", describe_log_streams},
      {"PutLogEvents", put_log_events},
      {"GetLogEvents", get_log_events},
      {"FilterLogEvents", filter_log_events},
  };
  return api;
}

}  // namespace ecsd::services::logs

// Amazon CloudWatch Logs: the dispatch table, the handlers (grouped by resource in
// src/services/logs/), and the lookups and token formats they share.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "ecsd/services/api.hpp"
#include "ecsd/store/log_repo.hpp"

namespace ecsd::services::logs {

/// @return CloudWatch Logs' dispatch table over the embedded logs model.
ServiceApi make_api();

// log_groups.cpp
json create_log_group(RequestContext& ctx, const json& in);
json delete_log_group(RequestContext& ctx, const json& in);
json describe_log_groups(RequestContext& ctx, const json& in);
json put_retention_policy(RequestContext& ctx, const json& in);
json delete_retention_policy(RequestContext& ctx, const json& in);
json tag_resource(RequestContext& ctx, const json& in);
json untag_resource(RequestContext& ctx, const json& in);
json list_tags_for_resource(RequestContext& ctx, const json& in);
json tag_log_group(RequestContext& ctx, const json& in);
json untag_log_group(RequestContext& ctx, const json& in);
json list_tags_log_group(RequestContext& ctx, const json& in);

// log_streams.cpp
json create_log_stream(RequestContext& ctx, const json& in);
json delete_log_stream(RequestContext& ctx, const json& in);
json describe_log_streams(RequestContext& ctx, const json& in);

// log_events.cpp
json put_log_events(RequestContext& ctx, const json& in);
json get_log_events(RequestContext& ctx, const json& in);
json filter_log_events(RequestContext& ctx, const json& in);

// common.cpp
/// @return the log group ARN without the trailing ":*" (logGroupArn; tags are keyed by it).
std::string group_arn(const RequestContext& ctx, const std::string& name);
/// @return the group named by logGroupName or logGroupIdentifier (a name or an ARN) in `in`.
/// @throws ApiError ResourceNotFoundException, or InvalidParameterException when both or neither are given.
store::LogGroupRow require_group(store::Db& db, const RequestContext& ctx, const json& in);
/// @throws ApiError ResourceNotFoundException.
store::LogStreamRow require_stream(store::Db& db, store::LogGroupRow& group, const std::string& name);
/// @return the request time in epoch milliseconds.
std::int64_t now_ms(const RequestContext& ctx);

/// GetLogEvents tokens: "f/<cursor>/s" reads forward from the cursor, "b/<cursor>/s" backward.
std::string stream_token(char direction, store::LogCursor cursor);
/// @return {direction, cursor}. @throws ApiError InvalidParameterException for a token we did not issue.
std::pair<char, store::LogCursor> parse_stream_token(const std::string& token);

}  // namespace ecsd::services::logs

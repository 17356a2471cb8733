// Log streams: create, delete, describe.
#include "ecsd/common/api_error.hpp"
#include "ecsd/services/logs/logs.hpp"

namespace ecsd::services::logs {

namespace {
json stream_json(const store::LogGroupRow& g, const store::LogStreamRow& s) {
  json out = {{"logStreamName", s.name},
              {"creationTime", s.created_ms},
              {"arn", g.arn + ":log-stream:" + s.name},
              {"storedBytes", s.stored_bytes}};
  if (s.first_event_ms) out["firstEventTimestamp"] = *s.first_event_ms;
  if (s.last_event_ms) out["lastEventTimestamp"] = *s.last_event_ms;
  if (s.last_ingestion_ms) {
    out["lastIngestionTime"] = *s.last_ingestion_ms;
    out["uploadSequenceToken"] = std::to_string(*s.last_ingestion_ms);
  }
  return out;
}
}  // namespace

json create_log_stream(RequestContext& ctx, const json& in) {
  std::string name = in["logStreamName"];
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, json{{"logGroupName", in["logGroupName"]}});
    store::LogRepo repo(db);
    if (repo.find_stream(g.id, name))
      throw ApiError("ResourceAlreadyExistsException", "The specified log stream already exists");
    repo.create_stream(g.id, name, now_ms(ctx));
  });
  return json::object();
}

json delete_log_stream(RequestContext& ctx, const json& in) {
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, json{{"logGroupName", in["logGroupName"]}});
    auto s = require_stream(db, g, in["logStreamName"]);
    store::LogRepo(db).delete_stream(g.id, s.id);
  });
  return json::object();
}

json describe_log_streams(RequestContext& ctx, const json& in) {
  std::string prefix = in.value("logStreamNamePrefix", "");
  bool by_time = in.value("orderBy", "LogStreamName") == "LastEventTime";
  if (by_time && !prefix.empty())
    throw ApiError("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.");
  int limit = in.value("limit", 50);
  std::int64_t offset = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  return ctx.store.read([&](store::Db& db) {
    auto g = require_group(db, ctx, in);
    auto rows = store::LogRepo(db).list_streams(g.id, prefix, by_time, in.value("descending", false), offset, limit + 1);
    json streams = json::array();
    for (std::size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) streams.push_back(stream_json(g, rows[i]));
    json out = {{"logStreams", streams}};
    if (static_cast<int>(rows.size()) > limit) out["nextToken"] = encode_token(offset + limit);
    return out;
  });
}

}  // namespace ecsd::services::logs

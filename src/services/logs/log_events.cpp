// Log events: PutLogEvents (the service's batch rules), GetLogEvents (one stream, forward and
// backward tokens), FilterLogEvents (filter patterns across a group's streams, interleaved).
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/log_filter.hpp"
#include "ecsd/services/logs/logs.hpp"

namespace ecsd::services::logs {

namespace {
constexpr std::int64_t kMaxBatchBytes = 1048576;  // messages in UTF-8 plus 26 bytes per event
constexpr std::int64_t kEventOverhead = 26;
constexpr std::int64_t kHourMs = 3600000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
constexpr std::int64_t kNoEnd = std::numeric_limits<std::int64_t>::max();
/// Rows one FilterLogEvents call reads before it answers with what it has and a nextToken.
constexpr std::int64_t kScanBudget = 200000;

// Events older than this are gone even before the periodic sweep removes them.
std::int64_t retention_floor(const store::LogGroupRow& g, std::int64_t now) {
  return g.retention_days ? now - static_cast<std::int64_t>(*g.retention_days) * kDayMs : 0;
}

std::string filter_token(store::LogCursor c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "c1/%" PRId64 "/%" PRId64, c.ts_ms, c.id);
  return buf;
}

store::LogCursor parse_filter_token(const std::string& token) {
  long long ts = 0, id = 0;
  int used = 0;
  if (std::sscanf(token.c_str(), "c1/%lld/%lld%n", &ts, &id, &used) != 2 || used != static_cast<int>(token.size()) ||
      ts < 0 || id < 0)
    throw ApiError("InvalidParameterException", "The specified nextToken is invalid.");
  return {ts, id};
}
}  // namespace

json put_log_events(RequestContext& ctx, const json& in) {
  const json& events = in["logEvents"];
  const std::int64_t now = now_ms(ctx);
  std::int64_t bytes = 0, previous = -1;
  for (const auto& e : events) {
    std::int64_t ts = e["timestamp"];
    if (ts < previous)
      throw ApiError("InvalidParameterException",
                     "Log events in a single PutLogEvents request must be in chronological order.");
    previous = ts;
    bytes += static_cast<std::int64_t>(e["message"].get_ref<const std::string&>().size()) + kEventOverhead;
  }
  if (bytes > kMaxBatchBytes)
    throw ApiError("InvalidParameterException", "Upload too large: " + std::to_string(bytes) +
                                                    " bytes exceeds limit of " + std::to_string(kMaxBatchBytes));
  return ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, json{{"logGroupName", in["logGroupName"]}});
    auto s = require_stream(db, g, in["logStreamName"]);
    // Events are sorted: too old ones form a prefix, too new ones a suffix.
    const std::int64_t too_old = now - 14 * kDayMs, expired = retention_floor(g, now), too_new = now + 2 * kHourMs;
    std::size_t n = events.size(), first = 0, end = n;
    std::optional<std::size_t> too_old_end, expired_end, too_new_start;
    while (first < n) {
      std::int64_t ts = events[first]["timestamp"];
      if (ts < expired) expired_end = first + 1;
      else if (ts < too_old) too_old_end = first + 1;
      else break;
      ++first;
    }
    while (end > first && events[end - 1]["timestamp"].get<std::int64_t>() > too_new) too_new_start = --end;
    if (first < end &&
        events[end - 1]["timestamp"].get<std::int64_t>() - events[first]["timestamp"].get<std::int64_t>() > kDayMs)
      throw ApiError("InvalidParameterException",
                     "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
    std::vector<std::pair<std::int64_t, std::string>> batch;
    batch.reserve(end - first);
    for (std::size_t i = first; i < end; ++i) batch.emplace_back(events[i]["timestamp"], events[i]["message"]);
    store::LogRepo(db).append(g.id, s.id, batch, now);
    json out = {{"nextSequenceToken", stream_token('f', {now, db.last_insert_rowid()}).substr(2, 40)}};
    if (too_old_end || expired_end || too_new_start) {
      json info = json::object();
      if (too_new_start) info["tooNewLogEventStartIndex"] = *too_new_start;
      if (too_old_end) info["tooOldLogEventEndIndex"] = *too_old_end;
      if (expired_end) info["expiredLogEventEndIndex"] = *expired_end;
      out["rejectedLogEventsInfo"] = info;
    }
    return out;
  });
}

json get_log_events(RequestContext& ctx, const json& in) {
  const std::int64_t start = in.value("startTime", std::int64_t{0});
  const std::int64_t end = in.contains("endTime") ? in["endTime"].get<std::int64_t>() : kNoEnd;
  const int limit = in.value("limit", 10000);
  bool forward = in.value("startFromHead", false), from_end = !forward;
  store::LogCursor cursor;
  std::optional<std::string> given;
  if (in.contains("nextToken")) {
    given = in["nextToken"].get<std::string>();
    auto [dir, c] = parse_stream_token(*given);
    forward = dir == 'f';
    from_end = false;
    cursor = c;
  }
  return ctx.store.read([&](store::Db& db) {
    auto g = require_group(db, ctx, in);
    auto s = require_stream(db, g, in["logStreamName"]);
    const std::int64_t floor = std::max(start, retention_floor(g, now_ms(ctx)));
    auto rows = store::LogRepo(db).stream_events(g.id, s.id, floor, end, cursor, forward, from_end, limit);
    json events = json::array();
    for (const auto& e : rows)
      events.push_back({{"timestamp", e.ts_ms}, {"message", e.message}, {"ingestionTime", e.ingestion_ms}});
    json out = {{"events", events}};
    if (rows.empty()) {
      // At either end the same token comes back: that is how readers know they are done.
      store::LogCursor here = cursor;
      out["nextForwardToken"] = given && forward ? *given : stream_token('f', here);
      out["nextBackwardToken"] = given && !forward ? *given : stream_token('b', here);
    } else {
      out["nextForwardToken"] = stream_token('f', {rows.back().ts_ms, rows.back().id});
      out["nextBackwardToken"] = stream_token('b', {rows.front().ts_ms, rows.front().id});
    }
    return out;
  });
}

json filter_log_events(RequestContext& ctx, const json& in) {
  if (in.contains("logStreamNames") && in.contains("logStreamNamePrefix"))
    throw ApiError("InvalidParameterException",
                   "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  std::optional<domain::logs::FilterPattern> pattern;
  try {
    pattern.emplace(in.value("filterPattern", ""));
  } catch (const domain::logs::FilterPatternError& e) {
    throw ApiError("InvalidParameterException", e.what());
  }
  const std::int64_t start = in.value("startTime", std::int64_t{0});
  // endTime is inclusive here ("events with a timestamp later than this time are not returned").
  const std::int64_t end = in.contains("endTime") ? in["endTime"].get<std::int64_t>() + 1 : kNoEnd;
  if (end != kNoEnd && end <= start)
    throw ApiError("InvalidParameterException", "endTime must be greater than or equal to startTime.");
  const std::size_t limit = in.value("limit", 10000);
  store::LogCursor after;
  if (in.contains("nextToken")) after = parse_filter_token(in["nextToken"]);
  return ctx.store.read([&](store::Db& db) {
    auto g = require_group(db, ctx, in);
    store::LogRepo repo(db);
    std::vector<std::int64_t> stream_ids;
    bool restricted = false;
    if (in.contains("logStreamNames")) {
      restricted = true;
      for (const auto& n : in["logStreamNames"])
        if (auto s = repo.find_stream(g.id, n.get<std::string>())) stream_ids.push_back(s->id);
    } else if (in.contains("logStreamNamePrefix")) {
      restricted = true;
      // Bounded: one page of up to 10,000 stream names per request.
      for (const auto& s : repo.list_streams(g.id, in["logStreamNamePrefix"], false, false, 0, 10000))
        stream_ids.push_back(s.id);
    }
    json events = json::array();
    json out = json::object();
    if (restricted && stream_ids.empty()) {
      out["events"] = events;
      return out;
    }
    const std::int64_t floor = std::max(start, retention_floor(g, now_ms(ctx)));
    store::LogCursor last = repo.scan_group(g.id, stream_ids, floor, end, after, kScanBudget,
                                            [&](const store::LogEventRow& e) {
                                              if (!pattern->matches(e.message)) return true;
                                              events.push_back({{"logStreamName", e.stream_name},
                                                                {"timestamp", e.ts_ms},
                                                                {"message", e.message},
                                                                {"ingestionTime", e.ingestion_ms},
                                                                {"eventId", std::to_string(e.id)}});
                                              return events.size() < limit;
                                            });
    out["events"] = events;
    out["searchedLogStreams"] = json::array();
    if (last.ts_ms >= 0) out["nextToken"] = filter_token(last);
    return out;
  });
}

}  // namespace ecsd::services::logs

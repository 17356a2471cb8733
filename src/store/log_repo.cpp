// Log group, stream and event rows (layout in log_repo.hpp).
#include "ecsd/store/log_repo.hpp"

#include <algorithm>

namespace ecsd::store {

namespace {
constexpr const char* kFindGroup =
    "SELECT g.id, g.name, g.arn, g.created_ms, g.retention_days, g.doc, "
    "(SELECT COALESCE(SUM(stored_bytes), 0) FROM log_streams s WHERE s.group_id=g.id) "
    "FROM log_groups g WHERE account=? AND region=? AND name=?";
constexpr const char* kInsertGroup =
    "INSERT INTO log_groups(account, region, name, arn, created_ms, doc) VALUES(?,?,?,?,?,?)";
constexpr const char* kDeleteGroupEvents = "DELETE FROM log_events WHERE group_id=?";
constexpr const char* kDeleteGroup = "DELETE FROM log_groups WHERE id=?";
constexpr const char* kListGroups =
    "SELECT g.id, g.name, g.arn, g.created_ms, g.retention_days, g.doc, "
    "(SELECT COALESCE(SUM(stored_bytes), 0) FROM log_streams s WHERE s.group_id=g.id) "
    "FROM log_groups g WHERE account=?1 AND region=?2 AND substr(name, 1, length(?3))=?3 AND name>?4 "
    "ORDER BY name LIMIT ?5";
constexpr const char* kSetRetention = "UPDATE log_groups SET retention_days=? WHERE id=?";

constexpr const char* kFindStream =
    "SELECT id, group_id, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes "
    "FROM log_streams WHERE group_id=? AND name=?";
constexpr const char* kInsertStream = "INSERT INTO log_streams(group_id, name, created_ms) VALUES(?,?,?)";
constexpr const char* kDeleteStreamEvents = "DELETE FROM log_events WHERE group_id=? AND stream_id=?";
constexpr const char* kDeleteStream = "DELETE FROM log_streams WHERE id=?";
#define ECSD_STREAM_SELECT                                                                                  \
  "SELECT id, group_id, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes " \
  "FROM log_streams WHERE group_id=?1 AND substr(name, 1, length(?2))=?2 "
constexpr const char* kStreamsByName = ECSD_STREAM_SELECT "ORDER BY name LIMIT ?4 OFFSET ?3";
constexpr const char* kStreamsByNameDesc = ECSD_STREAM_SELECT "ORDER BY name DESC LIMIT ?4 OFFSET ?3";
constexpr const char* kStreamsByTime =
    ECSD_STREAM_SELECT "ORDER BY COALESCE(last_event_ms, 0), id LIMIT ?4 OFFSET ?3";
constexpr const char* kStreamsByTimeDesc =
    ECSD_STREAM_SELECT "ORDER BY COALESCE(last_event_ms, 0) DESC, id DESC LIMIT ?4 OFFSET ?3";
#undef ECSD_STREAM_SELECT

constexpr const char* kInsertEvent =
    "INSERT INTO log_events(group_id, stream_id, ts_ms, ingestion_ms, message) VALUES(?,?,?,?,?)";
constexpr const char* kUpdateStreamSummary =
    "UPDATE log_streams SET first_event_ms=MIN(COALESCE(first_event_ms, ?2), ?2), "
    "last_event_ms=MAX(COALESCE(last_event_ms, ?3), ?3), last_ingestion_ms=?4, stored_bytes=stored_bytes+?5 "
    "WHERE id=?1";

// Paging bounds are row values, (ts_ms, id) > cursor: SQLite seeks the index to them. A separate
// "ts_ms >= start" next to them would be chosen as the seek bound instead, and every page would scan
// from the start again, so the caller folds startTime/endTime into the cursor.
constexpr const char* kStreamForward =
    "SELECT id, stream_id, ts_ms, ingestion_ms, message FROM log_events "
    "WHERE group_id=?1 AND stream_id=?2 AND (ts_ms, id)>(?3, ?4) AND ts_ms<?5 "
    "ORDER BY ts_ms, id LIMIT ?6";
constexpr const char* kStreamBackward =
    "SELECT id, stream_id, ts_ms, ingestion_ms, message FROM log_events "
    "WHERE group_id=?1 AND stream_id=?2 AND (ts_ms, id)<(?3, ?4) AND ts_ms>=?5 "
    "ORDER BY ts_ms DESC, id DESC LIMIT ?6";

constexpr const char* kScanAll =
    "SELECT e.id, e.stream_id, e.ts_ms, e.ingestion_ms, e.message, s.name FROM log_events e "
    "JOIN log_streams s ON s.id=e.stream_id "
    "WHERE e.group_id=?1 AND (e.ts_ms, e.id)>(?2, ?3) AND e.ts_ms<?4 "
    "ORDER BY e.ts_ms, e.id LIMIT ?5";
constexpr const char* kScanStreams =
    "SELECT e.id, e.stream_id, e.ts_ms, e.ingestion_ms, e.message, s.name FROM log_events e "
    "JOIN log_streams s ON s.id=e.stream_id "
    "WHERE e.group_id=?1 AND (e.ts_ms, e.id)>(?2, ?3) AND e.ts_ms<?4 "
    "AND e.stream_id IN (SELECT value FROM json_each(?6)) "
    "ORDER BY e.ts_ms, e.id LIMIT ?5";

constexpr const char* kRetentionGroups =
    "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL";
constexpr const char* kExpireGroup = "DELETE FROM log_events WHERE group_id=? AND ts_ms<?";

LogGroupRow group_from(const Stmt& s) {
  LogGroupRow g;
  g.id = s.int64(0);
  g.name = s.text(1);
  g.arn = s.text(2);
  g.created_ms = s.int64(3);
  if (!s.is_null(4)) g.retention_days = static_cast<int>(s.int64(4));
  g.doc = nlohmann::json::parse(s.text(5), nullptr, false);
  if (!g.doc.is_object()) g.doc = nlohmann::json::object();
  g.stored_bytes = s.int64(6);
  return g;
}

LogStreamRow stream_from(const Stmt& s) {
  LogStreamRow r;
  r.id = s.int64(0);
  r.group_id = s.int64(1);
  r.name = s.text(2);
  r.created_ms = s.int64(3);
  if (!s.is_null(4)) r.first_event_ms = s.int64(4);
  if (!s.is_null(5)) r.last_event_ms = s.int64(5);
  if (!s.is_null(6)) r.last_ingestion_ms = s.int64(6);
  r.stored_bytes = s.int64(7);
  return r;
}

LogEventRow event_from(const Stmt& s) {
  LogEventRow e;
  e.id = s.int64(0);
  e.stream_id = s.int64(1);
  e.ts_ms = s.int64(2);
  e.ingestion_ms = s.int64(3);
  e.message = s.text(4);
  return e;
}
}  // namespace

std::optional<LogGroupRow> LogRepo::find_group(const Scope& scope, const std::string& name) {
  auto& s = db_.prepare(kFindGroup).bind_all(scope.account, scope.region, name);
  std::optional<LogGroupRow> out;
  if (s.step()) out = group_from(s);
  s.reset();
  return out;
}

LogGroupRow LogRepo::create_group(const Scope& scope, const std::string& name, const std::string& arn,
                                  std::int64_t created_ms, const nlohmann::json& doc) {
  db_.prepare(kInsertGroup).bind_all(scope.account, scope.region, name, arn, created_ms, doc.dump()).run();
  LogGroupRow g;
  g.id = db_.last_insert_rowid();
  g.name = name;
  g.arn = arn;
  g.created_ms = created_ms;
  g.doc = doc;
  return g;
}

void LogRepo::delete_group(std::int64_t group_id) {
  db_.prepare(kDeleteGroupEvents).bind_all(group_id).run();
  db_.prepare(kDeleteGroup).bind_all(group_id).run();  // streams cascade
}

std::vector<LogGroupRow> LogRepo::list_groups(const Scope& scope, const std::string& prefix,
                                              const std::string& after_name, int limit) {
  auto& s = db_.prepare(kListGroups).bind_all(scope.account, scope.region, prefix, after_name, limit);
  std::vector<LogGroupRow> out;
  while (s.step()) out.push_back(group_from(s));
  s.reset();
  return out;
}

void LogRepo::set_retention(std::int64_t group_id, std::optional<int> days) {
  auto& s = db_.prepare(kSetRetention);
  if (days) s.bind(1, *days);
  else s.bind_null(1);
  s.bind(2, group_id).run();
}

std::optional<LogStreamRow> LogRepo::find_stream(std::int64_t group_id, const std::string& name) {
  auto& s = db_.prepare(kFindStream).bind_all(group_id, name);
  std::optional<LogStreamRow> out;
  if (s.step()) out = stream_from(s);
  s.reset();
  return out;
}

LogStreamRow LogRepo::create_stream(std::int64_t group_id, const std::string& name, std::int64_t created_ms) {
  db_.prepare(kInsertStream).bind_all(group_id, name, created_ms).run();
  LogStreamRow r;
  r.id = db_.last_insert_rowid();
  r.group_id = group_id;
  r.name = name;
  r.created_ms = created_ms;
  return r;
}

void LogRepo::delete_stream(std::int64_t group_id, std::int64_t stream_id) {
  db_.prepare(kDeleteStreamEvents).bind_all(group_id, stream_id).run();
  db_.prepare(kDeleteStream).bind_all(stream_id).run();
}

std::vector<LogStreamRow> LogRepo::list_streams(std::int64_t group_id, const std::string& prefix, bool by_last_event,
                                                bool descending, std::int64_t offset, int limit) {
  const char* sql = by_last_event ? (descending ? kStreamsByTimeDesc : kStreamsByTime)
                                  : (descending ? kStreamsByNameDesc : kStreamsByName);
  auto& s = db_.prepare(sql).bind_all(group_id, prefix, offset, limit);
  std::vector<LogStreamRow> out;
  while (s.step()) out.push_back(stream_from(s));
  s.reset();
  return out;
}

void LogRepo::append(std::int64_t group_id, std::int64_t stream_id,
                     const std::vector<std::pair<std::int64_t, std::string>>& events, std::int64_t ingestion_ms) {
  if (events.empty()) return;
  std::int64_t first = events.front().first, last = events.front().first, bytes = 0;
  for (const auto& [ts, message] : events) {
    db_.prepare(kInsertEvent).bind_all(group_id, stream_id, ts, ingestion_ms, message).run();
    first = std::min(first, ts);
    last = std::max(last, ts);
    bytes += static_cast<std::int64_t>(message.size());
  }
  db_.prepare(kUpdateStreamSummary).bind_all(stream_id, first, last, ingestion_ms, bytes).run();
}

std::vector<LogEventRow> LogRepo::stream_events(std::int64_t group_id, std::int64_t stream_id, std::int64_t start_ms,
                                                std::int64_t end_ms, LogCursor cursor, bool forward, bool from_end,
                                                int limit) {
  std::vector<LogEventRow> out;
  if (forward) {
    // Strictly after the cursor and at or after start: (start, 0) precedes every event at start.
    if (cursor.ts_ms < start_ms) cursor = {start_ms, 0};
    auto& s = db_.prepare(kStreamForward).bind_all(group_id, stream_id, cursor.ts_ms, cursor.id, end_ms, limit);
    while (s.step()) out.push_back(event_from(s));
    s.reset();
    return out;
  }
  // Strictly before the cursor and before end: (end, 0) precedes every event at end.
  if (from_end || cursor.ts_ms >= end_ms) cursor = {end_ms, 0};
  auto& s = db_.prepare(kStreamBackward).bind_all(group_id, stream_id, cursor.ts_ms, cursor.id, start_ms, limit);
  while (s.step()) out.push_back(event_from(s));
  s.reset();
  std::reverse(out.begin(), out.end());
  return out;
}

LogCursor LogRepo::scan_group(std::int64_t group_id, const std::vector<std::int64_t>& stream_ids,
                              std::int64_t start_ms, std::int64_t end_ms, LogCursor after, std::int64_t max_rows,
                              const std::function<bool(const LogEventRow&)>& fn) {
  // Read in pages so a callback that stops early does not leave a long statement open.
  constexpr std::int64_t kPage = 1000;
  std::string ids;
  if (!stream_ids.empty()) {
    ids = "[";
    for (std::size_t i = 0; i < stream_ids.size(); ++i) ids += (i ? "," : "") + std::to_string(stream_ids[i]);
    ids += "]";
  }
  std::int64_t read = 0;
  LogCursor cursor = after;
  if (cursor.ts_ms < start_ms) cursor = {start_ms, 0};
  while (read < max_rows) {
    std::int64_t page = std::min(kPage, max_rows - read);
    auto& s = db_.prepare(ids.empty() ? kScanAll : kScanStreams);
    s.bind_all(group_id, cursor.ts_ms, cursor.id, end_ms, page);
    if (!ids.empty()) s.bind(6, ids);
    std::int64_t got = 0;
    bool stopped = false;
    while (s.step()) {
      LogEventRow e = event_from(s);
      e.stream_name = s.text(5);
      ++got;
      ++read;
      cursor = {e.ts_ms, e.id};
      if (!fn(e)) {
        stopped = true;
        break;
      }
    }
    s.reset();
    if (stopped) return cursor;
    if (got < page) return {-1, -1};
  }
  return cursor;
}

std::int64_t LogRepo::expire(std::int64_t now_ms) {
  std::vector<std::pair<std::int64_t, int>> groups;
  {
    auto& s = db_.prepare(kRetentionGroups);
    while (s.step()) groups.emplace_back(s.int64(0), static_cast<int>(s.int64(1)));
    s.reset();
  }
  std::int64_t removed = 0;
  for (const auto& [id, days] : groups) {
    db_.prepare(kExpireGroup).bind_all(id, now_ms - static_cast<std::int64_t>(days) * 86400000).run();
    removed += db_.changes();
  }
  return removed;
}

}  // namespace ecsd::store

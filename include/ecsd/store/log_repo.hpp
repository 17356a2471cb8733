// CloudWatch Logs rows: log groups, log streams and their events (migration 5).
//
//   log_groups   id, account, region, name, arn, created_ms, retention_days (NULL: never expire),
//                doc (kmsKeyId, logGroupClass...)            UNIQUE(account, region, name)
//   log_streams  id, group_id -> log_groups (cascade), name, created_ms, first_event_ms,
//                last_event_ms, last_ingestion_ms, stored_bytes   UNIQUE(group_id, name)
//   log_events   id (insertion order), group_id, stream_id, ts_ms, ingestion_ms, message
//                INDEX (group_id, stream_id, ts_ms)  -- GetLogEvents, resume, stream delete
//                INDEX (group_id, ts_ms)             -- FilterLogEvents interleaved, expiry
//
// Events are ordered by (ts_ms, id): a cursor is that pair, so paging never skips or repeats an
// event even when many share a millisecond. log_events has no foreign keys (a cascade would need
// an index per key on the hottest table): the repo deletes a group's or stream's events itself.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

struct LogGroupRow {
  std::int64_t id = 0;
  std::string name, arn;
  std::int64_t created_ms = 0;
  std::optional<int> retention_days;
  nlohmann::json doc = nlohmann::json::object();
  std::int64_t stored_bytes = 0;  // sum over its streams
};

struct LogStreamRow {
  std::int64_t id = 0, group_id = 0;
  std::string name;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> first_event_ms, last_event_ms, last_ingestion_ms;
  std::int64_t stored_bytes = 0;
};

struct LogEventRow {
  std::int64_t id = 0, stream_id = 0;
  std::string stream_name;  // filled by scans across streams
  std::int64_t ts_ms = 0, ingestion_ms = 0;
  std::string message;
};

/// A position between events: (ts_ms, id). {0, 0} is before every event.
struct LogCursor {
  std::int64_t ts_ms = 0, id = 0;
};

class LogRepo {
 public:
  explicit LogRepo(Db& db) : db_(db) {}

  std::optional<LogGroupRow> find_group(const Scope& scope, const std::string& name);
  /// Inserts a group. @throws SqliteError (constraint) when the name is taken: check find_group first.
  LogGroupRow create_group(const Scope& scope, const std::string& name, const std::string& arn, std::int64_t created_ms,
                           const nlohmann::json& doc);
  /// Deletes the group, its streams and its events.
  void delete_group(std::int64_t group_id);
  /// @return up to `limit` groups of the scope whose name starts with `prefix`, by name, after `after_name`.
  std::vector<LogGroupRow> list_groups(const Scope& scope, const std::string& prefix, const std::string& after_name,
                                       int limit);
  void set_retention(std::int64_t group_id, std::optional<int> days);

  std::optional<LogStreamRow> find_stream(std::int64_t group_id, const std::string& name);
  LogStreamRow create_stream(std::int64_t group_id, const std::string& name, std::int64_t created_ms);
  /// Deletes the stream and its events.
  void delete_stream(std::int64_t group_id, std::int64_t stream_id);
  /// @return streams of the group whose name starts with `prefix`, ordered by name or by last
  ///         event time (ascending or descending), skipping `offset`, at most `limit`.
  std::vector<LogStreamRow> list_streams(std::int64_t group_id, const std::string& prefix, bool by_last_event,
                                         bool descending, std::int64_t offset, int limit);

  /// Appends events (already in chronological order) to a stream and updates its summary.
  void append(std::int64_t group_id, std::int64_t stream_id,
              const std::vector<std::pair<std::int64_t, std::string>>& events, std::int64_t ingestion_ms);

  /// Events of one stream within [start_ms, end_ms), strictly after `after` (forward, ascending)
  /// or strictly before it (backward: the `limit` events closest to it), returned ascending.
  /// A backward read with `from_end` starts after the last event.
  std::vector<LogEventRow> stream_events(std::int64_t group_id, std::int64_t stream_id, std::int64_t start_ms,
                                         std::int64_t end_ms, LogCursor cursor, bool forward, bool from_end, int limit);

  /// Walks the group's events in (ts_ms, id) order within [start_ms, end_ms), strictly after
  /// `after`, calling `fn` for each until it returns false or `max_rows` rows were read.
  /// `stream_ids` empty means every stream. @return the cursor of the last row read ({-1,-1} at the end).
  LogCursor scan_group(std::int64_t group_id, const std::vector<std::int64_t>& stream_ids, std::int64_t start_ms,
                       std::int64_t end_ms, LogCursor after, std::int64_t max_rows,
                       const std::function<bool(const LogEventRow&)>& fn);

  /// Deletes events older than each group's retention as of `now_ms`. @return how many went.
  std::int64_t expire(std::int64_t now_ms);

 private:
  Db& db_;
};

}  // namespace ecsd::store

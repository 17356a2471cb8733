// The awslogs log driver, done by ecsd: containers whose logConfiguration uses awslogs run with
// the engine's json-file driver, and a follower per container reads their output through the
// engine's logs API into ecsd's CloudWatch Logs store (stream "<prefix>/<container>/<task-id>").
//
// No line is lost or stored twice across ecsd restarts: each batch of events is written in the
// same transaction as the container's resume point (engine timestamp of the last line stored and
// how many lines carried that timestamp), and a restarted follower asks the engine for lines
// since that timestamp and skips the ones already stored.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecsd/runtime/runtime.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::reconciler {

/// A container definition's awslogs options.
struct AwslogsConfig {
  std::string group, stream_prefix, region;
  bool create_group = false;
  std::string datetime_format, multiline_pattern;
};

/// @return the awslogs options of container definition `def`, or nullopt for any other driver.
std::optional<AwslogsConfig> awslogs_config(const nlohmann::json& def);

/// @return ECS's stream name: "<prefix>/<container name>/<task id>", or the engine container id
///         when there is no prefix (as the awslogs driver names it on EC2).
std::string awslogs_stream(const AwslogsConfig& cfg, const std::string& container, const std::string& task_id,
                           const std::string& container_id);

/// @return the anchored regular expression for awslogs-datetime-format (strftime directives) or
///         awslogs-multiline-pattern; "" when each line is its own event.
std::string multiline_regex(const AwslogsConfig& cfg);

/// Joins lines into events: a line matching the start pattern begins an event, others are
/// appended to the pending one with "\n". Pure; the follower feeds it.
class MultilineJoiner {
 public:
  struct Event {
    std::int64_t ts_ms = 0;
    std::string message;
    std::int64_t last_ns = 0;  // resume position of its last line
    int last_count = 0;
  };
  /// @param start_pattern "" for one event per line.
  explicit MultilineJoiner(const std::string& start_pattern);
  /// Adds a line at resume position (ns, count); completed events go to `out`.
  void add(const runtime::LogLine& line, std::int64_t ns, int count, std::vector<Event>& out);
  /// Completes the pending event if its last line arrived before `idle_before_ns` (or always when 0).
  void flush(std::int64_t idle_before_ns, std::vector<Event>& out);

 private:
  std::optional<std::regex> start_;
  std::optional<Event> pending_;
  std::int64_t pending_seen_ns_ = 0;
};

/// Followers of every awslogs container of this daemon, owned by the reconciler.
class LogFollowers {
 public:
  LogFollowers(store::Store& store, runtime::ContainerRuntime& runtime);
  ~LogFollowers();

  /// Makes sure the log group exists, creating it when awslogs-create-group is "true".
  /// @return "" or the reason the container cannot start (ECS's wording).
  std::string prepare(const store::Scope& scope, const AwslogsConfig& cfg);
  /// Follows container `c` into `stream` unless a follower runs for it already or its stopped
  /// output was read to the end. Starts again when a container that was read to its end runs again.
  void ensure(const store::Scope& scope, const AwslogsConfig& cfg, const std::string& stream,
              const runtime::ContainerState& c);
  /// Stops every follower and waits for them.
  void stop_all();
  /// @return followers still reading (for tests and logs).
  std::size_t active();

 private:
  struct Follower {
    std::thread thread;
    std::atomic<bool> stop{false}, finished{false};
  };
  void run(Follower& f, store::Scope scope, AwslogsConfig cfg, std::string stream, std::string container_id);

  store::Store& store_;
  runtime::ContainerRuntime& runtime_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Follower>> followers_;  // by engine container id
};

}  // namespace ecsd::reconciler

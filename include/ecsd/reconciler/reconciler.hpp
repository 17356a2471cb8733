// The level-triggered reconciler: converges running containers towards the desired state in
// the store. API writes, engine events and a periodic resync only enqueue keys; workers run
// one pass per key at a time. It never sees HTTP or wire formats.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ecsd/reconciler/container_spec.hpp"
#include "ecsd/reconciler/work_queue.hpp"
#include "ecsd/runtime/runtime.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::reconciler {

class LogFollowers;

struct Options {
  std::string instance_id;      // labels this daemon's containers (several daemons may share an engine)
  int workers = 4;              // passes block on the engine (pulls, stop timeouts)
  double resync_seconds = 10;   // full resync period
  double stopped_task_retention_seconds = 3600;  // STOPPED tasks stay describable this long
  HostPolicy host_policy;
  std::string engine_description = "unix:///var/run/docker.sock";  // for messages
  /// Where task containers reach the metadata endpoint: called with an address of this host (a
  /// bridge network's gateway, or 127.0.0.1 for host networking). @return "http://addr:port" or "".
  /// Unset: containers get no metadata or credentials variables.
  std::function<std::string(const std::string& address)> metadata_endpoint;
  /// @return fresh credentials {AccessKeyId, SecretAccessKey, Token, RoleArn} for a task role.
  std::function<nlohmann::json(const std::string& role_arn)> new_credentials;
  /// Serves the credentials endpoint at 169.254.170.2 inside a running container's network
  /// namespace (container id, pid), and stops doing so. Unset: not done.
  std::function<void(const std::string& container_id, int pid)> serve_link_local;
  std::function<void(const std::string& container_id)> release_link_local;
  /// Credentials for pulling `image` (ecsd's own ECR registry); nullopt pulls anonymously.
  std::function<std::optional<runtime::RegistryAuth>(const std::string& image)> registry_auth;
};

/// What a pass asks for next.
struct Outcome {
  double requeue_after = -1;  // seconds; < 0 = done until something changes
};

class Reconciler {
 public:
  Reconciler(store::Store& store, runtime::ContainerRuntime& runtime, Options options);
  ~Reconciler();

  /// Starts workers, the engine event follower and the resync timer.
  void start();
  /// Stops them (in-flight passes finish).
  void stop();
  /// Queues `key` ("task:<arn>", "service:<arn>", "cluster:<arn>") after `delay_seconds`.
  void enqueue(const std::string& key, double delay_seconds = 0);
  /// Runs one pass for `key` synchronously (tests step the reconciler with this).
  Outcome step(const std::string& key);
  /// Queues every unstopped task and live service, and purges expired STOPPED tasks.
  void resync();
  /// Removes every container and network this daemon created (POST /_ecsd/reset).
  void remove_all_runtime_objects();
  /// Stops every awslogs follower (before a reset, so none writes into the emptied store).
  void stop_log_followers();
  /// @return the engine network awsvpc tasks of this daemon join.
  std::string awsvpc_network() const;

 private:
  Outcome task_pass(const std::string& arn);
  Outcome service_pass(const std::string& arn);
  void worker();
  void follow_events();
  void resync_loop();
  /// The IPv4 gateway of engine network `name`, remembered for a few seconds (one engine call less
  /// per container start); forgotten on a reset and whenever the engine's event stream breaks.
  std::string network_gateway(const std::string& name);
  void forget_gateways();

  store::Store& store_;
  runtime::ContainerRuntime& runtime_;
  Options opt_;
  std::unique_ptr<LogFollowers> followers_;  // awslogs containers' output -> CloudWatch Logs
  WorkQueue queue_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> engine_up_{true};
  std::atomic<std::uint64_t> generation_{0};
  std::mutex network_mu_;  // bumped by remove_all_runtime_objects()
  std::mutex gateway_mu_;
  std::map<std::string, std::pair<std::string, double>> gateways_;  // network -> (address, monotonic expiry)
  std::vector<std::thread> threads_;
};

}  // namespace ecsd::reconciler

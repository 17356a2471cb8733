// The container runtime seam: what the reconciler needs from a container engine. The Docker
// Engine client (runtime/docker/docker_client.hpp) is the real implementation; unit tests use
// a fake (tests/fakes/fake_runtime.hpp). Calls are synchronous and thread-safe; the reconciler
// calls them from its own worker threads, never from an HTTP strand.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ecsd::runtime {

/// A runtime failure, classified so callers can react without parsing messages.
struct RuntimeError : std::runtime_error {
  enum class Kind { NotFound, Conflict, Invalid, Unavailable, Internal };
  RuntimeError(Kind kind, const std::string& what, int status = 0)
      : std::runtime_error(what), kind(kind), status(status) {}
  Kind kind;
  int status;  // the engine's HTTP status, 0 when there was no answer
};

struct PortBinding {
  int container_port = 0;
  std::string protocol = "tcp";  // "tcp" or "udp"
  std::string host_ip;           // "" = engine default; ecsd uses "127.0.0.1" or "0.0.0.0"
  int host_port = 0;             // 0 = let the engine choose (dynamic host port)
};

struct Ulimit {
  std::string name;
  std::int64_t soft = 0, hard = 0;
};

struct HealthCheck {
  std::vector<std::string> test;  // e.g. {"CMD-SHELL", "curl -f localhost || exit 1"}
  double interval_seconds = 30, timeout_seconds = 5, start_period_seconds = 0;
  int retries = 3;
};

struct ContainerSpec {
  std::string name;  // engine container name (unique)
  std::string image;
  std::optional<std::vector<std::string>> entrypoint, cmd;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::string working_dir, user, hostname;
  std::map<std::string, std::string> labels;
  std::int64_t cpu_shares = 0;                // 0 = engine default
  std::int64_t memory_bytes = 0;              // hard limit, 0 = none
  std::int64_t memory_reservation_bytes = 0;  // soft limit, 0 = none
  std::vector<PortBinding> ports;
  /// "bridge", "host", "none", "container:<id>", or a user-defined network name.
  std::string network_mode = "bridge";
  std::string ipv4_address;                  // fixed IP on a user-defined network
  std::vector<std::string> network_aliases;  // on a user-defined network
  std::vector<std::string> binds;            // "source:target[:ro]" (host path or named volume)
  std::vector<std::string> volumes_from;     // "container[:ro]"
  std::vector<std::string> links;            // "container:alias"
  std::vector<std::string> extra_hosts;      // "host:ip"
  std::vector<std::string> dns_servers, dns_search;
  std::vector<Ulimit> ulimits;
  std::vector<std::string> cap_add, cap_drop;
  bool readonly_rootfs = false, privileged = false, init = false;
  std::optional<HealthCheck> health;
  int stop_timeout_seconds = 30;
  std::string stop_signal;
  std::string log_driver;  // "" = engine default
  std::map<std::string, std::string> log_options;
  std::map<std::string, std::string> sysctls;
  std::int64_t shm_size_bytes = 0;
};

struct ContainerState {
  std::string id, name, image, image_id;
  std::map<std::string, std::string> labels;
  std::string status;  // created, running, paused, restarting, removing, exited, dead
  int exit_code = 0;
  bool oom_killed = false;
  std::string error;   // engine error (e.g. start failure)
  std::string health;  // "", "starting", "healthy", "unhealthy"
  double started_at = 0, finished_at = 0;  // epoch seconds, 0 when unset
  std::vector<PortBinding> ports;          // actual bindings (host ports resolved)
  std::map<std::string, std::string> network_ips;  // network name -> IPv4 address
  int pid = 0;
};

struct NetworkSpec {
  std::string name;
  std::string subnet;   // CIDR, e.g. "172.31.0.0/20"; "" = engine chooses
  std::string gateway;  // "" = engine chooses
  std::map<std::string, std::string> labels;
};

/// One engine event about a container (die, start, health_status, oom, destroy...).
struct Event {
  std::string container_id;
  std::string action;  // "start", "die", "health_status: healthy", "oom", "destroy", ...
  std::map<std::string, std::string> labels;
};

/// One line of container output, as the engine timestamped it.
struct LogLine {
  bool is_stderr = false;
  std::int64_t ts_ns = 0;  // engine receive time, epoch nanoseconds
  std::string text;        // without the trailing newline
};
/// Receives lines in order; an empty batch is an idle tick (about every stop poll while quiet).
using LogSink = std::function<void(std::vector<LogLine>&)>;

/// Credentials for pulling from a registry (ECR, later).
struct RegistryAuth {
  std::string username, password, server;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  /// @return true when the engine answers.
  virtual bool ping() = 0;
  /// @return true when `image` (name:tag or name@digest) is present locally.
  virtual bool image_present(const std::string& image) = 0;
  /// Pulls `image`; blocks until done. @throws RuntimeError (NotFound for an unknown image/repository).
  virtual void pull_image(const std::string& image, const RegistryAuth* auth) = 0;
  /// Creates a container. @return its id. @throws RuntimeError (Conflict when the name is taken).
  virtual std::string create_container(const ContainerSpec& spec) = 0;
  virtual void start_container(const std::string& id) = 0;
  /// Sends the stop signal, then SIGKILL after `timeout_seconds`. A stopped container is not an error.
  virtual void stop_container(const std::string& id, int timeout_seconds) = 0;
  /// Removes a container (force kills a running one). A missing container is not an error.
  virtual void remove_container(const std::string& id, bool force) = 0;
  /// @return the container's state, or nullopt when it does not exist.
  virtual std::optional<ContainerState> inspect_container(const std::string& id) = 0;
  /// @return containers (running and stopped) carrying every label in `labels` ("key" or "key=value"),
  /// every field as inspect_container() gives it (the Docker client inspects each listed container).
  virtual std::vector<ContainerState> list_containers(const std::vector<std::string>& labels) = 0;
  /// Like list_containers(), from the engine's list alone (one call, no inspect): only id, name, image,
  /// labels and status are set; exit code, health, times, ports, addresses and pid are not.
  virtual std::vector<ContainerState> list_containers_brief(const std::vector<std::string>& labels) = 0;
  /// Creates the network unless one of that name exists. @return its id.
  virtual std::string ensure_network(const NetworkSpec& spec) = 0;
  /// Removes a network. A missing network is not an error.
  virtual void remove_network(const std::string& name) = 0;
  /// @return names of networks carrying every label in `labels`.
  virtual std::vector<std::string> list_networks(const std::vector<std::string>& labels) = 0;
  /// Creates a named volume with `labels` unless it exists.
  virtual void ensure_volume(const std::string& name, const std::map<std::string, std::string>& labels) = 0;
  /// Removes every volume carrying all of `labels` that no container uses; @return how many went.
  virtual int remove_volumes(const std::vector<std::string>& labels) = 0;
  /// Follows engine container events carrying every label in `labels`, calling `on_event` for
  /// each, until `stop` becomes true or the stream breaks. Blocks. @throws RuntimeError when the
  /// engine cannot be reached. Must notice `stop` within about a second.
  virtual void watch_events(const std::vector<std::string>& labels, const std::function<void(const Event&)>& on_event,
                            const std::atomic<bool>& stop) = 0;
  /// @return up to `tail` last lines... of stdout+stderr, demultiplexed ("" when none).
  virtual std::string container_logs(const std::string& id, int tail) = 0;
  /// Reads the container's stdout and stderr from `since_ns` (inclusive; 0 = the beginning) with
  /// timestamps, calling `on_lines` per received chunk and with idle ticks. With `follow` it
  /// returns once the container has stopped and its output is drained, or when `stop` becomes true.
  /// @throws RuntimeError (NotFound for a missing container, Unavailable when the stream breaks).
  virtual void follow_logs(const std::string& id, std::int64_t since_ns, bool follow, const LogSink& on_lines,
                           const std::atomic<bool>& stop) = 0;
  /// @return the engine's one-shot stats document for the container as JSON text.
  /// @throws RuntimeError NotFound for a missing container.
  virtual std::string container_stats(const std::string& id) = 0;
  /// @return the IPv4 gateway address of network `name` ("" when it has none or does not exist).
  virtual std::string network_gateway(const std::string& name) = 0;
};

}  // namespace ecsd::runtime

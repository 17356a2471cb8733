// The task metadata endpoint (v3 and v4) and the task role credentials endpoint, reachable from
// task containers.
//
// Real ECS serves these at 169.254.170.2, an address the agent routes to itself. ecsd does not
// change the host's addresses or firewall; instead it listens, on one port, on 127.0.0.1 (host
// networking) and on the gateway address of each Docker bridge network its task containers sit
// on (docker0 for bridge mode, the ecsd-<subnet> networks for awsvpc). Those gateway addresses
// belong to this host, so nothing leaves it. Paths carry unguessable per-container tokens:
//
//   /v4/<token>              container document       /v4/<token>/task        task document
//   /v4/<token>/stats        the engine's stats       /v4/<token>/task/stats  stats by DockerId
//   /v3/<token>...           the same, v3 fields      /v2/credentials/<id>    task role credentials
//
// For tasks with a taskRoleArn it also listens at 169.254.170.2:80 inside the container's own network
// namespace (the address added to that namespace's loopback; see netns_listener.hpp), which is where
// SDKs resolve AWS_CONTAINER_CREDENTIALS_RELATIVE_URI. That needs root; without it the full URI on
// the gateway remains.
//
// Tokens are recorded in the meta table by the reconciler when it creates the container:
//   mdtoken:<token> -> {"task": arn, "container": name}
//   mdcred:<id>     -> {"task": arn}
//   taskcred:<AKID> -> {"task": arn, "role": role ARN}   (lets the API recognise the key)
#pragma once
#include <memory>
#include <string>

#include "ecsd/protocol/wire.hpp"
#include "ecsd/runtime/runtime.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::metadata {

struct Options {
  std::string availability_zone_suffix = "a";  // AvailabilityZone is "<region><suffix>"
  int threads = 2;                              // handlers may wait on the engine (stats)
};

class MetadataServer {
 public:
  /// Starts listening on 127.0.0.1 (an ephemeral port) on its own I/O threads.
  /// @param runtime the engine, for container details and stats (may be null: no stats).
  MetadataServer(store::Store& store, runtime::ContainerRuntime* runtime, Options options = {});
  ~MetadataServer();

  /// Also listens on `address` (an address of this host), on the same port when it is free.
  /// Thread-safe. @return "http://<address>:<port>", or "" when it cannot listen there.
  std::string endpoint_on(const std::string& address);
  /// Also serves at 169.254.170.2:80 inside the network namespace of container `container_id`
  /// (process `pid`), where AWS SDKs look for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI. Idempotent per
  /// (container, pid). Thread-safe. @return false when it cannot (e.g. ecsd is not root).
  bool serve_link_local(const std::string& container_id, int pid);
  /// Stops serving inside that container's namespace (the socket would keep the namespace alive).
  void release_link_local(const std::string& container_id);
  /// Releases every container's link-local listener.
  void release_all_link_local();
  /// @return the loopback port.
  unsigned short port() const;
  /// Answers one request (exposed for tests; the listeners call it).
  protocol::WireResponse handle(const protocol::WireRequest& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// @return fresh temporary credentials for `role_arn`: {AccessKeyId (ASIA...), SecretAccessKey, Token}.
nlohmann::json new_task_credentials(const std::string& role_arn);

}  // namespace ecsd::metadata

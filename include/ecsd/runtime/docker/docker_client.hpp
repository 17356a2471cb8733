// The Docker Engine client: ContainerRuntime over the Engine API (v1.41, dockerd 20.10) on the
// engine's unix socket. The only module that talks to Docker; it never runs the docker CLI.
// Each call opens its own connection, so a DockerClient is thread-safe and holds no I/O state.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ecsd/runtime/runtime.hpp"

namespace ecsd::runtime {

/// How long a call may wait. Each limit applies to one step (connect, write, or one read), so a
/// long pull that keeps reporting progress is not cut off.
struct DockerTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds request{60000};     // any read or write of an ordinary call
  std::chrono::milliseconds pull_idle{300000};  // silence allowed in an image pull's progress stream
  std::chrono::milliseconds ping{5000};
  /// How often a blocking read re-checks a stop flag (watch_events).
  std::chrono::milliseconds stop_poll{250};
};

class DockerClient final : public ContainerRuntime {
 public:
  /// @param socket_path the engine's unix socket, e.g. "/var/run/docker.sock".
  /// @param timeouts per-step limits; the defaults suit a local engine.
  explicit DockerClient(std::string socket_path = default_socket_path(), DockerTimeouts timeouts = {});

  /// @return the socket named by DOCKER_HOST=unix:///path, else "/var/run/docker.sock"
  /// (a non-unix DOCKER_HOST is logged and ignored).
  static std::string default_socket_path();

  const std::string& socket_path() const { return socket_path_; }

  bool ping() override;
  bool image_present(const std::string& image) override;
  void pull_image(const std::string& image, const RegistryAuth* auth) override;
  std::string create_container(const ContainerSpec& spec) override;
  void start_container(const std::string& id) override;
  void stop_container(const std::string& id, int timeout_seconds) override;
  void remove_container(const std::string& id, bool force) override;
  std::optional<ContainerState> inspect_container(const std::string& id) override;
  /// Lists by label, then inspects each container so every field matches inspect_container().
  std::vector<ContainerState> list_containers(const std::vector<std::string>& labels) override;
  std::vector<ContainerState> list_containers_brief(const std::vector<std::string>& labels) override;
  std::string ensure_network(const NetworkSpec& spec) override;
  void remove_network(const std::string& name) override;
  std::vector<std::string> list_networks(const std::vector<std::string>& labels) override;
  void ensure_volume(const std::string& name, const std::map<std::string, std::string>& labels) override;
  int remove_volumes(const std::vector<std::string>& labels) override;
  void watch_events(const std::vector<std::string>& labels, const std::function<void(const Event&)>& on_event,
                    const std::atomic<bool>& stop) override;
  /// A negative `tail` returns the whole log. @throws RuntimeError NotFound for a missing container.
  std::string container_logs(const std::string& id, int tail) override;
  void follow_logs(const std::string& id, std::int64_t since_ns, bool follow, const LogSink& on_lines,
                   const std::atomic<bool>& stop) override;
  std::string container_stats(const std::string& id) override;
  std::string network_gateway(const std::string& name) override;

 private:
  /// One request as the engine sees it; the body is JSON or empty.
  struct Call {
    Call(std::string m, std::string t, std::string b = {})
        : method(std::move(m)), target(std::move(t)), body(std::move(b)) {}
    std::string method;  // "GET", "POST", "DELETE"
    std::string target;  // path and query after the API version prefix, e.g. "/containers/json?all=1"
    std::string body;
    std::map<std::string, std::string> headers;
    std::chrono::milliseconds timeout{0};  // limit for each write and read; 0 = timeouts_.request
    bool unbounded_body = false;           // a stream that may stay quiet indefinitely (events)
  };
  struct Reply {
    int status = 0;
    std::string content_type;
    std::string body;
  };
  /// Receives 2xx body bytes as they arrive instead of collecting them in Reply::body.
  using BodySink = std::function<void(std::string_view)>;

  /// Sends `call` on a new connection and reads the whole reply (or streams a 2xx body into
  /// `sink`), stopping early without error when `stop` becomes true.
  /// @throws RuntimeError Unavailable when the engine cannot be reached or a step times out.
  /// `tick`, when given, runs between waits (about every stop_poll) on the calling thread.
  Reply send(const Call& call, const BodySink& sink = nullptr, const std::atomic<bool>* stop = nullptr,
             const std::function<void()>* tick = nullptr);
  void note_reachable(bool reachable, const std::string& detail);

  std::string socket_path_;
  DockerTimeouts timeouts_;
  /// 0 unknown, 1 reachable, 2 unreachable: logs once per transition instead of once per call.
  std::atomic<int> engine_state_{0};
};

/// Engine wire mapping without I/O (docker_mapping.cpp), exposed for unit tests.
namespace docker {

/// @return the POST /containers/create body for `spec`.
nlohmann::json create_body(const ContainerSpec& spec);
/// @return the state from a GET /containers/{id}/json body.
ContainerState parse_inspect(const nlohmann::json& j);
/// @return id, name, image, labels and status from one entry of a GET /containers/json body.
ContainerState parse_summary(const nlohmann::json& j);
/// @return an event from one /events object (container_id empty when it is not a container event).
Event parse_event(const nlohmann::json& j);
/// Engine RFC 3339 time (nanosecond fraction) to epoch seconds; the zero time and junk give 0.
double parse_engine_time(const std::string& s);

/// An image reference split the way the engine's pull API wants it.
struct ImageRef {
  std::string from_image;  // repository with registry host, e.g. "127.0.0.1:5000/app"
  std::string tag;         // tag or digest ("sha256:..."); "latest" when the reference has neither
};
ImageRef split_image_ref(const std::string& image);
/// @return the X-Registry-Auth header value (base64url JSON) for `auth`.
std::string registry_auth_header(const RegistryAuth& auth);
/// @return the label filter JSON for a query: {"label":[...]} plus {"type":[type]} when given.
std::string label_filters(const std::vector<std::string>& labels, const std::string& type = "");
/// Percent-encodes everything but unreserved characters (and '/', ':', '@' when `keep_path`).
std::string url_encode(std::string_view s, bool keep_path = false);
/// Demultiplexes an 8-byte-header log stream (stdout+stderr); a raw (TTY) stream is returned as is.
std::string demux_logs(std::string_view raw);
/// Splits a /containers/{id}/logs?timestamps=1 byte stream (multiplexed 8-byte frame headers, or a
/// raw TTY stream) into lines. Partial frames and lines split across frames are kept for later.
class LogStreamDecoder {
 public:
  /// Appends complete lines found in `data` to `out`.
  void feed(std::string_view data, std::vector<LogLine>& out);
  /// Flushes a last line without a newline.
  void finish(std::vector<LogLine>& out);

 private:
  void payload(bool is_stderr, std::string_view text, std::vector<LogLine>& out);
  void emit(bool is_stderr, std::string& pending, std::vector<LogLine>& out);
  std::string buffer_;
  int mode_ = 0;  // 0 unknown, 1 multiplexed, 2 raw
  std::string pending_[2];  // per stream: "<timestamp> text" of an unfinished line
};
/// Parses an RFC 3339 time with up to nanosecond fraction. @return epoch nanoseconds, or -1.
std::int64_t parse_time_ns(std::string_view s);
/// @return the first host address of an IPv4 CIDR ("172.31.0.0/20" -> "172.31.0.1"), "" for junk.
std::string first_host_address(const std::string& cidr);
/// @return `ns` as the engine's since= form "seconds.nanoseconds".
std::string since_param(std::int64_t ns);
/// Classifies an engine error (HTTP status and message) into a RuntimeError kind.
RuntimeError::Kind error_kind(int status, const std::string& message);
/// Classifies an error object in a pull progress stream by its message.
RuntimeError::Kind pull_error_kind(const std::string& message);

}  // namespace docker
}  // namespace ecsd::runtime

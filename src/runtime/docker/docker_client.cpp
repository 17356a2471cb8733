// Docker Engine API client over the unix socket: HTTP/1.1 with Beast, one connection per call.
// The only translation unit with Beast client templates; the JSON mapping is in docker_mapping.cpp.
#include "ecsd/runtime/docker/docker_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ecsd/common/asio.hpp"

namespace ecsd::runtime {

namespace {

using local = asio::local::stream_protocol;
namespace http = beast::http;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kApiPrefix = "/v1.41";
constexpr milliseconds kNoLimit = milliseconds::max();

/// One connection with its own io_context. Every step is an async operation driven by run_for(),
/// which gives it a deadline and lets a stop flag interrupt it without losing buffered data: an
/// unfinished read simply stays pending across slices.
class Connection {
 public:
  enum class Outcome { Done, TimedOut, Stopped };

  Connection(const std::atomic<bool>* stop, milliseconds poll, const std::function<void()>* tick = nullptr)
      : stop_(stop), poll_(poll), tick_(tick) {}
  ~Connection() { abandon(); }

  local::socket& socket() { return socket_; }

  /// Starts an operation with `start(handler)` and runs it to completion, timeout or stop.
  /// @param ec the operation's result when the outcome is Done.
  template <typename Start>
  Outcome run(Start&& start, milliseconds timeout, beast::error_code& ec) {
    bool done = false;
    start([&](beast::error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    auto deadline = timeout == kNoLimit ? SteadyClock::time_point::max() : SteadyClock::now() + timeout;
    while (!done) {
      if (stop_ && stop_->load()) {
        abandon();
        return Outcome::Stopped;
      }
      auto now = SteadyClock::now();
      if (now >= deadline) {
        abandon();
        return Outcome::TimedOut;
      }
      ioc_.restart();
      ioc_.run_for(std::min<SteadyClock::duration>(deadline - now, poll_));
      if (tick_ && !done) (*tick_)();
    }
    return Outcome::Done;
  }

 private:
  /// Closes the socket and runs the aborted handlers, which refer to the caller's stack.
  void abandon() {
    beast::error_code ignored;
    socket_.close(ignored);
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_{1};
  local::socket socket_{ioc_};
  const std::atomic<bool>* stop_;
  milliseconds poll_;
  const std::function<void()>* tick_;
};

http::verb verb_of(const std::string& method) {
  if (method == "POST") return http::verb::post;
  if (method == "DELETE") return http::verb::delete_;
  if (method == "PUT") return http::verb::put;
  return http::verb::get;
}

/// The engine's error message: {"message": "..."} or the raw body.
std::string engine_message(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return body.empty() ? std::string("(no message)") : body;
}

json parse_json(const std::string& body, const std::string& what) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw RuntimeError(RuntimeError::Kind::Internal, what + ": engine sent invalid JSON");
  return j;
}

/// Splits newline-delimited JSON objects out of a byte stream, keeping a partial line for later.
class JsonLines {
 public:
  template <typename F>
  void feed(std::string_view data, F&& on_object) {
    pending_.append(data);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      emit(std::string_view(pending_).substr(start, nl - start), on_object);
    pending_.erase(0, start);
  }
  /// Handles a last object without a trailing newline.
  template <typename F>
  void finish(F&& on_object) {
    emit(pending_, on_object);
    pending_.clear();
  }

 private:
  template <typename F>
  static void emit(std::string_view line, F& on_object) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (line.empty()) return;
    auto j = json::parse(line, nullptr, false);
    if (j.is_object()) on_object(j);
  }
  std::string pending_;
};

}  // namespace

DockerClient::DockerClient(std::string socket_path, DockerTimeouts timeouts)
    : socket_path_(std::move(socket_path)), timeouts_(timeouts) {}

std::string DockerClient::default_socket_path() {
  constexpr std::string_view kUnix = "unix://";
  const char* host = std::getenv("DOCKER_HOST");
  if (host && *host) {
    std::string_view h(host);
    if (h.substr(0, kUnix.size()) == kUnix) return std::string(h.substr(kUnix.size()));
    spdlog::warn("DOCKER_HOST={} is not a unix socket; using /var/run/docker.sock", h);
  }
  return "/var/run/docker.sock";
}

void DockerClient::note_reachable(bool reachable, const std::string& detail) {
  int previous = engine_state_.exchange(reachable ? 1 : 2);
  if (!reachable && previous != 2)
    spdlog::warn("Docker engine unavailable at {}: {} (not logged again until it answers)", socket_path_, detail);
  else if (reachable && previous == 2)
    spdlog::info("Docker engine at {} answers again", socket_path_);
}

DockerClient::Reply DockerClient::send(const Call& call, const BodySink& sink, const std::atomic<bool>* stop,
                                       const std::function<void()>* tick) {
  using Outcome = Connection::Outcome;
  const std::string what = call.method + " " + call.target;
  const milliseconds step = call.timeout.count() > 0 ? call.timeout : timeouts_.request;
  Connection conn(stop, timeouts_.stop_poll, tick);
  beast::error_code ec;
  auto unavailable = [&](const std::string& why) {
    return RuntimeError(RuntimeError::Kind::Unavailable, "Docker engine at " + socket_path_ + ": " + what + ": " + why);
  };
  // Timeouts and broken streams after connecting mean a stuck or restarting engine: Unavailable too.
  auto check = [&](Outcome outcome, const char* step_name) {
    if (outcome == Outcome::TimedOut) throw unavailable(std::string(step_name) + " timed out");
    if (outcome == Outcome::Done && ec) throw unavailable(std::string(step_name) + " failed: " + ec.message());
    return outcome == Outcome::Done;
  };

  Outcome outcome = conn.run(
      [&](auto handler) { conn.socket().async_connect(local::endpoint(socket_path_), std::move(handler)); },
      timeouts_.connect, ec);
  if (outcome == Outcome::Stopped) return {};
  if (outcome == Outcome::TimedOut || ec) {
    std::string why = outcome == Outcome::TimedOut ? "connect timed out" : "cannot connect: " + ec.message();
    note_reachable(false, why);
    throw unavailable(why);
  }
  note_reachable(true, "");

  http::request<http::string_body> req{verb_of(call.method), std::string(kApiPrefix) + call.target, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "ecsd");
  req.keep_alive(false);
  for (const auto& [name, value] : call.headers) req.set(name, value);
  if (!call.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = call.body;
  }
  req.prepare_payload();
  if (!check(conn.run([&](auto handler) { http::async_write(conn.socket(), req, std::move(handler)); }, step, ec),
             "write"))
    return {};

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (!check(conn.run([&](auto handler) { http::async_read_header(conn.socket(), buffer, parser, std::move(handler)); },
                      step, ec),
             "read"))
    return {};

  Reply reply;
  reply.status = parser.get().result_int();
  reply.content_type = std::string(parser.get()[http::field::content_type]);
  const bool streaming = sink && reply.status / 100 == 2;
  const milliseconds body_step = call.unbounded_body ? kNoLimit : step;
  char chunk[16384];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    outcome = conn.run(
        [&](auto handler) { http::async_read_some(conn.socket(), buffer, parser, std::move(handler)); }, body_step, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (!check(outcome, "read")) return reply;
    std::string_view data(chunk, sizeof chunk - parser.get().body().size);
    if (data.empty()) continue;
    if (streaming)
      sink(data);
    else
      reply.body.append(data);
  }
  return reply;
}

namespace {

[[noreturn]] void fail(int status, const std::string& body, const std::string& what) {
  std::string message = engine_message(body);
  throw RuntimeError(docker::error_kind(status, message), what + ": " + message, status);
}

}  // namespace

bool DockerClient::ping() {
  try {
    Call call{"GET", "/_ping"};
    call.timeout = timeouts_.ping;
    Reply r = send(call);
    return r.status == 200 && r.body == "OK";
  } catch (const RuntimeError& e) {
    spdlog::debug("docker ping: {}", e.what());
    return false;
  }
}

bool DockerClient::image_present(const std::string& image) {
  Reply r = send({"GET", "/images/" + docker::url_encode(image, true) + "/json"});
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  fail(r.status, r.body, "inspect image " + image);
}

void DockerClient::pull_image(const std::string& image, const RegistryAuth* auth) {
  docker::ImageRef ref = docker::split_image_ref(image);
  Call call{"POST", "/images/create?fromImage=" + docker::url_encode(ref.from_image) +
                        "&tag=" + docker::url_encode(ref.tag)};
  if (auth) call.headers["X-Registry-Auth"] = docker::registry_auth_header(*auth);
  call.timeout = timeouts_.pull_idle;
  // A 200 only means the pull started: failures arrive in the progress stream as
  // {"errorDetail": {"message": "..."}, "error": "..."}.
  std::string error;
  auto on_object = [&](const json& j) {
    if (!error.empty()) return;
    if (j.contains("error") && j["error"].is_string()) error = j["error"].get<std::string>();
    else if (j.contains("errorDetail") && j["errorDetail"].is_object())
      error = j["errorDetail"].value("message", std::string("unknown pull error"));
  };
  JsonLines lines;
  Reply r = send(call, [&](std::string_view data) { lines.feed(data, on_object); });
  if (r.status / 100 != 2) fail(r.status, r.body, "pull " + image);
  lines.finish(on_object);
  if (!error.empty()) throw RuntimeError(docker::pull_error_kind(error), "pull " + image + ": " + error, r.status);
  spdlog::info("pulled image {}", image);
}

std::string DockerClient::create_container(const ContainerSpec& spec) {
  Reply r = send({"POST", "/containers/create?name=" + docker::url_encode(spec.name), docker::create_body(spec).dump()});
  if (r.status != 201) fail(r.status, r.body, "create container " + spec.name);
  json j = parse_json(r.body, "create container " + spec.name);
  if (j.contains("Warnings") && j["Warnings"].is_array())
    for (const auto& w : j["Warnings"])
      if (w.is_string()) spdlog::warn("create container {}: engine warning: {}", spec.name, w.get<std::string>());
  std::string id = j.value("Id", std::string());
  if (id.empty()) throw RuntimeError(RuntimeError::Kind::Internal, "create container " + spec.name + ": no Id", r.status);
  return id;
}

void DockerClient::start_container(const std::string& id) {
  Reply r = send({"POST", "/containers/" + docker::url_encode(id) + "/start"});
  if (r.status == 204 || r.status == 304) return;  // 304: already running
  fail(r.status, r.body, "start container " + id);
}

void DockerClient::stop_container(const std::string& id, int timeout_seconds) {
  timeout_seconds = std::max(timeout_seconds, 0);
  Call call{"POST", "/containers/" + docker::url_encode(id) + "/stop?t=" + std::to_string(timeout_seconds)};
  // The engine answers only after the container exits, up to timeout_seconds later.
  call.timeout = std::chrono::seconds(timeout_seconds) + timeouts_.request;
  Reply r = send(call);
  if (r.status == 204 || r.status == 304 || r.status == 404) return;  // 304: already stopped
  fail(r.status, r.body, "stop container " + id);
}

void DockerClient::remove_container(const std::string& id, bool force) {
  Reply r = send({"DELETE", "/containers/" + docker::url_encode(id) + "?force=" + (force ? "1" : "0") + "&v=1"});
  if (r.status == 204 || r.status == 404) return;
  std::string message = engine_message(r.body);
  if (r.status == 409 && message.find("already in progress") != std::string::npos) return;
  fail(r.status, r.body, "remove container " + id);
}

std::optional<ContainerState> DockerClient::inspect_container(const std::string& id) {
  Reply r = send({"GET", "/containers/" + docker::url_encode(id) + "/json"});
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) fail(r.status, r.body, "inspect container " + id);
  return docker::parse_inspect(parse_json(r.body, "inspect container " + id));
}

std::vector<ContainerState> DockerClient::list_containers_brief(const std::vector<std::string>& labels) {
  Reply r = send({"GET", "/containers/json?all=1&filters=" + docker::url_encode(docker::label_filters(labels))});
  if (r.status != 200) fail(r.status, r.body, "list containers");
  std::vector<ContainerState> out;
  for (const auto& c : parse_json(r.body, "list containers"))
    if (c.is_object() && c.contains("Id") && c["Id"].is_string()) out.push_back(docker::parse_summary(c));
  return out;
}

std::vector<ContainerState> DockerClient::list_containers(const std::vector<std::string>& labels) {
  std::vector<ContainerState> out;
  for (const auto& c : list_containers_brief(labels)) {
    // The summary lacks exit code, health and times; a container removed meanwhile is skipped.
    if (auto st = inspect_container(c.id)) out.push_back(std::move(*st));
  }
  return out;
}

std::string DockerClient::ensure_network(const NetworkSpec& spec) {
  auto existing = [&]() -> std::string {
    Reply r = send({"GET", "/networks/" + docker::url_encode(spec.name)});
    if (r.status == 404) return {};
    if (r.status != 200) fail(r.status, r.body, "inspect network " + spec.name);
    json j = parse_json(r.body, "inspect network " + spec.name);
    // The engine also matches an id prefix; only an exact name counts.
    return j.value("Name", std::string()) == spec.name ? j.value("Id", std::string()) : std::string();
  };
  if (std::string id = existing(); !id.empty()) return id;

  json body = {{"Name", spec.name}, {"Driver", "bridge"}, {"CheckDuplicate", true}, {"Labels", spec.labels}};
  if (!spec.subnet.empty()) {
    json config = {{"Subnet", spec.subnet}};
    if (!spec.gateway.empty()) config["Gateway"] = spec.gateway;
    body["IPAM"] = {{"Driver", "default"}, {"Config", json::array({config})}};
  }
  Reply r = send({"POST", "/networks/create", body.dump()});
  if (r.status == 201) {
    json j = parse_json(r.body, "create network " + spec.name);
    std::string warning = j.value("Warning", std::string());
    if (!warning.empty()) spdlog::warn("create network {}: engine warning: {}", spec.name, warning);
    return j.value("Id", std::string());
  }
  if (r.status == 409) {  // created concurrently
    if (std::string id = existing(); !id.empty()) return id;
  }
  fail(r.status, r.body, "create network " + spec.name);
}

void DockerClient::remove_network(const std::string& name) {
  Reply r = send({"DELETE", "/networks/" + docker::url_encode(name)});
  if (r.status == 204 || r.status == 200 || r.status == 404) return;
  fail(r.status, r.body, "remove network " + name);
}

void DockerClient::ensure_volume(const std::string& name, const std::map<std::string, std::string>& labels) {
  Reply r = send({"GET", "/volumes/" + docker::url_encode(name)});
  if (r.status == 200) return;
  if (r.status != 404) fail(r.status, r.body, "inspect volume " + name);
  json body = {{"Name", name}, {"Driver", "local"}, {"Labels", labels}};
  Reply c = send({"POST", "/volumes/create", body.dump()});
  if (c.status != 201 && c.status != 200) fail(c.status, c.body, "create volume " + name);
}

int DockerClient::remove_volumes(const std::vector<std::string>& labels) {
  Reply r = send({"GET", "/volumes?filters=" + docker::url_encode(docker::label_filters(labels))});
  if (r.status != 200) fail(r.status, r.body, "list volumes");
  int removed = 0;
  json list = parse_json(r.body, "list volumes");
  for (const auto& v : list.value("Volumes", json::array())) {
    if (!v.is_object() || !v.contains("Name")) continue;
    Reply d = send({"DELETE", "/volumes/" + docker::url_encode(v["Name"].get<std::string>())});
    if (d.status == 204 || d.status == 200) ++removed;  // 409: still in use, left for a later sweep
  }
  return removed;
}

std::vector<std::string> DockerClient::list_networks(const std::vector<std::string>& labels) {
  Reply r = send({"GET", "/networks?filters=" + docker::url_encode(docker::label_filters(labels))});
  if (r.status != 200) fail(r.status, r.body, "list networks");
  std::vector<std::string> out;
  for (const auto& n : parse_json(r.body, "list networks"))
    if (n.is_object() && n.contains("Name") && n["Name"].is_string()) out.push_back(n["Name"].get<std::string>());
  return out;
}

void DockerClient::watch_events(const std::vector<std::string>& labels,
                                const std::function<void(const Event&)>& on_event, const std::atomic<bool>& stop) {
  Call call{"GET", "/events?filters=" + docker::url_encode(docker::label_filters(labels, "container"))};
  call.unbounded_body = true;  // quiet for as long as nothing happens
  auto on_object = [&](const json& j) {
    Event e = docker::parse_event(j);
    // Every health check run is an exec_create/exec_start/exec_die triple: noise for callers.
    if (e.container_id.empty() || e.action.rfind("exec_", 0) == 0) return;
    on_event(e);
  };
  JsonLines lines;
  Reply r = send(call, [&](std::string_view data) { lines.feed(data, on_object); }, &stop);
  if (stop) return;
  if (r.status != 200) fail(r.status, r.body, "watch events");
  lines.finish(on_object);
  spdlog::info("Docker event stream ended");
}

std::string DockerClient::container_logs(const std::string& id, int tail) {
  Reply r = send({"GET", "/containers/" + docker::url_encode(id) + "/logs?stdout=1&stderr=1&tail=" +
                             (tail < 0 ? std::string("all") : std::to_string(tail))});
  if (r.status != 200) fail(r.status, r.body, "logs of container " + id);
  return docker::demux_logs(r.body);
}

void DockerClient::follow_logs(const std::string& id, std::int64_t since_ns, bool follow, const LogSink& on_lines,
                               const std::atomic<bool>& stop) {
  std::string target = "/containers/" + docker::url_encode(id) + "/logs?stdout=1&stderr=1&timestamps=1&follow=" +
                       (follow ? "1" : "0");
  if (since_ns > 0) target += "&since=" + docker::since_param(since_ns);
  Call call{"GET", target};
  call.unbounded_body = true;  // a quiet container sends nothing for as long as it likes
  docker::LogStreamDecoder decoder;
  std::vector<LogLine> lines;
  std::function<void()> tick = [&] {
    lines.clear();
    on_lines(lines);
  };
  Reply r = send(
      call,
      [&](std::string_view data) {
        lines.clear();
        decoder.feed(data, lines);
        if (!lines.empty()) on_lines(lines);
      },
      &stop, &tick);
  if (stop) return;
  if (r.status / 100 != 2) fail(r.status, r.body, "logs of container " + id);
  lines.clear();
  decoder.finish(lines);
  if (!lines.empty()) on_lines(lines);
}

std::string DockerClient::container_stats(const std::string& id) {
  Reply r = send({"GET", "/containers/" + docker::url_encode(id) + "/stats?stream=false"});
  if (r.status != 200) fail(r.status, r.body, "stats of container " + id);
  return r.body;
}

std::string DockerClient::network_gateway(const std::string& name) {
  Reply r = send({"GET", "/networks/" + docker::url_encode(name)});
  if (r.status == 404) return "";
  if (r.status != 200) fail(r.status, r.body, "inspect network " + name);
  json j = parse_json(r.body, "inspect network " + name);
  if (!j.contains("IPAM") || !j["IPAM"].is_object()) return "";
  for (const auto& c : j["IPAM"].value("Config", json::array())) {
    if (!c.is_object()) continue;
    std::string gw = c.value("Gateway", std::string());
    if (!gw.empty() && gw.find(':') == std::string::npos) return gw;
    // A network created with only a subnet does not list its gateway: the default IPAM driver
    // gives the gateway the subnet's first address.
    if (gw.empty()) gw = docker::first_host_address(c.value("Subnet", std::string()));
    if (!gw.empty()) return gw;
  }
  return "";
}

}  // namespace ecsd::runtime

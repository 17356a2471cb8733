// A fake container runtime for reconciler tests: containers are records that tests move
// between states by hand (exit, health) instead of processes. `calls` logs the engine round trips
// the real Docker client would make ("list" + one "inspect" per listed container, "list-brief" alone).
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "ecsd/runtime/runtime.hpp"

namespace ecsd::fakes {

class FakeRuntime : public runtime::ContainerRuntime {
 public:
  bool available = true;
  std::set<std::string> images{"busybox:latest"};
  std::map<std::string, runtime::ContainerSpec> specs;    // id -> spec
  std::map<std::string, runtime::ContainerState> states;  // id -> state
  std::vector<std::string> calls;                          // "create name", "start id", "stop id", ...
  int next_port = 32768;
  int next_id = 1;
  /// Called by start_container before it acts (a test can remove the container there).
  std::function<void(const std::string& id)> on_start;

  void check() {
    if (!available) throw runtime::RuntimeError(runtime::RuntimeError::Kind::Unavailable, "engine down");
  }
  bool ping() override { return available; }
  bool image_present(const std::string& image) override {
    check();
    calls.push_back("image " + image);
    return images.count(image) > 0;
  }
  void pull_image(const std::string& image, const runtime::RegistryAuth*) override {
    check();
    calls.push_back("pull " + image);
    if (image.find("missing") != std::string::npos)
      throw runtime::RuntimeError(runtime::RuntimeError::Kind::NotFound, "manifest unknown");
    images.insert(image);
  }
  std::string create_container(const runtime::ContainerSpec& spec) override {
    check();
    for (const auto& [id, st] : states)
      if (st.name == spec.name) throw runtime::RuntimeError(runtime::RuntimeError::Kind::Conflict, "name in use");
    if (!images.count(spec.image))  // as the engine: 404 "No such image", nothing created
      throw runtime::RuntimeError(runtime::RuntimeError::Kind::NotFound, "No such image: " + spec.image, 404);
    std::string id = "c" + std::to_string(next_id++);
    specs[id] = spec;
    runtime::ContainerState st;
    st.id = id;
    st.name = spec.name;
    st.image = spec.image;
    st.labels = spec.labels;
    st.status = "created";
    states[id] = st;
    calls.push_back("create " + spec.name);
    return id;
  }
  void start_container(const std::string& id) override {
    check();
    if (on_start) on_start(id);
    if (!states.count(id))
      throw runtime::RuntimeError(runtime::RuntimeError::Kind::NotFound, "No such container: " + id, 404);
    auto& st = states.at(id);
    st.status = "running";
    if (specs[id].health) st.health = "starting";
    for (auto p : specs[id].ports) {
      if (p.host_port == 0) p.host_port = next_port++;
      st.ports.push_back(p);
    }
    if (!specs[id].network_mode.empty() && specs[id].network_mode.rfind("container:", 0) != 0 &&
        specs[id].network_mode != "bridge" && specs[id].network_mode != "host" && specs[id].network_mode != "none")
      st.network_ips[specs[id].network_mode] = "10.9.0." + std::to_string(states.size() + 1);
    calls.push_back("start " + id);
  }
  void stop_container(const std::string& id, int) override {
    check();
    calls.push_back("stop " + id);
    auto it = states.find(id);
    if (it != states.end() && it->second.status == "running") exit(id, 143);
  }
  void remove_container(const std::string& id, bool) override {
    check();
    calls.push_back("remove " + id);
    states.erase(id);
  }
  std::optional<runtime::ContainerState> inspect_container(const std::string& id) override {
    check();
    calls.push_back("inspect " + id);
    auto it = states.find(id);
    if (it == states.end()) return std::nullopt;
    return it->second;
  }
  std::vector<runtime::ContainerState> list_containers(const std::vector<std::string>& labels) override {
    check();
    calls.push_back("list");
    auto out = matching(labels);
    for (const auto& c : out) calls.push_back("inspect " + c.id);
    return out;
  }
  std::vector<runtime::ContainerState> list_containers_brief(const std::vector<std::string>& labels) override {
    check();
    calls.push_back("list-brief");
    std::vector<runtime::ContainerState> out;
    for (const auto& full : matching(labels)) {  // what the engine's list has: no exit code, ports, pid...
      runtime::ContainerState c;
      c.id = full.id;
      c.name = full.name;
      c.image = full.image;
      c.labels = full.labels;
      c.status = full.status;
      out.push_back(c);
    }
    return out;
  }
  std::vector<runtime::ContainerState> matching(const std::vector<std::string>& labels) const {
    std::vector<runtime::ContainerState> out;
    for (const auto& [id, st] : states) {
      bool match = true;
      for (const auto& l : labels) {
        auto eq = l.find('=');
        auto it = st.labels.find(l.substr(0, eq));
        match = match && it != st.labels.end() && (eq == std::string::npos || it->second == l.substr(eq + 1));
      }
      if (match) out.push_back(st);
    }
    return out;
  }
  std::string ensure_network(const runtime::NetworkSpec& spec) override {
    check();
    networks.insert(spec.name);
    return spec.name;
  }
  void remove_network(const std::string& name) override { networks.erase(name); }
  std::vector<std::string> list_networks(const std::vector<std::string>&) override {
    return {networks.begin(), networks.end()};
  }
  void ensure_volume(const std::string& name, const std::map<std::string, std::string>&) override {
    volumes.insert(name);
  }
  int remove_volumes(const std::vector<std::string>&) override {
    int n = static_cast<int>(volumes.size());
    volumes.clear();
    return n;
  }
  std::set<std::string> volumes;
  void watch_events(const std::vector<std::string>&, const std::function<void(const runtime::Event&)>&,
                    const std::atomic<bool>&) override {}
  std::string container_logs(const std::string&, int) override { return ""; }
  void follow_logs(const std::string&, std::int64_t, bool, const runtime::LogSink&, const std::atomic<bool>&) override {}
  std::string container_stats(const std::string&) override { return "{}"; }
  std::map<std::string, std::string> gateways{{"bridge", "172.17.0.1"}};  // network -> gateway address
  std::string network_gateway(const std::string& name) override {
    calls.push_back("gateway " + name);
    auto it = gateways.find(name);
    return it == gateways.end() ? "" : it->second;
  }

  // --- test controls ---
  /// @return how many logged calls start with `prefix` ("list", "inspect ", "create ").
  std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c == prefix || c.rfind(prefix + " ", 0) == 0 ? 1 : 0;
    return n;
  }
  void exit(const std::string& id, int code, bool oom = false) {
    auto& st = states.at(id);
    st.status = "exited";
    st.exit_code = code;
    st.oom_killed = oom;
  }
  /// @return the id of the container named `container` of the task (by label), or "".
  std::string find(const std::string& task_arn, const std::string& container) const {
    for (const auto& [id, st] : states)
      if (st.labels.count("com.amazonaws.ecs.task-arn") && st.labels.at("com.amazonaws.ecs.task-arn") == task_arn &&
          st.labels.at("com.amazonaws.ecs.container-name") == container)
        return id;
    return "";
  }
  std::set<std::string> networks;
};

}  // namespace ecsd::fakes

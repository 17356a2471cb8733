// ECS container definition -> runtime ContainerSpec.
#include "ecsd/reconciler/container_spec.hpp"

#include <cmath>

#include "ecsd/common/clock.hpp"

#include <filesystem>
#include <fstream>

#include "ecsd/domain/tasks.hpp"

namespace ecsd::reconciler {

using nlohmann::json;

namespace {

const json* override_for(const json& overrides, const std::string& name) {
  // Iterate the member itself: value() would return a copy and the pointer would dangle.
  if (!overrides.is_object() || !overrides.contains("containerOverrides") || !overrides["containerOverrides"].is_array())
    return nullptr;
  for (const auto& o : overrides["containerOverrides"])
    if (o.value("name", "") == name) return &o;
  return nullptr;
}

std::vector<std::string> strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// Reads KEY=VALUE lines from a local environment file (ECS's environmentFiles, with a local path
// or file:// URL standing in for the S3 object).
void read_env_file(const std::string& value, std::vector<std::pair<std::string, std::string>>& env) {
  std::string path = value.rfind("file://", 0) == 0 ? value.substr(7) : value;
  std::ifstream in(path);
  if (!in) throw SpecError("ResourceInitializationError: unable to read environment file " + value);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
}

void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& k, const std::string& v) {
  for (auto& [key, value] : env)
    if (key == k) {
      value = v;
      return;
    }
  env.emplace_back(k, v);
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
  return out;
}

// Compares the path as the engine will bind it: normalised ("/tmp/.." is "/"), with symlinks
// resolved as far as the path exists, so neither ".." nor a link can step outside the list.
bool path_allowed(const std::string& raw, const HostPolicy& policy) {
  if (raw.empty() || raw[0] != '/') return false;
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::path(raw), ec);
  if (ec) p = std::filesystem::path(raw).lexically_normal();
  std::string path = p.string();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  for (const auto& allowed : policy.allowed_host_paths) {
    std::filesystem::path ap = std::filesystem::weakly_canonical(std::filesystem::path(allowed), ec);
    std::string prefix = ec ? std::filesystem::path(allowed).lexically_normal().string() : ap.string();
    if (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (path == prefix) return true;
    std::string dir = prefix.back() == '/' ? prefix : prefix + "/";
    if (path.rfind(dir, 0) == 0) return true;
  }
  return false;
}

}  // namespace

// Volumes: host paths (allow-listed), Docker named volumes (task or shared scope), EFS as named
// local volumes, and task-scoped scratch volumes when the volume has no configuration.
std::map<std::string, VolumeSource> volume_sources(const SpecContext& ctx, const json& td) {
  std::map<std::string, VolumeSource> sources;
  for (const auto& v : td.value("volumes", json::array())) {
    std::string vname = v.value("name", "");
    if (v.contains("host") && v["host"].contains("sourcePath")) {
      sources[vname] = {v["host"]["sourcePath"].get<std::string>(), false};
    } else if (v.contains("dockerVolumeConfiguration")) {
      bool shared = v["dockerVolumeConfiguration"].value("scope", "task") == "shared";
      sources[vname] = {shared ? "ecsd-" + sanitize(vname) : "ecsd-" + ctx.task_id.substr(0, 20) + "-" + sanitize(vname),
                        !shared};
    } else if (v.contains("efsVolumeConfiguration")) {
      const json& e = v["efsVolumeConfiguration"];
      sources[vname] = {"ecsd-efs-" + sanitize(e.value("fileSystemId", "fs")) + sanitize(e.value("rootDirectory", "")),
                        false};
    } else {
      sources[vname] = {"ecsd-" + ctx.task_id.substr(0, 20) + "-" + sanitize(vname), true};
    }
  }
  return sources;
}

std::string container_name(const SpecContext& ctx, const std::string& name) {
  return "ecs-" + sanitize(ctx.family) + "-" + std::to_string(ctx.revision) + "-" + sanitize(name) + "-" +
         ctx.task_id.substr(0, 20);
}

runtime::ContainerSpec build_spec(const SpecContext& ctx, const json& td, const json& def, const json& overrides,
                                  const HostPolicy& policy) {
  runtime::ContainerSpec s;
  std::string name = def.value("name", "");
  const json* o = override_for(overrides, name);
  s.name = container_name(ctx, name);
  s.image = def.value("image", "");
  if (def.contains("entryPoint")) s.entrypoint = strings(def["entryPoint"]);
  if (o && o->contains("command")) s.cmd = strings((*o)["command"]);
  else if (def.contains("command")) s.cmd = strings(def["command"]);

  std::vector<std::pair<std::string, std::string>> env;
  set_env(env, "AWS_REGION", ctx.region);
  set_env(env, "AWS_DEFAULT_REGION", ctx.region);
  set_env(env, "AWS_EXECUTION_ENV", ctx.fargate ? "AWS_ECS_FARGATE" : "AWS_ECS_EC2");
  for (const auto& [k, v] : ctx.extra_env) set_env(env, k, v);
  auto files = def.value("environmentFiles", json::array());
  if (o && o->contains("environmentFiles")) files = (*o)["environmentFiles"];
  for (const auto& f : files) read_env_file(f.value("value", ""), env);
  for (const auto& e : def.value("environment", json::array())) set_env(env, e.value("name", ""), e.value("value", ""));
  if (o)
    for (const auto& e : o->value("environment", json::array())) set_env(env, e.value("name", ""), e.value("value", ""));
  for (const auto& [k, v] : env) s.env.push_back(k + "=" + v);

  s.working_dir = def.value("workingDirectory", "");
  s.user = def.value("user", "");
  if (ctx.network_mode == "bridge" || ctx.network_mode.empty()) s.hostname = def.value("hostname", "");

  const json labels = def.value("dockerLabels", json::object());
  for (auto it = labels.begin(); it != labels.end(); ++it)
    if (it.value().is_string()) s.labels[it.key()] = it.value().get<std::string>();
  s.labels[domain::kLabelCluster] = ctx.cluster_name;
  s.labels[domain::kLabelTaskArn] = ctx.task_arn;
  s.labels[domain::kLabelContainerName] = name;
  s.labels[domain::kLabelFamily] = ctx.family;
  s.labels[domain::kLabelRevision] = std::to_string(ctx.revision);
  s.labels[domain::kLabelManaged] = "true";
  s.labels[domain::kLabelInstance] = ctx.instance_id;

  long cpu = o && o->contains("cpu") ? (*o)["cpu"].get<long>() : def.value("cpu", 0L);
  s.cpu_shares = cpu < 2 ? 2 : cpu;  // the ECS agent's minimum share count
  long mem = o && o->contains("memory") ? (*o)["memory"].get<long>() : def.value("memory", 0L);
  long res = o && o->contains("memoryReservation") ? (*o)["memoryReservation"].get<long>()
                                                   : def.value("memoryReservation", 0L);
  if (mem <= 0 && td.contains("memory") && ctx.fargate) mem = std::stol(td["memory"].get<std::string>());
  s.memory_bytes = mem * 1024 * 1024;
  s.memory_reservation_bytes = res * 1024 * 1024;

  const std::string& mode = ctx.network_mode;
  if (mode == "host") s.network_mode = "host";
  else if (mode == "none") s.network_mode = "none";
  else if (mode == "awsvpc") {
    if (ctx.netns_container.empty()) {
      s.network_mode = ctx.awsvpc_network;
      s.hostname = "ip-" + ctx.task_id.substr(0, 12);
    } else {
      s.network_mode = "container:" + ctx.netns_container;
    }
  } else {
    s.network_mode = "bridge";
    for (const auto& pm : def.value("portMappings", json::array())) {
      runtime::PortBinding b;
      b.container_port = pm.value("containerPort", 0);
      b.host_port = pm.value("hostPort", 0);
      b.protocol = pm.value("protocol", "tcp");
      b.host_ip = "127.0.0.1";
      if (b.container_port > 0) s.ports.push_back(b);
    }
    for (const auto& l : strings(def.value("links", json::array()))) {
      auto colon = l.find(':');
      std::string target = l.substr(0, colon), alias = colon == std::string::npos ? target : l.substr(colon + 1);
      s.links.push_back(container_name(ctx, target) + ":" + alias);
    }
  }

  for (const auto& h : def.value("extraHosts", json::array()))
    s.extra_hosts.push_back(h.value("hostname", "") + ":" + h.value("ipAddress", ""));
  s.dns_servers = strings(def.value("dnsServers", json::array()));
  s.dns_search = strings(def.value("dnsSearchDomains", json::array()));
  for (const auto& u : def.value("ulimits", json::array()))
    s.ulimits.push_back({u.value("name", ""), u.value("softLimit", 0L), u.value("hardLimit", 0L)});
  s.readonly_rootfs = def.value("readonlyRootFilesystem", false);
  if (def.value("privileged", false)) {
    if (!policy.allow_privileged)
      throw SpecError("CannotCreateContainerError: privileged containers are disabled; start ecsd with "
                      "--allow-privileged to run container " + name);
    s.privileged = true;
  }
  const json lp = def.value("linuxParameters", json::object());
  s.init = lp.value("initProcessEnabled", false);
  if (lp.contains("capabilities")) {
    s.cap_add = strings(lp["capabilities"].value("add", json::array()));
    s.cap_drop = strings(lp["capabilities"].value("drop", json::array()));
  }
  if (lp.contains("sharedMemorySize")) s.shm_size_bytes = lp["sharedMemorySize"].get<long>() * 1024 * 1024;
  for (const auto& sc : def.value("systemControls", json::array()))
    if (sc.contains("namespace")) s.sysctls[sc.value("namespace", "")] = sc.value("value", "");

  if (def.contains("healthCheck")) {
    const json& h = def["healthCheck"];
    runtime::HealthCheck hc;
    hc.test = strings(h.value("command", json::array()));
    // Intervals and periods pass faster under the CI time scale (clock.hpp); retries do not change.
    hc.interval_seconds = scaled(h.value("interval", 30));
    hc.timeout_seconds = std::max(1.0, scaled(h.value("timeout", 5)));  // a probe still needs time to answer
    hc.retries = h.value("retries", 3);
    hc.start_period_seconds = scaled(h.value("startPeriod", 0));
    if (!hc.test.empty()) s.health = hc;
  }
  s.stop_timeout_seconds = static_cast<int>(std::ceil(scaled(def.value("stopTimeout", 30))));

  const auto sources = volume_sources(ctx, td);
  for (const auto& mp : def.value("mountPoints", json::array())) {
    std::string vname = mp.value("sourceVolume", "");
    auto it = sources.find(vname);
    if (it == sources.end()) throw SpecError("CannotCreateContainerError: unknown volume " + vname);
    const std::string& src = it->second.source;
    if (!src.empty() && src[0] == '/' && !path_allowed(src, policy))
      throw SpecError("CannotCreateContainerError: host path " + src +
                      " is not in ecsd's allow-list; start ecsd with --allow-host-path " + src);
    s.binds.push_back(src + ":" + mp.value("containerPath", "") + (mp.value("readOnly", false) ? ":ro" : ""));
  }
  for (const auto& vf : def.value("volumesFrom", json::array()))
    s.volumes_from.push_back(container_name(ctx, vf.value("sourceContainer", "")) +
                             (vf.value("readOnly", false) ? ":ro" : ""));

  if (def.contains("logConfiguration")) {
    std::string driver = def["logConfiguration"].value("logDriver", "");
    // awslogs goes to ecsd's own Logs service (it follows the engine's json-file output).
    if (driver == "awslogs") {
      s.log_driver = "json-file";  // readable through the engine's logs API whatever the engine default is
    } else if (!driver.empty()) {
      s.log_driver = driver;
      const json opts = def["logConfiguration"].value("options", json::object());
      for (auto it = opts.begin(); it != opts.end(); ++it) s.log_options[it.key()] = it.value().get<std::string>();
    }
  }
  return s;
}

}  // namespace ecsd::reconciler

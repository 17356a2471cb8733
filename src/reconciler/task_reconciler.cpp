// The task pass: one lifecycle step at a time towards the task's desired status, with the
// actual state read from the engine by label (so a restarted ecsd adopts its containers).
//
//   PROVISIONING -> PENDING (pull, create, start in dependsOn order) -> RUNNING
//   desired STOPPED: STOPPING (stop containers, stopTimeout) -> STOPPED (exit codes recorded)
#include <cmath>

#include <spdlog/spdlog.h>

#include "ecsd/common/arn.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/reconciler/log_follower.hpp"
#include "ecsd/reconciler/reconciler.hpp"
#include "ecsd/store/elbv2_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::reconciler {

using nlohmann::json;

namespace {

using Actual = std::map<std::string, runtime::ContainerState>;

bool exited(const runtime::ContainerState& c) { return c.status == "exited" || c.status == "dead"; }

std::string status_of(const runtime::ContainerState& c) {
  if (c.status == "running" || c.status == "paused" || c.status == "restarting") return "RUNNING";
  if (exited(c)) return "STOPPED";
  return "PENDING";
}

// Copies what the engine says about each container into the Task shape.
void observe(json& doc, const json& td, const Actual& actual, const std::string& network, const std::string& attachment_id) {
  std::string mode = td.value("networkMode", "bridge");
  for (auto& c : doc["containers"]) {
    auto it = actual.find(c.value("name", ""));
    if (it == actual.end()) continue;
    const auto& st = it->second;
    c["runtimeId"] = st.id;
    c["lastStatus"] = status_of(st);
    if (exited(st)) {
      c["exitCode"] = st.exit_code;
      if (st.oom_killed) c["reason"] = "OutOfMemoryError: Container killed due to memory usage";
      else if (!st.error.empty()) c["reason"] = st.error;
    }
    if (st.health == "healthy") c["healthStatus"] = "HEALTHY";
    else if (st.health == "unhealthy") c["healthStatus"] = "UNHEALTHY";
    else c["healthStatus"] = "UNKNOWN";
    json bindings = json::array();
    if (mode == "bridge") {
      for (const auto& p : st.ports)
        if (p.host_port > 0)
          bindings.push_back({{"bindIP", p.host_ip.empty() ? "0.0.0.0" : p.host_ip}, {"containerPort", p.container_port},
                              {"hostPort", p.host_port}, {"protocol", p.protocol}});
    } else if (mode == "host") {
      for (const auto& def : td.value("containerDefinitions", json::array()))
        if (def.value("name", "") == c.value("name", ""))
          for (const auto& pm : def.value("portMappings", json::array()))
            bindings.push_back({{"bindIP", "0.0.0.0"}, {"containerPort", pm.value("containerPort", 0)},
                                {"hostPort", pm.value("containerPort", 0)}, {"protocol", pm.value("protocol", "tcp")}});
    }
    if (mode != "awsvpc" && st.status == "running") c["networkBindings"] = bindings;
    if (mode == "awsvpc") {
      auto ip = st.network_ips.find(network);
      if (ip != st.network_ips.end() && !ip->second.empty())
        c["networkInterfaces"] = json::array({{{"attachmentId", attachment_id}, {"privateIpv4Address", ip->second}}});
    }
  }
}

// ECS's task health: UNHEALTHY if an essential container is, HEALTHY when every essential
// container with a health check is healthy, else UNKNOWN.
std::string task_health(const json& doc, const json& td) {
  bool any_check = false, all_healthy = true;
  for (const auto& def : td.value("containerDefinitions", json::array())) {
    if (!def.value("essential", true) || !def.contains("healthCheck")) continue;
    any_check = true;
    for (const auto& c : doc["containers"])
      if (c.value("name", "") == def.value("name", "")) {
        std::string h = c.value("healthStatus", "UNKNOWN");
        if (h == "UNHEALTHY") return "UNHEALTHY";
        if (h != "HEALTHY") all_healthy = false;
      }
  }
  return any_check && all_healthy ? "HEALTHY" : "UNKNOWN";
}

std::string private_ip(const Actual& actual, const std::string& network) {
  for (const auto& [name, st] : actual) {
    auto it = st.network_ips.find(network);
    if (it != st.network_ips.end() && !it->second.empty()) return it->second;
  }
  return "";
}

// Registers a service task in its service's target groups, as ECS does once the task runs.
// @return [{tg, id, port}] of what was registered.
json register_in_target_groups(store::Db& db, const store::TaskRow& t, double now) {
  json out = json::array();
  auto svc = store::ServiceRepo(db).find_by_arn(t.service_arn);
  if (!svc) return out;
  // A task of an EXTERNAL service's task set registers where its task set says.
  const json lbs = t.doc["_ecsd"].contains("lbs") ? t.doc["_ecsd"]["lbs"] : svc->doc.value("loadBalancers", json::array());
  for (const auto& lb : lbs) {
    std::string tg = lb.value("targetGroupArn", "");
    // Blue/green: the task's deployment chose one of the pair (targetGroupArn, alternateTargetGroupArn).
    if (lb.contains("advancedConfiguration") && !t.doc["_ecsd"].value("lb_tg", "").empty()) tg = t.doc["_ecsd"]["lb_tg"];
    auto group = tg.empty() ? std::nullopt : store::TargetGroupRepo(db).find_by_arn(tg);
    if (!group) continue;
    std::string cname = lb.value("containerName", "");
    int cport = lb.value("containerPort", 0);
    domain::elb::TargetRef ref;
    if (group->target_type == "ip") {
      for (const auto& d : t.doc["attachments"].empty() ? json::array() : t.doc["attachments"][0].value("details", json::array()))
        if (d.value("name", "") == "privateIPv4Address") ref.id = d.value("value", "");
      ref.port = cport;
    } else {
      auto ci = store::ContainerInstanceRepo(db).find_by_arn(t.container_instance_arn);
      if (ci) ref.id = ci->doc.value("ec2InstanceId", "");
      for (const auto& c : t.doc["containers"])
        if (c.value("name", "") == cname)
          for (const auto& b : c.value("networkBindings", json::array()))
            if (b.value("containerPort", 0) == cport) ref.port = b.value("hostPort", 0);
    }
    if (ref.id.empty() || ref.port == 0) continue;
    domain::elb::register_targets(db, tg, {ref}, now);
    out.push_back({{"tg", tg}, {"id", ref.id}, {"port", ref.port}});
  }
  return out;
}

}  // namespace

Outcome Reconciler::task_pass(const std::string& arn) {
  const std::uint64_t generation = generation_;
  auto found = store_.read([&](store::Db& db) { return store::TaskRepo(db).find_by_arn(arn); });
  if (!found) return {};
  store::TaskRow t = *found;
  if (t.status == "STOPPED") return {};
  const json td = t.doc["_ecsd"]["td"];
  const std::string mode = td.value("networkMode", "bridge");
  const std::string cluster_name = arn.substr(arn.find("task/") + 5, arn.rfind('/') - arn.find("task/") - 5);
  const std::string tid = domain::task_id(arn);
  std::string attachment_id;
  if (!t.doc["attachments"].empty()) attachment_id = t.doc["attachments"][0].value("id", "");

  bool dirty = false;
  // Writes the task, and `also` in the same transaction (rolled back with it on a conflict).
  auto save = [&](const std::function<void(store::Db&)>& also = nullptr) {
    double now = clock().now();
    t.doc["lastStatus"] = t.status;
    t.doc["desiredStatus"] = t.desired_status;
    t.doc["version"] = t.doc.value("version", 1) + 1;
    store_.write([&](store::Db& db) {
      store::TaskRepo(db).update(t, now);
      if (also) also(db);
    });
    if (!t.service_arn.empty()) enqueue("service:" + t.service_arn);
    dirty = false;
  };
  auto fail = [&](const std::string& code, const std::string& reason) {
    t.desired_status = "STOPPED";
    t.doc["stopCode"] = code;
    t.doc["stoppedReason"] = reason;
    if (!t.doc.contains("stoppingAt")) t.doc["stoppingAt"] = clock().now();
    for (auto& c : t.doc["containers"])
      if (!c.contains("reason") && c.value("lastStatus", "") != "RUNNING") c["reason"] = reason;
    dirty = true;
  };

  Actual actual;
  // awslogs: the account and region the container's log group lives in.
  const auto task_arn_parts = arn::parse(arn);
  auto log_scope = [&](const AwslogsConfig& cfg) {
    store::Scope s{task_arn_parts ? task_arn_parts->account : "", task_arn_parts ? task_arn_parts->region : ""};
    if (!cfg.region.empty()) s.region = cfg.region;
    return s;
  };
  // Every started awslogs container has a follower copying its output into CloudWatch Logs.
  auto follow_logs = [&] {
    for (const auto& def : td.value("containerDefinitions", json::array())) {
      auto cfg = awslogs_config(def);
      auto it = cfg ? actual.find(def.value("name", "")) : actual.end();
      if (it == actual.end()) continue;
      followers_->ensure(log_scope(*cfg), *cfg, awslogs_stream(*cfg, def.value("name", ""), tid, it->second.id),
                         it->second);
    }
  };
  // Tasks with a role: the credentials endpoint at 169.254.170.2 inside each running container's own
  // network namespace (bridge: every container; awsvpc: the namespace owner, which the others join).
  const bool has_role = !t.doc.value("overrides", json::object()).value("taskRoleArn", td.value("taskRoleArn", "")).empty();
  std::string link_local_owner;  // awsvpc: the first container without dependencies (as below)
  for (const auto& d : td.value("containerDefinitions", json::array()))
    if (!d.contains("dependsOn")) {
      link_local_owner = d.value("name", "");
      break;
    }
  auto serve_link_local = [&] {
    const std::string net_mode = td.value("networkMode", "bridge");
    if (!has_role || !opt_.serve_link_local || (net_mode != "bridge" && net_mode != "awsvpc")) return;
    for (const auto& [name, c] : actual)
      if (c.status == "running" && c.pid > 0 && (net_mode == "bridge" || name == link_local_owner))
        opt_.serve_link_local(c.id, c.pid);
  };
  auto refresh = [&] {
    actual.clear();
    for (auto& c : runtime_.list_containers({std::string(domain::kLabelTaskArn) + "=" + arn,
                                             std::string(domain::kLabelInstance) + "=" + opt_.instance_id})) {
      auto it = c.labels.find(domain::kLabelContainerName);
      if (it != c.labels.end()) actual[it->second] = c;
    }
    follow_logs();
    serve_link_local();
  };
  try {
    refresh();
  } catch (const runtime::RuntimeError& e) {
    if (e.kind != runtime::RuntimeError::Kind::Unavailable) throw;
    if (t.status == "RUNNING" && t.desired_status == "RUNNING") return {5};
    // Nothing can start (or be observed stopping) without an engine: the task ends here.
    if (t.desired_status == "RUNNING")
      fail("TaskFailedToStart", "CannotStartContainerError: container engine unreachable at " +
                                    opt_.engine_description + ": " + e.what());
    double now = clock().now();
    t.status = "STOPPED";
    t.doc["stoppedAt"] = now;
    t.doc["executionStoppedAt"] = now;
    for (auto& c : t.doc["containers"]) c["lastStatus"] = "STOPPED";
    save();
    return {};
  }

  SpecContext sctx;
  sctx.task_arn = arn;
  sctx.task_id = tid;
  sctx.cluster_name = cluster_name;
  sctx.region = arn.substr(12, arn.find(':', 12) - 12);
  sctx.instance_id = opt_.instance_id;
  sctx.family = td.value("family", "");
  sctx.revision = td.value("revision", 0);
  sctx.network_mode = mode;
  // awsvpc: the engine network of the task's subnet (chosen when the task was provisioned).
  const std::string task_network = t.doc["_ecsd"].value("engine_network", awsvpc_network());
  sctx.awsvpc_network = task_network;
  sctx.fargate = t.doc.value("launchType", "") == "FARGATE";
  const json overrides = t.doc.value("overrides", json::object());
  const json defs = td.value("containerDefinitions", json::array());

  // The variables ECS sets for the metadata and credentials endpoints. Tokens are persisted (task
  // doc and meta table) before the container that carries them is created.
  auto metadata_env = [&](const std::string& cname) {
    std::vector<std::pair<std::string, std::string>> env;
    if (!opt_.metadata_endpoint || mode == "none") return env;
    std::string address = "127.0.0.1";
    try {
      if (mode == "bridge") address = network_gateway("bridge");
      else if (mode == "awsvpc") address = network_gateway(sctx.awsvpc_network);
    } catch (const runtime::RuntimeError& e) {
      spdlog::warn("task {}: no gateway for the metadata endpoint: {}", tid, e.what());
      return env;
    }
    std::string base = address.empty() ? "" : opt_.metadata_endpoint(address);
    if (base.empty()) return env;
    json& md = t.doc["_ecsd"]["metadata"];
    if (!md.is_object()) md = json::object();
    std::vector<std::pair<std::string, std::string>> meta_rows;
    std::string token = md.value(cname, "");
    if (token.empty()) {
      token = ids::hex(32);
      md[cname] = token;
      meta_rows.emplace_back("mdtoken:" + token, json{{"task", arn}, {"container", cname}}.dump());
    }
    env.emplace_back("ECS_CONTAINER_METADATA_URI", base + "/v3/" + token);
    env.emplace_back("ECS_CONTAINER_METADATA_URI_V4", base + "/v4/" + token);
    env.emplace_back("ECS_AGENT_URI", base + "/api/" + token);
    std::string role = overrides.value("taskRoleArn", td.value("taskRoleArn", ""));
    if (!role.empty() && opt_.new_credentials) {
      json& cred = t.doc["_ecsd"]["credentials"];
      if (!cred.is_object() || !cred.contains("id")) {
        cred = opt_.new_credentials(role);
        cred["id"] = ids::uuid();
        meta_rows.emplace_back("mdcred:" + cred["id"].get<std::string>(), json{{"task", arn}}.dump());
        meta_rows.emplace_back("taskcred:" + cred["AccessKeyId"].get<std::string>(),
                               json{{"task", arn}, {"role", role}}.dump());
      }
      std::string relative = "/v2/credentials/" + cred["id"].get<std::string>();
      env.emplace_back("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", relative);
      // SDKs resolve the relative URI against 169.254.170.2, which ecsd does not serve.
      env.emplace_back("AWS_CONTAINER_CREDENTIALS_FULL_URI", base + relative);
    }
    if (!meta_rows.empty()) {
      // One transaction: a pass that loses a race to a concurrent update leaves no orphaned token.
      save([&](store::Db& db) {
        store::MetaRepo meta(db);
        for (const auto& [k, v] : meta_rows) meta.put(k, v);
      });
    }
    return env;
  };

  // awsvpc: the first container without dependencies owns the task's network namespace.
  std::string netns_owner;
  if (mode == "awsvpc") {
    for (const auto& d : defs)
      if (!d.contains("dependsOn")) {
        netns_owner = d.value("name", "");
        break;
      }
    if (netns_owner.empty() && !defs.empty()) netns_owner = defs[0].value("name", "");
  }

  if (t.desired_status == "RUNNING" && (t.status == "PROVISIONING" || t.status == "PENDING" || t.status == "ACTIVATING")) {
    if (t.status == "PROVISIONING") {
      if (mode == "awsvpc") {
        if (generation != generation_) return {};
        // One engine network per subnet, with the subnet's CIDR, so the task's private IP lies in
        // its subnet. Daemons sharing an engine share it; the engine's IPAM hands out addresses.
        // Serialise the check-then-create across workers.
        std::lock_guard lock(network_mu_);
        std::string subnet_id, cidr;
        const json subnets = t.doc["_ecsd"].value("network", json::object()).value("awsvpcConfiguration", json::object())
                                 .value("subnets", json::array());
        if (!subnets.empty()) {
          subnet_id = subnets[0].get<std::string>();
          auto parsed = arn::parse(arn);
          auto infos = store_.read([&](store::Db& db) {
            return domain::subnets(db, {parsed->account, parsed->region}, {subnet_id});
          });
          if (!infos.empty()) cidr = infos[0].cidr;
        }
        std::map<std::string, std::string> labels = {{domain::kLabelManaged, "true"},
                                                     {domain::kLabelInstance, opt_.instance_id}};
        std::string network = cidr.empty() ? awsvpc_network() : "ecsd-" + subnet_id;
        try {
          // A subnet network is shared by every daemon on the engine: it carries no daemon's label,
          // and whichever daemon resets while nobody uses it removes it.
          if (!cidr.empty()) runtime_.ensure_network({network, cidr, "", {{domain::kLabelManaged, "true"}}});
          else runtime_.ensure_network({network, cidr, "", labels});
        } catch (const runtime::RuntimeError& e) {
          if (cidr.empty()) {
            fail("TaskFailedToStart", std::string("ResourceInitializationError: unable to create the task network: ") + e.what());
          } else {
            // The subnet's range is taken on this engine by a network that is not ours.
            spdlog::warn("cannot create network {} for {} ({}); using {}", network, cidr, e.what(), awsvpc_network());
            network = awsvpc_network();
            try {
              runtime_.ensure_network({network, "", "", labels});
            } catch (const runtime::RuntimeError& e2) {
              fail("TaskFailedToStart", std::string("ResourceInitializationError: unable to create the task network: ") + e2.what());
            }
          }
        }
        t.doc["_ecsd"]["engine_network"] = network;
        sctx.awsvpc_network = network;
      }
      if (t.desired_status == "RUNNING") {
        t.status = "PENDING";
        save();
      }
    }
    // Named volumes carry our labels so reset and task expiry can find them again.
    if (t.desired_status == "RUNNING" && actual.empty()) {
      try {
        for (const auto& [vname, src] : volume_sources(sctx, td)) {
          if (src.source.empty() || src.source[0] == '/') continue;
          std::map<std::string, std::string> labels = {{domain::kLabelManaged, "true"},
                                                       {domain::kLabelInstance, opt_.instance_id}};
          if (src.task_scoped) labels[domain::kLabelTaskArn] = arn;
          runtime_.ensure_volume(src.source, labels);
        }
      } catch (const runtime::RuntimeError& e) {
        fail("TaskFailedToStart", std::string("ResourceInitializationError: unable to create volume: ") + e.what());
      }
    }
    // Create every missing container (pulling its image first when the engine lacks it).
    for (const auto& def : defs) {
      if (t.desired_status != "RUNNING") break;
      std::string name = def.value("name", "");
      if (actual.count(name)) continue;
      if (mode == "awsvpc" && name != netns_owner) {
        auto owner = actual.find(netns_owner);
        if (owner == actual.end()) continue;  // created on a later pass, once the owner exists
        sctx.netns_container = owner->second.id;
      } else {
        sctx.netns_container.clear();
      }
      if (generation != generation_) return {};  // state was reset under this pass
      if (auto cfg = awslogs_config(def)) {
        std::string why = followers_->prepare(log_scope(*cfg), *cfg);
        if (!why.empty()) {
          fail("TaskFailedToStart", why);
          break;
        }
      }
      sctx.extra_env = metadata_env(name);
      runtime::ContainerSpec spec;
      try {
        spec = build_spec(sctx, td, def, overrides, opt_.host_policy);
      } catch (const SpecError& e) {
        fail("TaskFailedToStart", e.what());
        break;
      }
      // Create first and pull only when the engine lacks the image (its create answers 404): no
      // image check on the way of every start.
      const std::string image = def.value("image", "");
      std::string id;
      bool conflict = false;
      for (bool pulled = false; id.empty() && !conflict && t.desired_status == "RUNNING";) {
        try {
          id = runtime_.create_container(spec);
        } catch (const runtime::RuntimeError& e) {
          if (e.kind == runtime::RuntimeError::Kind::Conflict) {
            conflict = true;  // created by an earlier pass whose answer was lost: adopted below
            break;
          }
          bool missing_image = false;
          try {
            // A 404 may also name a network or a container to join: the image decides.
            missing_image = !pulled && e.kind == runtime::RuntimeError::Kind::NotFound && !runtime_.image_present(image);
            if (missing_image) {
              if (!t.doc.contains("pullStartedAt")) {
                t.doc["pullStartedAt"] = clock().now();
                save();
              }
              std::optional<runtime::RegistryAuth> auth;
              if (opt_.registry_auth) auth = opt_.registry_auth(image);
              runtime_.pull_image(image, auth ? &*auth : nullptr);
              pulled = true;
            }
          } catch (const runtime::RuntimeError& pe) {
            fail("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 1 time(s): " +
                                          std::string(pe.what()));
            break;
          }
          if (!missing_image) {
            fail("TaskFailedToStart", std::string("CannotCreateContainerError: ") + e.what());
            break;
          }
          if (generation != generation_) return {};  // state was reset during the pull
        }
      }
      if (conflict) {
        refresh();
        continue;
      }
      if (id.empty()) break;  // failed
      // What the engine just made: no list or inspect needed before starting it.
      runtime::ContainerState created;
      created.id = id;
      created.name = spec.name;
      created.image = spec.image;
      created.labels = spec.labels;
      created.status = "created";
      actual[name] = created;
    }
    if (t.doc.contains("pullStartedAt") && !t.doc.contains("pullStoppedAt") && t.desired_status == "RUNNING") {
      t.doc["pullStoppedAt"] = clock().now();
      dirty = true;
    }
    // Start created containers whose dependsOn conditions hold.
    bool started = false;
    for (const auto& def : defs) {
      if (t.desired_status != "RUNNING") break;
      std::string name = def.value("name", "");
      auto it = actual.find(name);
      if (it == actual.end() || it->second.status != "created") continue;
      bool ready = true;
      for (const auto& dep : def.value("dependsOn", json::array())) {
        std::string dn = dep.value("containerName", ""), cond = dep.value("condition", "START");
        auto d = actual.find(dn);
        if (d == actual.end()) {
          ready = false;
          continue;
        }
        const auto& ds = d->second;
        bool ok = cond == "START"      ? ds.status != "created"
                  : cond == "COMPLETE" ? exited(ds)
                  : cond == "SUCCESS"  ? exited(ds) && ds.exit_code == 0
                                       : ds.health == "healthy";
        bool impossible = (cond == "SUCCESS" && exited(ds) && ds.exit_code != 0) ||
                          (cond == "HEALTHY" && (exited(ds) || ds.health == "unhealthy"));
        if (impossible) {
          fail("TaskFailedToStart", "CannotStartContainerError: dependency " + dn + " of container " + name +
                                        " did not meet its " + cond + " condition");
          ready = false;
          break;
        }
        ready = ready && ok;
      }
      if (mode == "awsvpc" && name != netns_owner) {
        auto owner = actual.find(netns_owner);
        ready = ready && owner != actual.end() && owner->second.status == "running";
      }
      if (!ready || t.desired_status != "RUNNING") continue;
      if (generation != generation_) return {};
      try {
        runtime_.start_container(it->second.id);
        started = true;
      } catch (const runtime::RuntimeError& e) {
        if (e.kind == runtime::RuntimeError::Kind::NotFound && !runtime_.inspect_container(it->second.id)) {
          actual.erase(it);  // removed between create and start: created again on the next pass
          continue;
        }
        std::string what = e.what();
        int retries = t.doc["_ecsd"].value("network_retries", 0);
        if (mode == "awsvpc" && what.find("network") != std::string::npos && what.find("not found") != std::string::npos &&
            retries < 5) {
          // The subnet's engine network went away between its creation and this start (another
          // daemon sharing the engine removed it while unused): start over from provisioning.
          for (const auto& [cname, st] : actual) runtime_.remove_container(st.id, true);
          t.doc["_ecsd"]["network_retries"] = retries + 1;
          t.status = "PROVISIONING";
          save();
          return {0.2};
        }
        fail("TaskFailedToStart", "CannotStartContainerError: " + what);
        continue;
      }
      // One inspect of what was started (status, ports, addresses, pid; it may have exited already)
      // instead of listing the task's containers again; dependents can start in this same pass.
      if (auto now_state = runtime_.inspect_container(it->second.id)) it->second = *now_state;
      else actual.erase(it);  // removed meanwhile: created again on the next pass
    }
    if (started) {
      follow_logs();
      serve_link_local();
    }
  }

  if (t.desired_status == "RUNNING") {
    observe(t.doc, td, actual, sctx.awsvpc_network, attachment_id);
    // An essential container that exited stops the task.
    for (const auto& def : defs) {
      auto it = actual.find(def.value("name", ""));
      if (def.value("essential", true) && it != actual.end() && exited(it->second)) {
        fail("EssentialContainerExited", "Essential container in task exited");
        break;
      }
      if (def.value("essential", true) && it == actual.end() && t.status == "RUNNING") {
        fail("EssentialContainerExited", "Essential container in task exited");
        break;
      }
    }
  }

  if (t.desired_status == "RUNNING") {
    std::string health = task_health(t.doc, td);
    if (t.doc.value("healthStatus", "") != health) {
      t.doc["healthStatus"] = health;
      dirty = true;
    }
    bool all_up = !defs.empty();
    for (const auto& def : defs) {
      auto it = actual.find(def.value("name", ""));
      bool up = it != actual.end() &&
                (it->second.status == "running" || (exited(it->second) && !def.value("essential", true)));
      all_up = all_up && up;
    }
    if (all_up && t.status != "RUNNING") {
      double now = clock().now();
      t.status = "RUNNING";
      t.doc["startedAt"] = now;
      t.doc["connectivity"] = "CONNECTED";
      t.doc["connectivityAt"] = now;
      if (mode == "awsvpc" && !t.doc["attachments"].empty()) {
        json& att = t.doc["attachments"][0];
        att["status"] = "ATTACHED";
        std::string ip = private_ip(actual, sctx.awsvpc_network);
        att["details"].push_back({{"name", "macAddress"}, {"value", "0a:" + tid.substr(0, 2) + ":" + tid.substr(2, 2) + ":" +
                                                                        tid.substr(4, 2) + ":" + tid.substr(6, 2) + ":" +
                                                                        tid.substr(8, 2)}});
        std::string dashed = ip;
        std::replace(dashed.begin(), dashed.end(), '.', '-');
        att["details"].push_back({{"name", "privateDnsName"}, {"value", "ip-" + dashed + ".ec2.internal"}});
        att["details"].push_back({{"name", "privateIPv4Address"}, {"value", ip}});
      }
      if (!t.service_arn.empty()) {
        double reg_now = clock().now();
        t.doc["_ecsd"]["targets"] = store_.write([&](store::Db& db) { return register_in_target_groups(db, t, reg_now); });
      }
      save();
      return {};
    }
    if (t.doc != found->doc || dirty) save();
    return t.status == "RUNNING" ? Outcome{} : Outcome{0.5};
  }

  // desired STOPPED: first take the task out of its target groups and let connections drain
  // (lastStatus DEACTIVATING for the group's deregistration delay), as ECS does.
  const json targets = t.doc["_ecsd"].value("targets", json::array());
  if (!targets.empty()) {
    double now = clock().now();
    if (!t.doc["_ecsd"].contains("drain_until")) {
      double until = store_.write([&](store::Db& db) {
        double latest = now;
        for (const auto& tg : targets) {
          auto group = store::TargetGroupRepo(db).find_by_arn(tg.value("tg", ""));
          if (!group) continue;
          domain::elb::deregister_targets(db, *group, {{tg.value("id", ""), tg.value("port", 0), ""}}, now);
          latest = std::max(latest, now + scaled(domain::elb::deregistration_delay(*group)));
        }
        return latest;
      });
      t.doc["_ecsd"]["drain_until"] = until;
      t.status = "DEACTIVATING";
      save();
    }
    double until = t.doc["_ecsd"].value("drain_until", 0.0);
    if (until > now) return {std::min(until - now, 1.0)};
  }
  if (t.status != "STOPPING" && t.status != "DEPROVISIONING") {
    t.status = "STOPPING";
    if (!t.doc.contains("stoppingAt")) t.doc["stoppingAt"] = clock().now();
    save();
  }
  for (auto def = defs.rbegin(); def != defs.rend(); ++def) {
    auto it = actual.find(def->value("name", ""));
    if (it == actual.end() || exited(it->second) || it->second.status == "created") continue;
    runtime_.stop_container(it->second.id, static_cast<int>(std::ceil(scaled(def->value("stopTimeout", 30)))));
  }
  refresh();
  observe(t.doc, td, actual, sctx.awsvpc_network, attachment_id);
  double now = clock().now();
  for (auto& c : t.doc["containers"]) {
    c["lastStatus"] = "STOPPED";
    c.erase("networkBindings");
  }
  if (opt_.release_link_local)
    for (const auto& [name, c] : actual) opt_.release_link_local(c.id);
  if (!t.doc.contains("stopCode")) t.doc["stopCode"] = "UserInitiated";
  if (mode == "awsvpc" && !t.doc["attachments"].empty()) t.doc["attachments"][0]["status"] = "DELETED";
  t.doc["executionStoppedAt"] = now;
  t.doc["stoppedAt"] = now;
  t.status = "STOPPED";
  save();
  return {};
}

}  // namespace ecsd::reconciler

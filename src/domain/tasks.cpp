// Task construction, resource arithmetic and the local container instance.
#include "ecsd/domain/tasks.hpp"

#include <unistd.h>

#include <fstream>

#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::domain {

namespace {

long to_long(const json& v, long def = 0) {
  if (v.is_number()) return v.get<long>();
  if (v.is_string()) {
    try {
      return std::stol(v.get<std::string>());
    } catch (...) {
    }
  }
  return def;
}

const json* container_override(const json& overrides, const std::string& name) {
  // Iterate the member itself: value() would return a copy and the pointer would dangle.
  if (!overrides.is_object() || !overrides.contains("containerOverrides") || !overrides["containerOverrides"].is_array())
    return nullptr;
  for (const auto& o : overrides["containerOverrides"])
    if (o.value("name", "") == name) return &o;
  return nullptr;
}

// Engine host capacity: the machine's CPUs (1024 units each) and memory in MiB.
std::pair<long, long> host_capacity() {
  long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  long mem_mib = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long kb = 0;
  while (meminfo >> key >> kb) {
    if (key == "MemTotal:") {
      mem_mib = kb / 1024;
      break;
    }
    meminfo.ignore(256, '\n');
  }
  return {cpus * 1024, mem_mib > 0 ? mem_mib : 2048};
}

}  // namespace

std::string task_id(const std::string& task_arn) { return task_arn.substr(task_arn.rfind('/') + 1); }

store::TaskRow make_task(const TaskParams& p) {
  const json& td = p.task_definition->doc;
  std::string cluster_name = p.cluster->name;
  std::string id = ids::hex(32);
  std::string arn = arn::make("ecs", p.scope.region, p.scope.account, "task/" + cluster_name + "/" + id);
  json containers = json::array();
  for (const auto& c : td.value("containerDefinitions", json::array())) {
    std::string name = c.value("name", "");
    json ct = {{"containerArn", arn::make("ecs", p.scope.region, p.scope.account,
                                          "container/" + cluster_name + "/" + id + "/" + ids::uuid())},
               {"taskArn", arn},
               {"name", name},
               {"image", c.value("image", "")},
               {"lastStatus", "PENDING"},
               {"networkInterfaces", json::array()},
               {"healthStatus", "UNKNOWN"},
               {"cpu", std::to_string(to_long(c.value("cpu", json(0))))}};
    const json* o = container_override(p.overrides, name);
    if (c.contains("memory") || (o && o->contains("memory")))
      ct["memory"] = std::to_string(to_long(o && o->contains("memory") ? (*o)["memory"] : c["memory"]));
    if (c.contains("memoryReservation") || (o && o->contains("memoryReservation")))
      ct["memoryReservation"] = std::to_string(
          to_long(o && o->contains("memoryReservation") ? (*o)["memoryReservation"] : c["memoryReservation"]));
    if (o && o->contains("cpu")) ct["cpu"] = std::to_string(to_long((*o)["cpu"]));
    containers.push_back(ct);
  }
  Resources res = task_resources(td, p.overrides);
  json overrides = p.overrides.is_object() ? p.overrides : json::object();
  if (!overrides.contains("containerOverrides")) overrides["containerOverrides"] = json::array();
  if (!overrides.contains("inferenceAcceleratorOverrides")) overrides["inferenceAcceleratorOverrides"] = json::array();
  json doc = {{"taskArn", arn},
              {"clusterArn", p.cluster->arn},
              {"taskDefinitionArn", p.task_definition->arn},
              {"overrides", overrides},
              {"lastStatus", "PROVISIONING"},
              {"desiredStatus", "RUNNING"},
              {"cpu", overrides.contains("cpu") ? overrides["cpu"].get<std::string>() : std::to_string(res.cpu)},
              {"memory", overrides.contains("memory") ? overrides["memory"].get<std::string>() : std::to_string(res.memory)},
              {"containers", containers},
              {"version", 1},
              {"createdAt", p.now},
              {"group", p.group.empty() ? "family:" + p.task_definition->name : p.group},
              {"availabilityZone", p.scope.region + "a"},
              {"healthStatus", "UNKNOWN"},
              {"enableExecuteCommand", p.enable_execute_command},
              {"tags", p.tags.is_array() ? p.tags : json::array()},
              {"attachments", json::array()},
              {"attributes", json::array()}};
  if (!p.launch_type.empty()) doc["launchType"] = p.launch_type;
  if (p.capacity_provider_strategy.is_array() && !p.capacity_provider_strategy.empty())
    doc["capacityProviderName"] = p.capacity_provider_strategy[0].value("capacityProvider", "");
  bool fargate = p.launch_type == "FARGATE" || doc.value("capacityProviderName", "").rfind("FARGATE", 0) == 0;
  if (fargate) {
    doc["platformVersion"] = p.platform_version.empty() ? "1.4.0" : p.platform_version;
    doc["platformFamily"] = "Linux";
    doc["ephemeralStorage"] = {{"sizeInGiB", 20}};
  }
  if (!p.started_by.empty()) doc["startedBy"] = p.started_by;
  if (!p.container_instance_arn.empty()) doc["containerInstanceArn"] = p.container_instance_arn;
  if (td.value("networkMode", "") == "awsvpc") {
    json details = json::array();
    const json& vpc = p.network_configuration.is_object()
                          ? p.network_configuration.value("awsvpcConfiguration", json::object())
                          : json::object();
    json subnets = vpc.value("subnets", json::array());
    if (!subnets.empty()) details.push_back({{"name", "subnetId"}, {"value", subnets[0]}});
    details.push_back({{"name", "networkInterfaceId"}, {"value", "eni-" + ids::hex(17)}});
    doc["attachments"].push_back(
        {{"id", ids::uuid()}, {"type", "ElasticNetworkInterface"}, {"status", "PRECREATED"}, {"details", details}});
  }
  // Private scheduler state: the task definition as it was when the task was created.
  doc["_ecsd"] = {{"td", td}, {"network", p.network_configuration}};

  store::TaskRow row;
  row.arn = arn;
  row.name = row.family = p.task_definition->name;
  row.status = "PROVISIONING";
  row.desired_status = "RUNNING";
  row.cluster_id = p.cluster->id;
  row.service_arn = p.service_arn;
  row.started_by = p.started_by;
  row.container_instance_arn = p.container_instance_arn;
  row.created_at = p.now;
  row.doc = std::move(doc);
  return row;
}

Resources task_resources(const json& td, const json& overrides) {
  Resources r;
  long cpu_sum = 0, mem_sum = 0;
  bool host_ports_matter = td.value("networkMode", "bridge") != "awsvpc";
  for (const auto& c : td.value("containerDefinitions", json::array())) {
    const json* o = container_override(overrides, c.value("name", ""));
    cpu_sum += to_long(o && o->contains("cpu") ? (*o)["cpu"] : c.value("cpu", json(0)));
    json mem = o && o->contains("memory") ? (*o)["memory"] : c.value("memory", json());
    json res = o && o->contains("memoryReservation") ? (*o)["memoryReservation"] : c.value("memoryReservation", json());
    mem_sum += !res.is_null() ? to_long(res) : to_long(mem);
    if (!host_ports_matter) continue;
    for (const auto& pm : c.value("portMappings", json::array())) {
      long hp = to_long(pm.value("hostPort", json(0)));
      if (td.value("networkMode", "bridge") == "host") hp = to_long(pm.value("containerPort", json(0)));
      if (hp <= 0) continue;
      (pm.value("protocol", "tcp") == "udp" ? r.udp_ports : r.tcp_ports).push_back(hp);
    }
  }
  r.cpu = td.contains("cpu") ? to_long(td["cpu"]) : cpu_sum;
  r.memory = td.contains("memory") ? to_long(td["memory"]) : mem_sum;
  if (overrides.is_object()) {
    if (overrides.contains("cpu")) r.cpu = to_long(overrides["cpu"]);
    if (overrides.contains("memory")) r.memory = to_long(overrides["memory"]);
  }
  return r;
}

Resources task_resources(const store::TaskRow& task) {
  const json& priv = task.doc.value("_ecsd", json::object());
  return task_resources(priv.value("td", json::object()), task.doc.value("overrides", json::object()));
}

store::Record ensure_local_instance(store::Db& db, const store::Scope& scope, const store::Record& cluster, double now) {
  store::ContainerInstanceRepo repo(db);
  for (auto& r : repo.list(cluster.id))
    if (r.doc.value("ec2InstanceId", "").rfind("i-local", 0) == 0) return r;
  auto [cpu, mem] = host_capacity();
  std::string id = ids::hex(32);
  store::Record r;
  r.arn = arn::make("ecs", scope.region, scope.account, "container-instance/" + cluster.name + "/" + id);
  r.name = r.arn;
  r.status = "ACTIVE";
  r.created_at = now;
  json resources = json::array({
      {{"name", "CPU"}, {"type", "INTEGER"}, {"integerValue", cpu}, {"doubleValue", 0.0}, {"longValue", 0}},
      {{"name", "MEMORY"}, {"type", "INTEGER"}, {"integerValue", mem}, {"doubleValue", 0.0}, {"longValue", 0}},
      {{"name", "PORTS"}, {"type", "STRINGSET"}, {"stringSetValue", json::array({"22", "2375", "2376", "51678", "51679"})},
       {"doubleValue", 0.0}, {"longValue", 0}, {"integerValue", 0}},
      {{"name", "PORTS_UDP"}, {"type", "STRINGSET"}, {"stringSetValue", json::array()}, {"doubleValue", 0.0},
       {"longValue", 0}, {"integerValue", 0}}});
  r.doc = {{"containerInstanceArn", r.arn},
           {"ec2InstanceId", "i-local" + ids::hex(10)},
           {"version", 1},
           {"versionInfo", {{"agentVersion", "ecsd"}, {"dockerVersion", "DockerVersion: local"}}},
           {"registeredResources", resources},
           {"remainingResources", resources},
           {"status", "ACTIVE"},
           {"agentConnected", true},
           {"runningTasksCount", 0},
           {"pendingTasksCount", 0},
           {"attributes", json::array({{{"name", "ecs.os-type"}, {"value", "linux"}},
                                       {{"name", "ecs.availability-zone"}, {"value", scope.region + "a"}},
                                       {{"name", "ecs.capability.task-eni"}},
                                       {{"name", "ecs.capability.container-health-check"}},
                                       {{"name", "com.amazonaws.ecs.capability.logging-driver.awslogs"}},
                                       {{"name", "ecs.capability.container-ordering"}}})},
           {"registeredAt", now},
           {"attachments", json::array()},
           {"tags", json::array()}};
  repo.insert(scope, cluster.id, r);
  return r;
}

namespace {
// Resources of the unstopped tasks placed on an instance, with their counts.
struct Usage {
  Resources used;
  int running = 0, pending = 0;
};

Usage usage_on(store::Db& db, const store::Record& instance, std::int64_t cluster_id) {
  Usage u;
  store::TaskQuery q;
  q.cluster_id = cluster_id;
  q.container_instance_arn = instance.arn;
  q.limit = 1 << 30;
  for (const auto& t : store::TaskRepo(db).list(q)) {
    if (t.status == "STOPPED") continue;
    Resources r = task_resources(t);
    u.used.cpu += r.cpu;
    u.used.memory += r.memory;
    u.used.tcp_ports.insert(u.used.tcp_ports.end(), r.tcp_ports.begin(), r.tcp_ports.end());
    u.used.udp_ports.insert(u.used.udp_ports.end(), r.udp_ports.begin(), r.udp_ports.end());
    (t.status == "RUNNING" ? u.running : u.pending)++;
  }
  return u;
}

std::int64_t cluster_of(store::Db& db, const store::Record& instance) {
  return store::ContainerInstanceRepo(db).cluster_of(instance.id);
}

long registered(const json& doc, const char* name) {
  for (const auto& r : doc.value("registeredResources", json::array()))
    if (r.value("name", "") == name) return r.value("integerValue", 0L);
  return 0;
}
}  // namespace

json container_instance_view(store::Db& db, const store::Record& instance) {
  Usage u = usage_on(db, instance, cluster_of(db, instance));
  json doc = instance.doc;
  doc["runningTasksCount"] = u.running;
  doc["pendingTasksCount"] = u.pending;
  json remaining = doc["registeredResources"];
  for (auto& r : remaining) {
    std::string n = r.value("name", "");
    if (n == "CPU") r["integerValue"] = registered(doc, "CPU") - u.used.cpu;
    if (n == "MEMORY") r["integerValue"] = registered(doc, "MEMORY") - u.used.memory;
    if (n == "PORTS")
      for (long p : u.used.tcp_ports) r["stringSetValue"].push_back(std::to_string(p));
    if (n == "PORTS_UDP")
      for (long p : u.used.udp_ports) r["stringSetValue"].push_back(std::to_string(p));
  }
  doc["remainingResources"] = remaining;
  return doc;
}

std::string placement_failure(store::Db& db, const store::Record& instance, const Resources& need) {
  if (instance.status != "ACTIVE") return "RESOURCE:CPU";
  Usage u = usage_on(db, instance, cluster_of(db, instance));
  if (need.cpu > registered(instance.doc, "CPU") - u.used.cpu) return "RESOURCE:CPU";
  if (need.memory > registered(instance.doc, "MEMORY") - u.used.memory) return "RESOURCE:MEMORY";
  for (long p : need.tcp_ports)
    if (std::find(u.used.tcp_ports.begin(), u.used.tcp_ports.end(), p) != u.used.tcp_ports.end())
      return "RESOURCE:PORTS_TCP";
  for (long p : need.udp_ports)
    if (std::find(u.used.udp_ports.begin(), u.used.udp_ports.end(), p) != u.used.udp_ports.end())
      return "RESOURCE:PORTS_UDP";
  return "";
}

namespace {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::optional<std::string> attribute_of(const store::Record& instance, const std::string& name) {
  if (name == "ecs.instance-type") return std::string("local");
  for (const auto& a : instance.doc.value("attributes", json::array()))
    if (a.value("name", "") == name) return a.value("value", "");
  return std::nullopt;
}

// Evaluates one memberOf expression of the forms ecsd supports. @return nullopt when unparseable.
std::optional<bool> member_of(const store::Record& instance, const std::string& expr) {
  std::string e = trim(expr);
  if (e.rfind("attribute:", 0) != 0) {
    if (e.rfind("ec2InstanceId", 0) == 0) e = "attribute:ec2InstanceId" + e.substr(13);
    else return std::nullopt;
  }
  std::string rest = e.substr(10);
  auto attr_end = rest.find_first_of(" =!");
  std::string name = rest.substr(0, attr_end);
  std::string tail = attr_end == std::string::npos ? "" : trim(rest.substr(attr_end));
  std::optional<std::string> value =
      name == "ec2InstanceId" ? std::optional<std::string>(instance.doc.value("ec2InstanceId", "")) : attribute_of(instance, name);
  if (tail == "exists") return value.has_value();
  if (tail.rfind("==", 0) == 0) return value && *value == trim(tail.substr(2));
  if (tail.rfind("!=", 0) == 0) return !value || *value != trim(tail.substr(2));
  if (tail.rfind("in", 0) == 0) {
    auto open = tail.find('['), close = tail.find(']');
    if (open == std::string::npos || close == std::string::npos) return std::nullopt;
    std::string list = tail.substr(open + 1, close - open - 1);
    std::size_t pos = 0;
    while (pos <= list.size()) {
      auto comma = list.find(',', pos);
      if (value && trim(list.substr(pos, comma - pos)) == *value) return true;
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    return false;
  }
  return std::nullopt;
}

int group_tasks_on(store::Db& db, const store::Record& instance, std::int64_t cluster_id, const std::string& group) {
  store::TaskQuery q;
  q.cluster_id = cluster_id;
  q.container_instance_arn = instance.arn;
  q.desired_status = "RUNNING";
  q.limit = 1 << 30;
  int n = 0;
  for (const auto& t : store::TaskRepo(db).list(q)) n += t.doc.value("group", "") == group ? 1 : 0;
  return n;
}

long remaining(store::Db& db, const store::Record& instance, const char* resource) {
  json view = container_instance_view(db, instance);
  for (const auto& r : view.value("remainingResources", json::array()))
    if (r.value("name", "") == resource) return r.value("integerValue", 0L);
  return 0;
}

}  // namespace

std::string check_constraints(const json& constraints) {
  if (!constraints.is_array()) return "";
  store::Record dummy;
  for (const auto& c : constraints) {
    if (c.value("type", "") != "memberOf") continue;
    if (!member_of(dummy, c.value("expression", "")))
      return "The expression '" + c.value("expression", "") +
             "' is not supported. ecsd evaluates memberOf expressions of the forms 'attribute:NAME == VALUE', "
             "'attribute:NAME != VALUE', 'attribute:NAME in [A, B]' and 'attribute:NAME exists'.";
  }
  return "";
}

Placement place(store::Db& db, const store::Scope& scope, const store::Record& cluster, const Resources& need,
                const std::string& group, const json& constraints, const json& strategy, double now) {
  ensure_local_instance(db, scope, cluster, now);
  Placement out;
  std::vector<store::Record> fits;
  for (auto& inst : store::ContainerInstanceRepo(db).list(cluster.id)) {
    if (inst.status != "ACTIVE") continue;
    std::string failure = placement_failure(db, inst, need);
    bool allowed = true;
    if (constraints.is_array())
      for (const auto& c : constraints) {
        if (c.value("type", "") == "distinctInstance" && group_tasks_on(db, inst, cluster.id, group) > 0) {
          allowed = false;
          if (failure.empty()) failure = "DistinctInstance placement constraint unsatisfied.";
        }
        if (c.value("type", "") == "memberOf" && !member_of(inst, c.value("expression", "")).value_or(true)) {
          allowed = false;
          if (failure.empty()) failure = "MemberOf placement constraint unsatisfied.";
        }
      }
    if (out.closest.empty()) out.closest = inst.arn;
    if (failure.empty() && allowed) fits.push_back(inst);
    else if (out.failure.empty() || out.failure.rfind("RESOURCE:", 0) != 0) out.failure = failure;
  }
  if (fits.empty()) {
    if (out.failure.empty()) out.failure = "RESOURCE:CPU";
    return out;
  }
  // Strategies apply in order: the first decides, later ones break ties (stable sorts, last first).
  json strategies = strategy.is_array() ? strategy : json::array();
  for (auto it = strategies.rbegin(); it != strategies.rend(); ++it) {
    std::string type = it->value("type", ""), field = it->value("field", "");
    std::transform(field.begin(), field.end(), field.begin(), ::tolower);
    if (type == "binpack") {
      const char* res = field == "cpu" ? "CPU" : "MEMORY";
      std::stable_sort(fits.begin(), fits.end(), [&](const auto& a, const auto& b) {
        return remaining(db, a, res) < remaining(db, b, res);
      });
    } else if (type == "spread") {
      std::stable_sort(fits.begin(), fits.end(), [&](const auto& a, const auto& b) {
        return group_tasks_on(db, a, cluster.id, group) < group_tasks_on(db, b, cluster.id, group);
      });
    } else if (type == "random") {
      std::string seed = ids::hex(8);
      std::rotate(fits.begin(), fits.begin() + static_cast<long>(std::stoul(seed, nullptr, 16) % fits.size()), fits.end());
    }
  }
  out.instance = fits.front();
  out.failure.clear();
  return out;
}

}  // namespace ecsd::domain

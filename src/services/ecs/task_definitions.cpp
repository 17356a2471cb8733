// ECS task definition handlers: RegisterTaskDefinition, DescribeTaskDefinition,
// ListTaskDefinitions, ListTaskDefinitionFamilies, DeregisterTaskDefinition, DeleteTaskDefinitions.
#include <cmath>
#include <regex>
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/task_definition_repo.hpp"

namespace ecsd::services::ecs {

namespace {

// Parses "256", "0.25 vCPU" (cpu) or "512", "1 GB" / "1GB" (memory) to CPU units / MiB.
std::optional<long> parse_units(const std::string& s, const char* unit, long factor) {
  static const std::regex kValue(R"(^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$)");
  std::smatch m;
  if (!std::regex_match(s, m, kValue)) return std::nullopt;
  double v = std::stod(m[1].str());
  std::string u = m[2].str();
  std::transform(u.begin(), u.end(), u.begin(), ::tolower);
  if (u.empty()) return static_cast<long>(v);
  if (u == unit) return static_cast<long>(std::lround(v * static_cast<double>(factor)));
  return std::nullopt;
}

// The task sizes Fargate offers (CPU units -> allowed MiB).
bool fargate_size_ok(long cpu, long mem) {
  auto range = [&](long lo, long hi, long step) { return mem >= lo && mem <= hi && (mem - lo) % step == 0; };
  switch (cpu) {
    case 256: return mem == 512 || mem == 1024 || mem == 2048;
    case 512: return range(1024, 4096, 1024);
    case 1024: return range(2048, 8192, 1024);
    case 2048: return range(4096, 16384, 1024);
    case 4096: return range(8192, 30720, 1024);
    case 8192: return range(16384, 61440, 4096);
    case 16384: return range(32768, 122880, 8192);
    default: return false;
  }
}

bool contains(const json& list, const char* v) {
  if (!list.is_array()) return false;
  for (const auto& e : list)
    if (e.is_string() && e.get<std::string>() == v) return true;
  return false;
}

void add_attr(json& attrs, const std::string& name) {
  for (const auto& a : attrs)
    if (a["name"] == name) return;
  attrs.push_back({{"name", name}});
}

// The defaults ECS fills into each container definition it returns.
void default_container(json& c, const std::string& network_mode) {
  if (!c.contains("cpu")) c["cpu"] = 0;
  if (!c.contains("essential")) c["essential"] = true;
  for (const char* list : {"portMappings", "environment", "mountPoints", "volumesFrom", "systemControls"})
    if (!c.contains(list)) c[list] = json::array();
  if (c.contains("healthCheck")) {
    json& h = c["healthCheck"];
    if (!h.contains("interval")) h["interval"] = 30;
    if (!h.contains("timeout")) h["timeout"] = 5;
    if (!h.contains("retries")) h["retries"] = 3;
  }
  for (auto& pm : c["portMappings"]) {
    if (!pm.contains("protocol")) pm["protocol"] = "tcp";
    if ((network_mode == "awsvpc" || network_mode == "host") && !pm.contains("hostPort") && pm.contains("containerPort"))
      pm["hostPort"] = pm["containerPort"];
  }
}

// Attributes a container instance must have for this task definition, derived as ECS does.
json requires_attributes(const json& td) {
  json attrs = json::array();
  bool exec_role = td.contains("executionRoleArn");
  if (td.value("networkMode", "") == "awsvpc") {
    add_attr(attrs, "com.amazonaws.ecs.capability.docker-remote-api.1.18");
    add_attr(attrs, "ecs.capability.task-eni");
  }
  if (td.contains("taskRoleArn")) add_attr(attrs, "com.amazonaws.ecs.capability.task-iam-role");
  for (const auto& c : td["containerDefinitions"]) {
    if (c.contains("logConfiguration") && c["logConfiguration"].value("logDriver", "") == "awslogs") {
      add_attr(attrs, "com.amazonaws.ecs.capability.logging-driver.awslogs");
      add_attr(attrs, "com.amazonaws.ecs.capability.docker-remote-api.1.19");
      if (exec_role) add_attr(attrs, "ecs.capability.execution-role-awslogs");
    }
    if (c.contains("healthCheck")) add_attr(attrs, "ecs.capability.container-health-check");
    if (c.contains("dependsOn")) add_attr(attrs, "ecs.capability.container-ordering");
    if (c.value("image", "").find(".dkr.ecr.") != std::string::npos) {
      add_attr(attrs, "com.amazonaws.ecs.capability.ecr-auth");
      if (exec_role) add_attr(attrs, "ecs.capability.execution-role-ecr-pull");
    }
    for (const auto& s : c.value("secrets", json::array())) {
      std::string from = s.value("valueFrom", "");
      add_attr(attrs, from.find(":secretsmanager:") != std::string::npos
                          ? "ecs.capability.secrets.asm.environment-variables"
                          : "ecs.capability.secrets.ssm.environment-variables");
    }
  }
  return attrs;
}

[[noreturn]] void client_error(const std::string& msg) { throw ApiError("ClientException", msg); }

// Checks ECS applies at registration, and the normalisation it does to cpu/memory.
void check_and_normalise(json& td) {
  static const std::regex kFamily("^[a-zA-Z0-9_-]{1,255}$");
  if (!std::regex_match(td["family"].get<std::string>(), kFamily))
    client_error("Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, "
                 "hyphens, and underscores are allowed.");
  const json& containers = td["containerDefinitions"];
  if (containers.empty()) client_error("Container list cannot be empty.");
  std::set<std::string> names;
  for (const auto& c : containers) {
    std::string name = c.value("name", "");
    if (name.empty()) client_error("Container.name should not be null or empty.");
    if (c.value("image", "").empty()) client_error("Container.image should not be null or empty.");
    if (!names.insert(name).second) client_error("Duplicate container names are not allowed: " + name);
  }
  std::optional<long> cpu, mem;
  if (td.contains("cpu")) {
    cpu = parse_units(td["cpu"].get<std::string>(), "vcpu", 1024);
    if (!cpu) client_error("Invalid 'cpu' setting for task.");
    td["cpu"] = std::to_string(*cpu);
  }
  if (td.contains("memory")) {
    mem = parse_units(td["memory"].get<std::string>(), "gb", 1024);
    if (!mem) client_error("Invalid 'memory' setting for task.");
    td["memory"] = std::to_string(*mem);
  }
  std::string mode = td.value("networkMode", "");
  bool fargate = contains(td.value("requiresCompatibilities", json::array()), "FARGATE");
  if (fargate) {
    if (mode != "awsvpc") client_error("Fargate only supports network mode 'awsvpc'.");
    if (!cpu) client_error("Fargate requires that 'cpu' be defined at the task level.");
    if (!mem) client_error("Fargate requires that 'memory' be defined at the task level.");
    if (!fargate_size_ok(*cpu, *mem))
      client_error("No Fargate configuration exists for given values: " + std::to_string(*cpu) + " CPU, " +
                   std::to_string(*mem) + " memory. See the Amazon ECS documentation for the valid values.");
  } else if (!mem) {
    for (const auto& c : containers)
      if (!c.contains("memory") && !c.contains("memoryReservation"))
        client_error("Invalid setting for container '" + c.value("name", "") +
                     "'. At least one of 'memory' or 'memoryReservation' must be specified.");
  }
  for (const auto& c : containers) {
    if (c.contains("memory") && c.contains("memoryReservation") &&
        c["memoryReservation"].get<long>() > c["memory"].get<long>())
      client_error("Invalid setting for container '" + c.value("name", "") +
                   "'. 'memoryReservation' must be less than or equal to 'memory'.");
    if (mode == "awsvpc" || mode == "host")
      for (const auto& pm : c.value("portMappings", json::array()))
        if (pm.contains("hostPort") && pm.contains("containerPort") && pm["hostPort"] != pm["containerPort"])
          client_error("When networkMode=" + mode +
                       ", the host ports and container ports in port mappings must match.");
  }
  long cpu_sum = 0;
  for (const auto& c : containers) cpu_sum += c.value("cpu", 0L);
  if (cpu && cpu_sum > *cpu)
    client_error("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.");
  for (const auto& c : containers) {
    if (!c.contains("logConfiguration") || c["logConfiguration"].value("logDriver", "") != "awslogs") continue;
    const json opts = c["logConfiguration"].value("options", json::object());
    std::string missing;
    for (const char* k : {"awslogs-region", "awslogs-group"})
      if (!opts.contains(k)) missing += (missing.empty() ? "" : ", ") + std::string(k);
    if (!missing.empty()) client_error("Log driver awslogs requires options: " + missing);
    if (fargate && !td.contains("executionRoleArn"))
      client_error("Fargate requires task definition to have execution role ARN to support log driver awslogs.");
  }
  for (const auto& c : containers)
    for (const auto& dep : c.value("dependsOn", json::array())) {
      std::string cond = dep.value("condition", "");
      if (cond != "SUCCESS" && cond != "COMPLETE") continue;
      for (const auto& d : containers)
        if (d.value("name", "") == dep.value("containerName", "") && d.value("essential", true))
          client_error("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container");
    }
  json compat = json::array({"EC2"});
  if (mode == "awsvpc" && cpu && mem && fargate_size_ok(*cpu, *mem)) compat.push_back("FARGATE");
  if (mode != "awsvpc") compat.push_back("EXTERNAL");
  td["compatibilities"] = compat;
}

json with_tags(store::Db& db, const store::Record& r, bool include_tags) {
  json out = {{"taskDefinition", r.doc}};
  if (include_tags) out["tags"] = tags_json(store::TagRepo(db).get(r.arn));
  return out;
}

std::optional<store::Record> find_revision(store::Db& db, const RequestContext& ctx, const std::string& ref) {
  // Deregister/Delete need an explicit revision: "family" alone is not accepted.
  std::string family_rev = ref;
  if (auto a = arn::parse(ref)) family_rev = a->resource;
  if (family_rev.find(':') == std::string::npos) return std::nullopt;
  return find_task_definition(db, ctx, ref);
}

}  // namespace

json register_task_definition(RequestContext& ctx, const json& in) {
  json td = in;
  td.erase("tags");
  check_and_normalise(td);
  store::Tags tags = tags_from(in.value("tags", json::array()));
  std::string mode = td.value("networkMode", "");
  for (auto& c : td["containerDefinitions"]) default_container(c, mode);
  if (!td.contains("volumes")) td["volumes"] = json::array();
  if (!td.contains("placementConstraints")) td["placementConstraints"] = json::array();
  td["requiresAttributes"] = requires_attributes(td);
  td["status"] = "ACTIVE";
  td["registeredAt"] = ctx.now;
  td["registeredBy"] = ctx.principal();
  std::string family = td["family"].get<std::string>();
  return ctx.store.write([&](store::Db& db) {
    store::TaskDefinitionRepo repo(db);
    int revision = repo.next_revision(ctx.scope, family);
    store::Record r;
    r.name = family;
    r.arn = arn::make("ecs", ctx.scope.region, ctx.scope.account,
                      "task-definition/" + family + ":" + std::to_string(revision));
    r.status = "ACTIVE";
    r.created_at = ctx.now;
    td["taskDefinitionArn"] = r.arn;
    td["revision"] = revision;
    r.doc = std::move(td);
    repo.insert(ctx.scope, revision, r);
    store::TagRepo(db).put(r.arn, tags);
    return json{{"taskDefinition", std::move(r.doc)}, {"tags", tags_json(tags)}};
  });
}

json describe_task_definition(RequestContext& ctx, const json& in) {
  bool include_tags = contains(in.value("include", json::array()), "TAGS");
  return ctx.store.read([&](store::Db& db) {
    auto r = find_task_definition(db, ctx, in.at("taskDefinition").get<std::string>());
    if (!r) client_error("Unable to describe task definition.");
    return with_tags(db, *r, include_tags);
  });
}

json list_task_definitions(RequestContext& ctx, const json& in) {
  store::TaskDefinitionQuery q;
  q.family = in.value("familyPrefix", "");
  q.status = in.value("status", "ACTIVE");
  q.descending = in.value("sort", "ASC") == "DESC";
  q.limit = in.value("maxResults", 100);
  if (q.limit < 1 || q.limit > 100) throw ApiError("InvalidParameterException", "maxResults must be between 1 and 100.");
  q.offset = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  int page = q.limit;
  q.limit = page + 1;
  return ctx.store.read([&](store::Db& db) {
    auto rows = store::TaskDefinitionRepo(db).list(ctx.scope, q);
    json out = {{"taskDefinitionArns", json::array()}};
    for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(page); ++i)
      out["taskDefinitionArns"].push_back(rows[i].arn);
    if (rows.size() > static_cast<std::size_t>(page)) out["nextToken"] = encode_token(q.offset + page);
    return out;
  });
}

json list_task_definition_families(RequestContext& ctx, const json& in) {
  int page = in.value("maxResults", 100);
  if (page < 1 || page > 100) throw ApiError("InvalidParameterException", "maxResults must be between 1 and 100.");
  std::int64_t offset = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  return ctx.store.read([&](store::Db& db) {
    auto families = store::TaskDefinitionRepo(db).families(ctx.scope, in.value("familyPrefix", ""),
                                                          in.value("status", "ALL"), offset, page + 1);
    json out = {{"families", json::array()}};
    for (std::size_t i = 0; i < families.size() && i < static_cast<std::size_t>(page); ++i)
      out["families"].push_back(families[i]);
    if (families.size() > static_cast<std::size_t>(page)) out["nextToken"] = encode_token(offset + page);
    return out;
  });
}

json deregister_task_definition(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    auto r = find_revision(db, ctx, in.at("taskDefinition").get<std::string>());
    if (!r) client_error("The specified task definition does not exist.");
    if (r->status == "ACTIVE") {
      r->status = "INACTIVE";
      r->doc["status"] = "INACTIVE";
      r->doc["deregisteredAt"] = ctx.now;
      store::TaskDefinitionRepo(db).update(*r);
    }
    return json{{"taskDefinition", r->doc}};
  });
}

json delete_task_definitions(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    json out = {{"taskDefinitions", json::array()}, {"failures", json::array()}};
    for (const auto& ref : in.at("taskDefinitions")) {
      std::string s = ref.get<std::string>();
      auto r = find_revision(db, ctx, s);
      if (!r) {
        out["failures"].push_back({{"arn", s}, {"reason", "TASK_DEFINITION_NOT_FOUND"},
                                   {"detail", "The specified task definition does not exist."}});
        continue;
      }
      if (r->status == "ACTIVE") {
        out["failures"].push_back({{"arn", r->arn}, {"reason", "TASK_DEFINITION_ACTIVE"},
                                   {"detail", "The specified task definition is still in ACTIVE status. Please "
                                              "deregister the target and try again."}});
        continue;
      }
      if (r->status == "INACTIVE") {
        r->status = "DELETE_IN_PROGRESS";
        r->doc["status"] = "DELETE_IN_PROGRESS";
        r->doc["deleteRequestedAt"] = ctx.now;
        store::TaskDefinitionRepo(db).update(*r);
      }
      out["taskDefinitions"].push_back(r->doc);
    }
    return out;
  });
}

}  // namespace ecsd::services::ecs

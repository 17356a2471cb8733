// Target health transitions and the ELBv2 read models for the data plane and ECS.
#include "ecsd/domain/elb.hpp"

#include "ecsd/common/clock.hpp"

#include <algorithm>
#include <atomic>

namespace ecsd::domain::elb {

namespace {
// ELB's descriptions for its reasons, verbatim.
constexpr const char* kRegistrationInProgress = "Target registration is in progress";
constexpr const char* kNotInUse = "Target group is not configured to receive traffic from the load balancer";
constexpr const char* kHealthCheckDisabled = "Health checks are disabled for the target group";
constexpr const char* kDeregistrationInProgress = "Target deregistration is in progress";
constexpr const char* kNotRegistered = "Target is not registered to the target group";

int attribute_int(const json& attributes, const char* key, int def) {
  auto it = attributes.find(key);
  if (it == attributes.end() || !it->is_string()) return def;
  try {
    return std::stoi(it->get<std::string>());
  } catch (const std::exception&) {
    return def;
  }
}

// Actions in the order the data plane performs them: by Order when given, else as listed.
json ordered_actions(const json& actions) {
  json out = actions.is_array() ? actions : json::array();
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a.value("Order", 0) < b.value("Order", 0);
  });
  return out;
}

std::vector<RuleView> rules_of(store::Db& db, std::int64_t listener_id) {
  std::vector<RuleView> out;
  for (auto& r : store::RuleRepo(db).list(listener_id))
    out.push_back({r.arn, r.priority, r.doc.value("Conditions", json::array()),
                   ordered_actions(r.doc.value("Actions", json::array()))});
  return out;
}

TargetGroupView view_of(store::Db& db, store::TargetGroupRow group) {
  TargetGroupView v;
  v.targets = store::TargetRepo(db).list(group.id);
  v.load_balancer_arns = store::TargetGroupRepo(db).load_balancer_arns(group.id);
  v.group = std::move(group);
  return v;
}

std::atomic<std::uint64_t> g_generation{0};

void put(store::TargetRepo& repo, store::TargetRow& t, const Health& h, double drain_until, double now) {
  t.state = h.state;
  t.reason = h.reason;
  t.description = h.description;
  t.drain_until = drain_until;
  t.updated_at = now;
  repo.update(t);
  touch();
}
}  // namespace

std::uint64_t generation() { return g_generation.load(std::memory_order_acquire); }
void touch() { g_generation.fetch_add(1, std::memory_order_acq_rel); }

Health registered_health(bool used, bool health_check_enabled) {
  if (!used) return {kUnused, "Target.NotInUse", kNotInUse};
  if (!health_check_enabled) return {kUnavailable, "Target.HealthCheckDisabled", kHealthCheckDisabled};
  return {kInitial, "Elb.RegistrationInProgress", kRegistrationInProgress};
}

Health draining_health() { return {kDraining, "Target.DeregistrationInProgress", kDeregistrationInProgress}; }

Health not_registered_health() { return {kUnused, "Target.NotRegistered", kNotRegistered}; }

Health healthy_health() { return {kHealthy, "", ""}; }

Health unhealthy_health(const std::string& reason, const std::string& detail) {
  std::string description = "Health checks failed";
  if (reason == "Target.ResponseCodeMismatch") description = "Health checks failed with these codes:";
  else if (reason == "Target.Timeout") description = "Request timed out";
  if (!detail.empty()) description += " " + detail;
  return {kUnhealthy, reason, description};
}

bool routable(std::string_view state) { return state == kHealthy || state == kUnavailable; }

bool in_use(store::Db& db, std::int64_t target_group_id) {
  return !store::TargetGroupRepo(db).load_balancer_arns(target_group_id).empty();
}

bool health_check_enabled(const store::TargetGroupRow& group) { return group.doc.value("HealthCheckEnabled", true); }

double deregistration_delay(const store::TargetGroupRow& group) {
  return attribute_int(group.attributes, "deregistration_delay.timeout_seconds", 300);
}

int group_port(const store::TargetGroupRow& group) { return group.doc.value("Port", 0); }

int health_check_port(const store::TargetGroupRow& group, const store::TargetRow& target) {
  std::string p = group.doc.value("HealthCheckPort", "traffic-port");
  if (p == "traffic-port" || p.empty()) return target.port;
  try {
    return std::stoi(p);
  } catch (const std::exception&) {
    return target.port;
  }
}

void register_targets(store::Db& db, const store::TargetGroupRow& group, const std::vector<TargetRef>& targets,
                      double now) {
  store::TargetRepo repo(db);
  Health h = registered_health(in_use(db, group.id), health_check_enabled(group));
  for (const auto& ref : targets) {
    int port = ref.port ? ref.port : group_port(group);
    if (auto existing = repo.find(group.id, ref.id, port)) {
      if (existing->state != kDraining) continue;
      existing->registered_at = now;
      put(repo, *existing, h, 0, now);
      continue;
    }
    store::TargetRow t;
    t.target_group_id = group.id;
    t.target_id = ref.id;
    t.port = port;
    t.availability_zone = ref.availability_zone;
    t.state = h.state;
    t.reason = h.reason;
    t.description = h.description;
    t.registered_at = t.updated_at = now;
    repo.insert(t);
    touch();
  }
}

void deregister_targets(store::Db& db, const store::TargetGroupRow& group, const std::vector<TargetRef>& targets,
                        double now) {
  store::TargetRepo repo(db);
  double delay = scaled(deregistration_delay(group));  // CI time scale (clock.hpp)
  bool used = in_use(db, group.id);
  for (const auto& ref : targets) {
    auto t = repo.find(group.id, ref.id, ref.port ? ref.port : group_port(group));
    if (!t || t->state == kDraining) continue;
    if (!used || delay <= 0 || t->state == kUnused) {
      repo.remove(t->id);
      touch();
    } else put(repo, *t, draining_health(), now + delay, now);
  }
}

bool register_targets(store::Db& db, std::string_view target_group_arn, const std::vector<TargetRef>& targets,
                      double now) {
  auto group = store::TargetGroupRepo(db).find_by_arn(target_group_arn);
  if (!group) return false;
  register_targets(db, *group, targets, now);
  return true;
}

bool deregister_targets(store::Db& db, std::string_view target_group_arn, const std::vector<TargetRef>& targets,
                        double now) {
  auto group = store::TargetGroupRepo(db).find_by_arn(target_group_arn);
  if (!group) return false;
  deregister_targets(db, *group, targets, now);
  return true;
}

bool set_target_health(store::Db& db, std::string_view target_group_arn, std::string_view target_id, int port,
                       const Health& health, double now) {
  auto group = store::TargetGroupRepo(db).find_by_arn(target_group_arn);
  if (!group) return false;
  store::TargetRepo repo(db);
  auto t = repo.find(group->id, target_id, port);
  if (!t || t->state == kDraining || t->state == kUnused) return false;
  if (Health{t->state, t->reason, t->description} == health) return false;
  put(repo, *t, health, 0, now);
  return true;
}

int purge_drained(store::Db& db, double now) {
  int n = store::TargetRepo(db).remove_drained(now);
  if (n > 0) touch();
  return n;
}

void refresh_targets(store::Db& db, const store::TargetGroupRow& group, double now) {
  bool used = in_use(db, group.id);
  bool checks = health_check_enabled(group);
  store::TargetRepo repo(db);
  for (auto& t : repo.list(group.id)) {
    if (t.state == kDraining) {
      if (!used) {
        repo.remove(t.id);
        touch();
      }
      continue;
    }
    // A target that is in use and checked keeps what the checks found (initial, healthy, unhealthy).
    bool resting = t.state == kUnused || t.state == kUnavailable;
    if (used && checks && !resting) continue;
    Health want = registered_health(used, checks);
    if (Health{t.state, t.reason, t.description} != want) put(repo, t, want, 0, now);
  }
}

std::vector<ListenerView> listeners(store::Db& db) {
  std::vector<ListenerView> out;
  store::ListenerRepo listener_repo(db);
  for (auto& lb : store::LoadBalancerRepo(db).all())
    for (auto& l : listener_repo.list(lb.id)) {
      auto rules = rules_of(db, l.id);
      out.push_back({std::move(l), lb, std::move(rules)});
    }
  return out;
}

std::optional<ListenerView> listener(store::Db& db, std::string_view listener_arn) {
  auto l = store::ListenerRepo(db).find_by_arn(listener_arn);
  if (!l) return std::nullopt;
  auto lb = store::LoadBalancerRepo(db).find_by_id(l->load_balancer_id);
  if (!lb) return std::nullopt;
  auto rules = rules_of(db, l->id);
  return ListenerView{std::move(*l), std::move(*lb), std::move(rules)};
}

std::optional<TargetGroupView> target_group(store::Db& db, std::string_view target_group_arn) {
  auto g = store::TargetGroupRepo(db).find_by_arn(target_group_arn);
  if (!g) return std::nullopt;
  return view_of(db, std::move(*g));
}

std::vector<TargetGroupView> target_groups_in_use(store::Db& db) {
  std::vector<TargetGroupView> out;
  for (auto& g : store::TargetGroupRepo(db).all_in_use()) out.push_back(view_of(db, std::move(g)));
  return out;
}

}  // namespace ecsd::domain::elb

// Reconciler plumbing: workers, the engine event follower, periodic resync and cleanup.
#include <spdlog/spdlog.h>

#include "ecsd/common/clock.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/reconciler/log_follower.hpp"
#include "ecsd/reconciler/reconciler.hpp"
#include "ecsd/store/log_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::reconciler {

namespace {
// Drops what the metadata endpoint and the awslogs followers kept about a task that is going away:
// its path tokens, its credentials and its containers' log resume points.
void forget_task_meta(store::Db& db, const store::TaskRow& t) {
  store::MetaRepo meta(db);
  const nlohmann::json priv = t.doc.value("_ecsd", nlohmann::json::object());
  const nlohmann::json tokens = priv.value("metadata", nlohmann::json::object());  // a copy: items() must not dangle
  for (const auto& [name, token] : tokens.items())
    if (token.is_string()) meta.remove("mdtoken:" + token.get<std::string>());
  const nlohmann::json cred = priv.value("credentials", nlohmann::json::object());
  if (cred.contains("id")) meta.remove("mdcred:" + cred.value("id", ""));
  if (cred.contains("AccessKeyId")) meta.remove("taskcred:" + cred.value("AccessKeyId", ""));
  const nlohmann::json containers = t.doc.value("containers", nlohmann::json::array());
  for (const auto& c : containers)
    if (!c.value("runtimeId", "").empty()) meta.remove("awslogs:" + c.value("runtimeId", ""));
}
}  // namespace

Reconciler::Reconciler(store::Store& store, runtime::ContainerRuntime& runtime, Options options)
    : store_(store),
      runtime_(runtime),
      opt_(std::move(options)),
      followers_(std::make_unique<LogFollowers>(store, runtime)) {}

Reconciler::~Reconciler() { stop(); }

std::string Reconciler::awsvpc_network() const { return "ecsd-" + opt_.instance_id.substr(0, 12) + "-awsvpc"; }

std::string Reconciler::network_gateway(const std::string& name) {
  constexpr double kRemember = 10;  // seconds
  double now = clock().monotonic();
  {
    std::lock_guard lock(gateway_mu_);
    auto it = gateways_.find(name);
    if (it != gateways_.end() && it->second.second > now) return it->second.first;
  }
  std::string address = runtime_.network_gateway(name);
  if (!address.empty()) {
    std::lock_guard lock(gateway_mu_);
    gateways_[name] = {address, now + kRemember};
  }
  return address;
}

void Reconciler::forget_gateways() {
  std::lock_guard lock(gateway_mu_);
  gateways_.clear();
}

void Reconciler::start() {
  for (int i = 0; i < opt_.workers; ++i) threads_.emplace_back([this] { worker(); });
  threads_.emplace_back([this] { follow_events(); });
  threads_.emplace_back([this] { resync_loop(); });
}

void Reconciler::stop() {
  if (stopping_.exchange(true)) return;
  queue_.shutdown();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  followers_->stop_all();
}

void Reconciler::enqueue(const std::string& key, double delay_seconds) { queue_.add(key, delay_seconds); }

Outcome Reconciler::step(const std::string& key) {
  auto colon = key.find(':');
  std::string kind = key.substr(0, colon), arn = key.substr(colon + 1);
  if (kind == "task") return task_pass(arn);
  if (kind == "service") return service_pass(arn);
  if (kind == "cluster") {
    // A container instance changed: every service of the cluster may be able to place tasks now.
    resync();
    return {};
  }
  return {};
}

void Reconciler::worker() {
  while (auto key = queue_.get()) {
    Outcome out;
    try {
      out = step(*key);
    } catch (const store::ConflictError& e) {
      spdlog::debug("reconcile {}: {}; retrying", *key, e.what());
      out.requeue_after = 0.05;
    } catch (const std::exception& e) {
      spdlog::warn("reconcile {} failed: {}", *key, e.what());
      out.requeue_after = 2;
    }
    queue_.done(*key);
    if (out.requeue_after >= 0) queue_.add(*key, out.requeue_after);
  }
}

void Reconciler::follow_events() {
  double backoff = 0.5;
  while (!stopping_) {
    try {
      runtime_.watch_events({std::string(domain::kLabelInstance) + "=" + opt_.instance_id},
                            [this](const runtime::Event& e) {
                              auto it = e.labels.find(domain::kLabelTaskArn);
                              if (it != e.labels.end()) enqueue("task:" + it->second);
                            },
                            stopping_);
      backoff = 0.5;
    } catch (const std::exception& e) {
      if (engine_up_.exchange(false))
        spdlog::error("container engine unreachable ({}): {}; tasks cannot start until it is back",
                      opt_.engine_description, e.what());
    }
    forget_gateways();  // the stream broke or ended: the engine may have restarted with other networks
    // Bounded wait before reconnecting, noticing stop quickly.
    for (double waited = 0; waited < backoff && !stopping_; waited += 0.1)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    backoff = std::min(backoff * 2, 5.0);
    if (!stopping_ && runtime_.ping()) {
      if (!engine_up_.exchange(true)) {
        spdlog::info("container engine is reachable again");
        resync();
      }
    }
  }
}

void Reconciler::resync_loop() {
  double next = 0;
  while (!stopping_) {
    double now = clock().monotonic();
    if (now >= next) {
      try {
        resync();
      } catch (const std::exception& e) {
        spdlog::warn("resync failed: {}", e.what());
      }
      next = now + opt_.resync_seconds;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void Reconciler::resync() {
  double now = clock().now();
  auto [tasks, services, expired] = store_.read([&](store::Db& db) {
    std::vector<std::string> t, s;
    for (const auto& row : store::TaskRepo(db).all_unstopped()) t.push_back(row.arn);
    for (const auto& row : store::ServiceRepo(db).all_live_everywhere()) s.push_back(row.arn);
    auto e = store::TaskRepo(db).stopped_before(now - opt_.stopped_task_retention_seconds);
    return std::make_tuple(t, s, e);
  });
  for (const auto& a : tasks) enqueue("task:" + a);
  for (const auto& a : services) enqueue("service:" + a);
  // Log events past their group's retention, and services deleted more than an hour ago, go
  // (reads already hide both).
  store_.write([&](store::Db& db) {
    store::LogRepo(db).expire(static_cast<std::int64_t>(now * 1000));
    store::ServiceRepo(db).purge_inactive(now - store::kInactiveServiceRetentionSeconds);
  });
  // Expired STOPPED tasks go, containers included.
  for (const auto& a : expired) {
    try {
      for (const auto& c : runtime_.list_containers_brief({std::string(domain::kLabelTaskArn) + "=" + a}))
        runtime_.remove_container(c.id, true);
      runtime_.remove_volumes({std::string(domain::kLabelTaskArn) + "=" + a});
    } catch (const runtime::RuntimeError&) {
      continue;  // keep the row until its containers can be removed
    }
    store_.write([&](store::Db& db) {
      store::TaskRepo tasks(db);
      if (auto row = tasks.find_by_arn(a)) forget_task_meta(db, *row);
      tasks.remove(a);
    });
  }
  // Orphans: containers labelled as ours whose task no longer exists. The labels come with the
  // engine's list: no inspect (which would also wait behind a container that is starting).
  try {
    for (const auto& c : runtime_.list_containers_brief({std::string(domain::kLabelInstance) + "=" + opt_.instance_id})) {
      auto it = c.labels.find(domain::kLabelTaskArn);
      if (it == c.labels.end()) continue;
      bool known = store_.read([&](store::Db& db) { return store::TaskRepo(db).find_by_arn(it->second).has_value(); });
      if (!known) {
        spdlog::info("removing orphan container {} of unknown task {}", c.name, it->second);
        runtime_.remove_container(c.id, true);
      }
    }
  } catch (const runtime::RuntimeError&) {
  }
}

void Reconciler::stop_log_followers() { followers_->stop_all(); }

void Reconciler::remove_all_runtime_objects() {
  ++generation_;
  followers_->stop_all();
  forget_gateways();
  try {
    // Two sweeps: a pass that was creating a container when the first one ran sees the new
    // generation and gives up, but may already have created it.
    for (int sweep = 0; sweep < 2; ++sweep) {
      if (sweep) std::this_thread::sleep_for(std::chrono::milliseconds(150));
      for (const auto& c : runtime_.list_containers_brief({std::string(domain::kLabelInstance) + "=" + opt_.instance_id}))
        runtime_.remove_container(c.id, true);
      for (const auto& n : runtime_.list_networks({std::string(domain::kLabelInstance) + "=" + opt_.instance_id}))
        runtime_.remove_network(n);
      runtime_.remove_volumes({std::string(domain::kLabelInstance) + "=" + opt_.instance_id});
    }
    // Subnet networks may be shared with other daemons: remove those nobody uses any more.
    for (const auto& n : runtime_.list_networks({std::string(domain::kLabelManaged) + "=true"})) {
      if (n.rfind("ecsd-subnet-", 0) != 0) continue;
      try {
        runtime_.remove_network(n);
      } catch (const runtime::RuntimeError&) {
      }
    }
  } catch (const runtime::RuntimeError& e) {
    spdlog::warn("could not remove containers: {}", e.what());
  }
}

}  // namespace ecsd::reconciler

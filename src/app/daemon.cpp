// Daemon assembly and lifecycle.
#include "ecsd/app/daemon.hpp"

#include <cstdlib>
#include <functional>
#include <filesystem>
#include <iostream>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include "ecsd/common/clock.hpp"
#include "ecsd/common/version.hpp"
#include "ecsd/http/router.hpp"
#include "ecsd/alb/data_plane.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/common/loop_thread.hpp"
#include "ecsd/http/server.hpp"
#include "ecsd/metadata/metadata_server.hpp"
#include "ecsd/reconciler/reconciler.hpp"
#include "ecsd/runtime/docker/docker_client.hpp"
#include "ecsd/registry/http_server.hpp"
#include "ecsd/registry/registry.hpp"
#include "ecsd/store/task_repo.hpp"
#include "ecsd/services/dispatcher.hpp"
#include "ecsd/services/ecr/ecr.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"
#include "ecsd/services/logs/logs.hpp"
#include "ecsd/services/sts/sts.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::app {

namespace asio = boost::asio;

std::string default_data_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/ecsd";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/ecsd";
  return "./ecsd-data";
}

namespace {
constexpr const char* kUsage = R"(Usage: ecsd [options]

A local, AWS-compatible Amazon ECS control plane.

Options:
  --host ADDR         address to listen on (default 127.0.0.1)
  --port N            API port (default 4566)
  --registry-port N   ECR registry port (default 4510; 0 = no registry); served on 127.0.<i>.1,
                      one loopback address per region (us-east-1 = 127.0.1.1)
  --data-dir DIR      where the SQLite store lives (default $XDG_DATA_HOME/ecsd or ~/.local/share/ecsd)
  --account-id ID     12-digit AWS account id (default 000000000000)
  --registry-sweep-seconds S  how often lifecycle policies and blob garbage collection run (default 30)
  --log-level LEVEL   trace, debug, info, warn, error or off (default info)
  --threads N         threads serving API connections, and as many for the other I/O (default 2)
  --allow-privileged  let task definitions run privileged containers (off by default)
  --allow-host-path P let host volumes bind paths under P (repeatable; the data dir and /tmp are allowed)
  --no-scheduler      serve the API only; never start containers
  --time-scale N      make bake times, intervals, health checks, grace periods, deregistration
                      delays and stop timeouts pass N times faster (for CI; default 1; also
                      POST /_ecsd/clock {"scale": N}); timestamps stay wall-clock
  --help              show this help
  --version           show the version
)";
}  // namespace

std::optional<Config> parse_args(const std::vector<std::string>& args, int& exit_code) {
  Config cfg;
  auto usage_error = [&](const std::string& msg) -> std::optional<Config> {
    std::cerr << "ecsd: " << msg << "\n" << kUsage;
    exit_code = 2;
    return std::nullopt;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      exit_code = 0;
      return std::nullopt;
    }
    if (a == "--allow-privileged") {
      cfg.allow_privileged = true;
      continue;
    }
    if (a == "--no-scheduler") {
      cfg.scheduler = false;
      continue;
    }
    if (a == "--version") {
      std::cout << "ecsd " << kVersion << "\n";
      exit_code = 0;
      return std::nullopt;
    }
    std::string key = a, value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      key = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usage_error("missing value for " + a);
    }
    try {
      if (key == "--host") cfg.host = value;
      else if (key == "--port") {
        int p = std::stoi(value);
        if (p < 0 || p > 65535) return usage_error("port out of range: " + value);
        cfg.port = static_cast<unsigned short>(p);
      } else if (key == "--registry-port") {
        int p = std::stoi(value);
        if (p < 0 || p > 65535) return usage_error("port out of range: " + value);
        cfg.registry_port = static_cast<unsigned short>(p);
        cfg.registry_port_given = true;
      } else if (key == "--registry-sweep-seconds") {
        cfg.registry_sweep_seconds = std::stod(value);
        if (cfg.registry_sweep_seconds <= 0) return usage_error("bad value for " + key + ": " + value);
      } else if (key == "--data-dir") cfg.data_dir = value;
      else if (key == "--account-id") {
        if (value.size() != 12 || value.find_first_not_of("0123456789") != std::string::npos)
          return usage_error("account id must be 12 digits: " + value);
        cfg.account_id = value;
      } else if (key == "--log-level") cfg.log_level = value;
      else if (key == "--threads") cfg.threads = std::max(1, std::stoi(value));
      else if (key == "--allow-host-path") cfg.allowed_host_paths.push_back(value);
      else if (key == "--time-scale") {
        cfg.time_scale = std::stod(value);
        if (!(cfg.time_scale > 0 && cfg.time_scale <= 10000))
          return usage_error("time scale must be > 0 and <= 10000: " + value);
      }
      else return usage_error("unknown option " + key);
    } catch (const std::exception&) {
      return usage_error("bad value for " + key + ": " + value);
    }
  }
  if (cfg.data_dir.empty()) cfg.data_dir = default_data_dir();
  return cfg;
}

struct Daemon::Impl {
  Config cfg;
  asio::io_context io;
  // The API port's connections: one loop per --threads, each run by a thread of its own (see
  // http::Server::run_connections_on). Declared before `server`, so they outlive its connections.
  std::vector<std::unique_ptr<LoopThread>> api_loops;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<services::Dispatcher> dispatcher;
  std::unique_ptr<runtime::DockerClient> docker;
  std::unique_ptr<metadata::MetadataServer> metadata;  // outlives the reconciler that hands out its URLs
  std::unique_ptr<reconciler::Reconciler> reconciler;
  std::unique_ptr<alb::DataPlane> alb;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<registry::HttpServer> registry_server;
  std::thread sweeper;
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool sweep_stop = false;
};

namespace {
// A stable id for this daemon's data dir: labels its containers so several daemons can share
// one engine, and so a restarted daemon adopts exactly its own containers.
std::string instance_id(store::Store& st) {
  return st.write([](store::Db& db) {
    store::MetaRepo meta(db);
    if (auto id = meta.get("instance_id")) return *id;
    std::string id = ids::hex(16);
    meta.put("instance_id", id);
    return id;
  });
}
}  // namespace

Daemon::Daemon(Config cfg) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(cfg);
  auto& c = impl_->cfg;
  clock().set_scale(c.time_scale);
  std::filesystem::create_directories(c.data_dir);
  impl_->store = std::make_unique<store::Store>(c.data_dir + "/ecsd.db");
  impl_->dispatcher = std::make_unique<services::Dispatcher>(*impl_->store, c.account_id);
  impl_->dispatcher->add(services::ecs::make_api());
  impl_->dispatcher->add(services::sts::make_api());
  impl_->dispatcher->add(services::elbv2::make_api());
  impl_->dispatcher->add(services::ec2::make_api());
  impl_->dispatcher->add(services::logs::make_api());
  registry::RegistryOptions ropt;
  ropt.account_id = c.account_id;
  ropt.port = c.registry_port;
  impl_->registry = std::make_unique<registry::Registry>(*impl_->store, c.data_dir + "/registry", ropt);
  impl_->dispatcher->add(services::ecr::make_api(*impl_->registry));
  if (c.registry_port) {
    try {
      impl_->registry_server = std::make_unique<registry::HttpServer>(impl_->io, *impl_->registry, c.registry_port);
    } catch (const boost::system::system_error& e) {
      // The default port may be held by another ecsd on this machine: serve the API anyway.
      if (c.registry_port_given) throw;
      spdlog::warn("registry not served: cannot listen on port {} ({}); pass --registry-port", c.registry_port,
                   e.what());
    }
  }
  const std::string iid = instance_id(*impl_->store);
  if (c.scheduler) {
    impl_->docker = std::make_unique<runtime::DockerClient>();
    reconciler::Options opt;
    opt.instance_id = iid;
    opt.host_policy.allow_privileged = c.allow_privileged;
    opt.host_policy.allowed_host_paths = c.allowed_host_paths;
    opt.host_policy.allowed_host_paths.push_back(std::filesystem::absolute(c.data_dir).string());
    opt.host_policy.allowed_host_paths.push_back("/tmp");
    opt.engine_description = "unix://" + impl_->docker->socket_path();
    impl_->metadata = std::make_unique<metadata::MetadataServer>(*impl_->store, impl_->docker.get());
    auto* md = impl_->metadata.get();
    opt.metadata_endpoint = [md](const std::string& address) { return md->endpoint_on(address); };
    opt.new_credentials = metadata::new_task_credentials;
    opt.serve_link_local = [md](const std::string& id, int pid) { md->serve_link_local(id, pid); };
    opt.release_link_local = [md](const std::string& id) { md->release_link_local(id); };
    auto* reg = impl_->registry.get();
    opt.registry_auth = [reg](const std::string& image) { return services::ecr::pull_auth(*reg, image); };
    impl_->reconciler = std::make_unique<reconciler::Reconciler>(*impl_->store, *impl_->docker, opt);
  }
  {
    // Reconciler keys; ELBv2 changes also wake the ALB data plane at once (see domain::elb::generation).
    auto* rec = impl_->reconciler.get();
    impl_->dispatcher->set_notify([rec](const std::string& key) {
      if (key.rfind("load-balancer:", 0) == 0 || key.rfind("target-group:", 0) == 0) domain::elb::touch();
      if (rec) rec->enqueue(key);
    });
  }
  alb::Options alb_options;
  alb_options.host = c.host;
  alb_options.data_dir = c.data_dir;
  impl_->alb = std::make_unique<alb::DataPlane>(impl_->io, *impl_->store, alb_options);
  auto* st = impl_->store.get();
  auto* rec = impl_->reconciler.get();
  auto* lb = impl_->alb.get();
  auto* mds = impl_->metadata.get();
  std::vector<asio::io_context*> loops;
  for (int i = 0; i < c.threads; ++i) {
    impl_->api_loops.push_back(std::make_unique<LoopThread>());
    loops.push_back(&impl_->api_loops.back()->io());
  }
  impl_->server = std::make_unique<http::Server>(impl_->io, c.host, c.port,
                                                 http::make_api_router(*impl_->dispatcher, {[st, rec, mds] {
                                                   if (rec) rec->stop_log_followers();
                                                   if (mds) mds->release_all_link_local();
                                                   st->reset();
                                                   if (rec) rec->remove_all_runtime_objects();
                                                 },
                                                 [lb] {
                                                   nlohmann::json out = nlohmann::json::object();
                                                   for (const auto& [arn, port] : lb->ports()) out[arn] = port;
                                                   return out.dump();
                                                 },
                                                 iid}));
  impl_->server->run_connections_on(std::move(loops));
}

Daemon::~Daemon() = default;

unsigned short Daemon::port() const { return impl_->server->port(); }

int Daemon::run() {
  auto& io = impl_->io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer poll(io);
  double grace_until = 0;
  // After a signal: wait until every connection has closed, or the grace period is over.
  std::function<void()> wait_idle = [&] {
    if (impl_->server->idle() && (!impl_->registry_server || impl_->registry_server->idle())) {
      io.stop();  // ALB keep-alive connections and health checks end with the loop
      return;
    }
    if (clock().monotonic() > grace_until) {
      spdlog::warn("shutdown grace period over; stopping");
      io.stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](const boost::system::error_code& e) {
      if (!e) wait_idle();
    });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: finishing in-flight requests", sig);
    impl_->server->stop();
    impl_->alb->stop();
    if (impl_->registry_server) impl_->registry_server->stop();
    grace_until = clock().monotonic() + 10;
    // Give the stop a moment to reach the connections' strands before checking.
    poll.expires_after(std::chrono::milliseconds(5));
    poll.async_wait([&](const boost::system::error_code& e) {
      if (!e) wait_idle();
    });
  });
  if (impl_->reconciler) impl_->reconciler->start();
  impl_->alb->start();
  impl_->server->start();
  if (impl_->registry_server) {
    impl_->registry_server->start();
    spdlog::info("registry listening on {} (us-east-1)", impl_->registry->registry_host("us-east-1"));
  }
  // Lifecycle policies and blob garbage collection, off the I/O threads.
  impl_->sweeper = std::thread([this] {
    auto* im = impl_.get();
    std::unique_lock lock(im->sweep_mu);
    while (!im->sweep_cv.wait_for(lock, std::chrono::duration<double>(im->cfg.registry_sweep_seconds),
                                  [im] { return im->sweep_stop; })) {
      lock.unlock();
      try {
        im->registry->apply_lifecycle_policies(clock().now());
        im->registry->collect_garbage(clock().now());
      } catch (const std::exception& e) {
        spdlog::error("registry sweep failed: {}", e.what());
      }
      lock.lock();
    }
  });
  spdlog::info("ecsd {} listening on {}:{} (data dir {}, account {})", kVersion, impl_->cfg.host, port(),
               impl_->cfg.data_dir, impl_->cfg.account_id);
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->cfg.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  for (auto& loop : impl_->api_loops) loop->stop();  // connections still open after the grace period
  if (impl_->reconciler) impl_->reconciler->stop();
  impl_->metadata.reset();
  {
    std::lock_guard lock(impl_->sweep_mu);
    impl_->sweep_stop = true;
  }
  impl_->sweep_cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
  impl_->registry_server.reset();
  impl_->server.reset();
  impl_->alb.reset();
  impl_->dispatcher.reset();
  impl_->registry.reset();
  impl_->store.reset();
  spdlog::info("ecsd stopped");
  return 0;
}

}  // namespace ecsd::app

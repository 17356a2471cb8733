// Daemon assembly and lifecycle.
#include "ecsd/app/daemon.hpp"

#include <cstdlib>
#include <functional>
#include <filesystem>
#include <iostream>
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
#include "ecsd/http/server.hpp"
#include "ecsd/reconciler/reconciler.hpp"
#include "ecsd/runtime/docker/docker_client.hpp"
#include "ecsd/store/task_repo.hpp"
#include "ecsd/services/dispatcher.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"
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
  --data-dir DIR      where the SQLite store lives (default $XDG_DATA_HOME/ecsd or ~/.local/share/ecsd)
  --account-id ID     12-digit AWS account id (default 000000000000)
  --log-level LEVEL   trace, debug, info, warn, error or off (default info)
  --threads N         I/O threads (default 2)
  --allow-privileged  let task definitions run privileged containers (off by default)
  --allow-host-path P let host volumes bind paths under P (repeatable; the data dir and /tmp are allowed)
  --no-scheduler      serve the API only; never start containers
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
      } else if (key == "--data-dir") cfg.data_dir = value;
      else if (key == "--account-id") {
        if (value.size() != 12 || value.find_first_not_of("0123456789") != std::string::npos)
          return usage_error("account id must be 12 digits: " + value);
        cfg.account_id = value;
      } else if (key == "--log-level") cfg.log_level = value;
      else if (key == "--threads") cfg.threads = std::max(1, std::stoi(value));
      else if (key == "--allow-host-path") cfg.allowed_host_paths.push_back(value);
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
  std::unique_ptr<store::Store> store;
  std::unique_ptr<services::Dispatcher> dispatcher;
  std::unique_ptr<runtime::DockerClient> docker;
  std::unique_ptr<reconciler::Reconciler> reconciler;
  std::unique_ptr<alb::DataPlane> alb;
  std::unique_ptr<http::Server> server;
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
  std::filesystem::create_directories(c.data_dir);
  impl_->store = std::make_unique<store::Store>(c.data_dir + "/ecsd.db");
  impl_->dispatcher = std::make_unique<services::Dispatcher>(*impl_->store, c.account_id);
  impl_->dispatcher->add(services::ecs::make_api());
  impl_->dispatcher->add(services::sts::make_api());
  impl_->dispatcher->add(services::elbv2::make_api());
  impl_->dispatcher->add(services::ec2::make_api());
  if (c.scheduler) {
    impl_->docker = std::make_unique<runtime::DockerClient>();
    reconciler::Options opt;
    opt.instance_id = instance_id(*impl_->store);
    opt.host_policy.allow_privileged = c.allow_privileged;
    opt.host_policy.allowed_host_paths = c.allowed_host_paths;
    opt.host_policy.allowed_host_paths.push_back(std::filesystem::absolute(c.data_dir).string());
    opt.host_policy.allowed_host_paths.push_back("/tmp");
    opt.engine_description = "unix://" + impl_->docker->socket_path();
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
  impl_->server = std::make_unique<http::Server>(impl_->io, c.host, c.port,
                                                 http::make_api_router(*impl_->dispatcher, {[st, rec] {
                                                   st->reset();
                                                   if (rec) rec->remove_all_runtime_objects();
                                                 },
                                                 [lb] {
                                                   nlohmann::json out = nlohmann::json::object();
                                                   for (const auto& [arn, port] : lb->ports()) out[arn] = port;
                                                   return out.dump();
                                                 }}));
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
    if (impl_->server->idle()) {
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
  spdlog::info("ecsd {} listening on {}:{} (data dir {}, account {})", kVersion, impl_->cfg.host, port(),
               impl_->cfg.data_dir, impl_->cfg.account_id);
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->cfg.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  if (impl_->reconciler) impl_->reconciler->stop();
  impl_->server.reset();
  impl_->alb.reset();
  impl_->dispatcher.reset();
  impl_->store.reset();
  spdlog::info("ecsd stopped");
  return 0;
}

}  // namespace ecsd::app

// Daemon assembly and lifecycle.
#include "ecsd/app/daemon.hpp"

#include <cstdlib>
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
#include "ecsd/http/server.hpp"
#include "ecsd/services/dispatcher.hpp"
#include "ecsd/services/ecs/ecs.hpp"
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
  std::unique_ptr<http::Server> server;
};

Daemon::Daemon(Config cfg) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(cfg);
  auto& c = impl_->cfg;
  std::filesystem::create_directories(c.data_dir);
  impl_->store = std::make_unique<store::Store>(c.data_dir + "/ecsd.db");
  impl_->dispatcher = std::make_unique<services::Dispatcher>(*impl_->store, c.account_id);
  impl_->dispatcher->add(services::ecs::make_api());
  impl_->dispatcher->add(services::sts::make_api());
  auto* st = impl_->store.get();
  impl_->server = std::make_unique<http::Server>(impl_->io, c.host, c.port,
                                                 http::make_api_router(*impl_->dispatcher, {[st] { st->reset(); }}));
}

Daemon::~Daemon() = default;

unsigned short Daemon::port() const { return impl_->server->port(); }

int Daemon::run() {
  auto& io = impl_->io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: finishing in-flight requests", sig);
    impl_->server->stop();
    // In-flight requests get a bounded grace period.
    deadline.expires_after(std::chrono::seconds(10));
    deadline.async_wait([&](const boost::system::error_code& e) {
      if (!e) {
        spdlog::warn("shutdown grace period over; stopping");
        io.stop();
      }
    });
    // Once only the deadline is left, let it go.
    asio::post(io, [&] {});
  });
  impl_->server->start();
  spdlog::info("ecsd {} listening on {}:{} (data dir {}, account {})", kVersion, impl_->cfg.host, port(),
               impl_->cfg.data_dir, impl_->cfg.account_id);
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->cfg.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  impl_->server.reset();
  impl_->dispatcher.reset();
  impl_->store.reset();
  spdlog::info("ecsd stopped");
  return 0;
}

}  // namespace ecsd::app

// Daemon assembly: configuration, the store, the API services and the HTTP listener.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace ecsd::app {

struct Config {
  std::string host = "127.0.0.1";
  unsigned short port = 4566;
  unsigned short registry_port = 4510;  // OCI registry (ECR); 0 = not served
  bool registry_port_given = false;      // --registry-port given: failing to bind it is fatal
  double registry_sweep_seconds = 30;   // lifecycle policies and blob garbage collection
  std::string data_dir;  // empty: default_data_dir()
  std::string account_id = "000000000000";
  std::string log_level = "info";
  int threads = 2;
  bool allow_privileged = false;               // --allow-privileged
  std::vector<std::string> allowed_host_paths;  // --allow-host-path (repeatable); data dir and /tmp always
  bool scheduler = true;                       // --no-scheduler: API only, no containers
  double time_scale = 1;                       // --time-scale N: configured durations pass N times faster
};

/// @return $XDG_DATA_HOME/ecsd, else $HOME/.local/share/ecsd, else ./ecsd-data.
std::string default_data_dir();

/// Parses the command line. @return the config, or nullopt after printing help/version/an error
/// (`exit_code` says which: 0 for --help/--version, 2 for a usage error).
std::optional<Config> parse_args(const std::vector<std::string>& args, int& exit_code);

class Daemon {
 public:
  explicit Daemon(Config cfg);
  ~Daemon();
  /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and closes the store.
  int run();
  /// @return the bound API port (after construction).
  unsigned short port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecsd::app

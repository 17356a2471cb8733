// ecsd entry point: command line, logging, then the daemon.
#include <malloc.h>

#include <iostream>

#include <spdlog/spdlog.h>

#include "ecsd/app/daemon.hpp"
#include "ecsd/common/logging.hpp"

int main(int argc, char** argv) {
  // A handful of threads do short bursts of work: two malloc arenas are plenty, and each arena
  // glibc would otherwise create per thread keeps megabytes of resident memory.
  mallopt(M_ARENA_MAX, 2);
  int exit_code = 0;
  auto cfg = ecsd::app::parse_args(std::vector<std::string>(argv + 1, argv + argc), exit_code);
  if (!cfg) return exit_code;
  if (!ecsd::logging::init(cfg->log_level)) {
    std::cerr << "ecsd: unknown log level " << cfg->log_level << "\n";
    return 2;
  }
  try {
    ecsd::app::Daemon daemon(*cfg);
    return daemon.run();
  } catch (const std::exception& e) {
    spdlog::critical("ecsd failed to start: {}", e.what());
    return 1;
  }
}

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
  // glibc gives memory back to the kernel as soon as 128 KiB are free at the top of a heap, so a
  // request that briefly needs a few hundred KiB moved the heap's end with brk twice (1.8 brk calls
  // per RegisterTaskDefinition, 8 % of the daemon's CPU in perf). Keep up to 2 MiB at the top,
  // grow in steps of 256 KiB, and map only blocks of 512 KiB and more separately.
  mallopt(M_MMAP_THRESHOLD, 512 * 1024);
  mallopt(M_TRIM_THRESHOLD, 2 * 1024 * 1024);
  mallopt(M_TOP_PAD, 256 * 1024);
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

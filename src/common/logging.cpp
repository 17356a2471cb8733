// Logging setup.
#include "ecsd/common/logging.hpp"

#include <spdlog/spdlog.h>

namespace ecsd::logging {

bool init(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  spdlog::set_level(lvl);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  return true;
}

}  // namespace ecsd::logging

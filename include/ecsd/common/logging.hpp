// Logging setup: one spdlog logger for the daemon, level from the command line.
#pragma once
#include <string>

namespace ecsd::logging {

/// Sets the default logger's level ("trace", "debug", "info", "warn", "error", "off").
/// @return false when the level name is unknown.
bool init(const std::string& level);

}  // namespace ecsd::logging

// The front-end router of the API port: ecsd's own endpoints (/_ecsd/health, /_ecsd/reset, /_ecsd/clock,
// /moto-api/reset) and everything else to the AWS API dispatcher.
#pragma once
#include <functional>

#include "ecsd/http/server.hpp"
#include "ecsd/services/dispatcher.hpp"

namespace ecsd::http {

struct RouterHooks {
  std::function<void()> reset;                // wipes all state
  std::function<std::string()> listeners;     // JSON: where each ALB listener is served (may be empty)
  std::string instance_id;                    // labels this daemon's containers (GET /_ecsd/health)
};

/// @return a request handler for the API port.
RequestHandler make_api_router(services::Dispatcher& dispatcher, RouterHooks hooks);

}  // namespace ecsd::http

// API port routing.
#include "ecsd/http/router.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ecsd/common/clock.hpp"
#include "ecsd/common/version.hpp"

namespace ecsd::http {

RequestHandler make_api_router(services::Dispatcher& dispatcher, RouterHooks hooks) {
  double started = clock().monotonic();
  return [&dispatcher, hooks, started](const protocol::WireRequest& req) {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (path.rfind("/_ecsd/", 0) == 0 || path.rfind("/moto-api/", 0) == 0) {
      protocol::WireResponse r;
      r.content_type = "application/json";
      if (path == "/_ecsd/health" && (req.method == "GET" || req.method == "HEAD")) {
        r.body = nlohmann::json{{"status", "ok"},
                                {"version", kVersion},
                                {"uptime_seconds", static_cast<long long>(clock().monotonic() - started)},
                                {"instance_id", hooks.instance_id}}
                     .dump();
      } else if (path == "/_ecsd/listeners" && req.method == "GET") {
        r.body = hooks.listeners ? hooks.listeners() : "{}";
      } else if ((path == "/_ecsd/reset" || path == "/moto-api/reset") && req.method == "POST") {
        hooks.reset();
        spdlog::info("state reset via {}", path);
        r.body = R"({"status":"ok"})";
      } else if (path == "/_ecsd/clock" && req.method == "GET") {
        r.body = nlohmann::json{{"scale", clock().scale()}}.dump();
      } else if (path == "/_ecsd/clock" && req.method == "POST") {
        // {"scale": N}: configured durations pass N times faster from now on (see clock.hpp).
        auto in = nlohmann::json::parse(req.body, nullptr, false);
        if (in.is_object() && in.contains("scale") && in["scale"].is_number() &&
            clock().set_scale(in["scale"].get<double>())) {
          spdlog::info("time scale set to {}", clock().scale());
          r.body = nlohmann::json{{"scale", clock().scale()}}.dump();
        } else {
          r.status = 400;
          r.body = R"({"message":"expected {\"scale\": N} with 0 < N <= 10000"})";
        }
      } else {
        r.status = 404;
        r.body = R"({"message":"not found"})";
      }
      return r;
    }
    return dispatcher.handle(req);
  };
}

}  // namespace ecsd::http

// API dispatch: wire request -> service/operation -> codec -> handler -> codec -> wire response.
#include "ecsd/services/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/protocol/aws_json.hpp"
#include "ecsd/protocol/aws_query.hpp"
#include "ecsd/protocol/sigv4.hpp"
#include "ecsd/store/sqlite.hpp"

namespace ecsd::services {

using protocol::WireRequest;
using protocol::WireResponse;

namespace {
constexpr const char* kDefaultRegion = "us-east-1";

// Status for an error code: the explicit one, else the model's, else 400.
int status_for(const ServiceApi* api, const ApiError& e) {
  if (e.status) return e.status;
  if (api)
    if (const auto* sh = api->model->find_error(e.code)) return sh->error_status;
  return 400;
}

bool sender_fault(const ServiceApi* api, const ApiError& e, int status) {
  if (api)
    if (const auto* sh = api->model->find_error(e.code)) return sh->sender_fault;
  return status < 500;
}

// Runs the handler, turning every non-ApiError failure into one that clients understand.
json invoke(const ServiceApi& api, const std::string& op_name, RequestContext& ctx, const json& input) {
  auto it = api.handlers.find(op_name);
  if (it == api.handlers.end())
    throw ApiError("NotImplemented", "ecsd does not implement " + api.model->service_id + " " + op_name + " yet.", 501);
  try {
    return it->second(ctx, input);
  } catch (const ApiError&) {
    throw;
  } catch (const store::SqliteError& e) {
    spdlog::error("{} {}: store error: {}", api.model->service_id, op_name, e.what());
    throw ApiError(api.model->protocol == "json" ? "ServerException" : "InternalFailure",
                   "The server could not complete the request (store error).", 500);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", api.model->service_id, op_name, e.what());
    throw ApiError(api.model->protocol == "json" ? "ServerException" : "InternalFailure",
                   "The server could not complete the request.", 500);
  }
}
}  // namespace

Dispatcher::Dispatcher(store::Store& store, std::string account_id)
    : store_(store), account_id_(std::move(account_id)) {}

void Dispatcher::add(ServiceApi api) { apis_.push_back(std::move(api)); }

const ServiceApi* Dispatcher::by_target_prefix(const std::string& prefix) const {
  for (const auto& a : apis_)
    if (a.model->target_prefix == prefix) return &a;
  return nullptr;
}

const ServiceApi* Dispatcher::by_query(const std::string& version, const std::string& signing_service) const {
  const ServiceApi* by_version = nullptr;
  for (const auto& a : apis_) {
    if (a.model->protocol != "query" && a.model->protocol != "ec2") continue;
    if (!signing_service.empty() && a.model->signing_name == signing_service &&
        (version.empty() || a.model->api_version == version))
      return &a;
    if (a.model->api_version == version) by_version = &a;
  }
  return by_version;
}

WireResponse Dispatcher::handle(const WireRequest& req) {
  const double started = clock().monotonic();
  std::string request_id = ids::uuid();
  RequestContext ctx{{account_id_, kDefaultRegion}, "", request_id, store_, clock().now(), notify_};
  std::string signing_service;
  if (auto scope = protocol::parse_authorization(req.header("authorization"))) {
    ctx.scope.region = scope->region;
    ctx.access_key = scope->access_key;
    signing_service = scope->service;
  }
  WireResponse resp;
  if (!req.header("x-amz-target").empty()) {
    resp = handle_json(req, ctx);
  } else {
    resp = handle_query(req, ctx);
  }
  resp.headers.emplace_back("x-amzn-RequestId", request_id);
  // The access log line: request id, service, operation, status, latency.
  spdlog::info("{} {} {} {} {}{:.1f}ms", request_id, ctx.log_service.empty() ? "-" : ctx.log_service,
               ctx.log_operation.empty() ? "-" : ctx.log_operation, resp.status,
               ctx.log_error.empty() ? "" : ctx.log_error + " ", (clock().monotonic() - started) * 1000);
  return resp;
}

WireResponse Dispatcher::handle_json(const WireRequest& req, RequestContext& ctx) {
  std::string target = req.header("x-amz-target");
  auto dot = target.rfind('.');
  const ServiceApi* api = dot == std::string::npos ? nullptr : by_target_prefix(target.substr(0, dot));
  std::string op_name = dot == std::string::npos ? target : target.substr(dot + 1);
  ctx.log_service = api ? api->model->service_id : "?";
  ctx.log_operation = op_name;
  WireResponse resp;
  const char* content_type = "application/x-amz-json-1.1";
  if (api && api->model->json_version == "1.0") content_type = "application/x-amz-json-1.0";
  resp.content_type = content_type;
  try {
    const model::Operation* op = api ? api->model->find_operation(op_name) : nullptr;
    if (!op) throw ApiError("UnknownOperationException", "Unknown operation " + target + ".");
    json input = protocol::decode_json(*api->model, *op, req.body, api->validation_code);
    json output = invoke(*api, op_name, ctx, input);
    resp.body = protocol::encode_json(*api->model, *op, output);

  } catch (const ApiError& e) {
    resp.status = status_for(api, e);
    resp.body = protocol::encode_json_error(e.code, e.what());
    resp.headers.emplace_back("x-amzn-ErrorType", e.code);
    ctx.log_error = e.code;
  }
  return resp;
}

WireResponse Dispatcher::handle_query(const WireRequest& req, RequestContext& ctx) {
  protocol::FormParams params = protocol::parse_form(req.body);
  if (auto q = req.target.find('?'); q != std::string::npos)
    for (auto& [k, v] : protocol::parse_form(std::string_view(req.target).substr(q + 1))) params.emplace(k, v);
  std::string action = params.count("Action") ? params["Action"] : "";
  std::string version = params.count("Version") ? params["Version"] : "";
  std::string signing_service;
  if (auto scope = protocol::parse_authorization(req.header("authorization"))) signing_service = scope->service;
  const ServiceApi* api = by_query(version, signing_service);
  ctx.log_service = api ? api->model->service_id : "?";
  ctx.log_operation = action;
  WireResponse resp;
  resp.content_type = "text/xml";
  if (!api) {
    // Without a model we cannot shape the error as the service would; use the awsQuery form.
    static const model::Service kNone = [] {
      model::Service s;
      s.protocol = "query";
      return s;
    }();
    bool no_action = action.empty();
    resp.status = 400;
    resp.body = protocol::encode_query_error(kNone, no_action ? "MissingAction" : "InvalidAction",
                                             no_action ? "Missing Action parameter or X-Amz-Target header."
                                                       : "Unknown Version " + version + " for Action " + action + ".",
                                             true, ctx.request_id);
    return resp;
  }
  try {
    if (action.empty()) throw ApiError("MissingAction", "Missing Action parameter.");
    const model::Operation* op = api->model->find_operation(action);
    if (!op) throw ApiError("InvalidAction", "The action " + action + " is not valid for this web service.");
    json input = protocol::decode_query(*api->model, *op, params, api->validation_code);
    json output = invoke(*api, action, ctx, input);
    resp.body = protocol::encode_query(*api->model, *op, output, ctx.request_id);

  } catch (const ApiError& e) {
    resp.status = status_for(api, e);
    resp.body = protocol::encode_query_error(*api->model, e.code, e.what(), sender_fault(api, e, resp.status),
                                             ctx.request_id);
    ctx.log_error = e.code;
  }
  return resp;
}

std::string encode_token(std::int64_t position) {
  // Opaque to clients; versioned so the format can change.
  return "v1." + std::to_string(position);
}

std::int64_t decode_token(const std::string& token, const std::string& code) {
  if (token.rfind("v1.", 0) == 0) {
    char* end = nullptr;
    long long v = std::strtoll(token.c_str() + 3, &end, 10);
    if (end && !*end && v >= 0) return v;
  }
  throw ApiError(code, "Invalid nextToken.");
}

}  // namespace ecsd::services

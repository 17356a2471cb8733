// What a handler sees: the request context and validated input as JSON; what it returns:
// output JSON keyed by model member names. The dispatcher owns decoding and encoding.
#pragma once
#include <functional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "ecsd/model/model.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::services {

using nlohmann::json;

struct RequestContext {
  store::Scope scope;          // account and region from the request's credential scope
  std::string access_key;
  std::string request_id;
  store::Store& store;
  double now = 0;              // request time from the process clock (epoch seconds)
  /// Tells the reconciler that a resource changed ("task:<arn>", "service:<arn>"). May be empty.
  std::function<void(const std::string&)> notify;
  std::string log_service, log_operation, log_error;  // for the access log line

  /// @return the caller's principal ARN (the account root: ecsd has no IAM users).
  std::string principal() const { return "arn:aws:iam::" + scope.account + ":root"; }
  void changed(const std::string& key) const {
    if (notify) notify(key);
  }
};

using Handler = std::function<json(RequestContext&, const json& input)>;

/// One service's dispatch table.
struct ServiceApi {
  const model::Service* model = nullptr;
  /// Error code for constraint violations found by the generic validator.
  std::string validation_code;
  std::unordered_map<std::string, Handler> handlers;
};

/// Pagination tokens: opaque strings carrying an offset or row id.
std::string encode_token(std::int64_t position);
/// @throws ApiError `code` ("InvalidParameterException" by default) for a token we did not issue.
std::int64_t decode_token(const std::string& token, const std::string& code = "InvalidParameterException");

}  // namespace ecsd::services

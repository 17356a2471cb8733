// ApiError: the one exception type a handler throws for a client-visible AWS error.
#pragma once
#include <stdexcept>
#include <string>

namespace ecsd {

/// A client-visible error. `code` is the wire error code from the service model
/// (e.g. "ClusterNotFoundException", ELBv2's "TargetGroupNotFound"); the HTTP status
/// is looked up in the model by the dispatcher unless `status` is set explicitly.
struct ApiError : std::runtime_error {
  ApiError(std::string code, std::string message, int status = 0)
      : std::runtime_error(message), code(std::move(code)), status(status) {}
  std::string code;
  int status;  // 0 = take it from the model (400 unless the shape says otherwise)
};

}  // namespace ecsd

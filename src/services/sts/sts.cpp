// STS handlers. ecsd has no IAM: every caller is the account root.
#include "ecsd/services/sts/sts.hpp"

namespace ecsd::services::sts {

json get_caller_identity(RequestContext& ctx, const json&) {
  return {{"UserId", ctx.scope.account}, {"Account", ctx.scope.account}, {"Arn", ctx.principal()}};
}

ServiceApi make_api() {
  ServiceApi api;
  api.model = &model::get("sts");
  api.validation_code = "ValidationError";
  api.handlers = {{"GetCallerIdentity", get_caller_identity}};
  return api;
}

}  // namespace ecsd::services::sts

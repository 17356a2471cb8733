// AWS STS: enough for `aws sts get-caller-identity` against ecsd.
#pragma once
#include "ecsd/services/api.hpp"

namespace ecsd::services::sts {

/// @return STS's dispatch table over the embedded STS model.
ServiceApi make_api();

json get_caller_identity(RequestContext& ctx, const json& in);

}  // namespace ecsd::services::sts

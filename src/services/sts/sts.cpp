// STS handlers. ecsd has no IAM: every caller is the account root.
#include "ecsd/services/sts/sts.hpp"

#include "ecsd/store/task_repo.hpp"

namespace ecsd::services::sts {

json get_caller_identity(RequestContext& ctx, const json&) {
  // Task role credentials handed out by the metadata endpoint identify as the assumed role.
  if (ctx.access_key.rfind("ASIA", 0) == 0) {
    auto found = ctx.store.read([&](store::Db& db) { return store::MetaRepo(db).get("taskcred:" + ctx.access_key); });
    json cred = found ? json::parse(*found, nullptr, false) : json();
    if (cred.is_object()) {
      std::string role = cred.value("role", ""), task = cred.value("task", "");
      std::string role_name = role.substr(role.rfind('/') + 1), session = task.substr(task.rfind('/') + 1);
      return {{"UserId", "AROA" + ctx.access_key.substr(4) + ":" + session},
              {"Account", ctx.scope.account},
              {"Arn", "arn:aws:sts::" + ctx.scope.account + ":assumed-role/" + role_name + "/" + session}};
    }
  }
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

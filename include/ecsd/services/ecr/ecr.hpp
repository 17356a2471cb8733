// Amazon ECR: the dispatch table, the handlers (grouped by resource in src/services/ecr/), and
// the lookups they share. Images and blobs live in the registry's store (registry.hpp), so the
// API and `docker push/pull` see the same repositories.
#pragma once
#include <optional>
#include <string>

#include "ecsd/registry/registry.hpp"
#include "ecsd/runtime/runtime.hpp"
#include "ecsd/services/api.hpp"

namespace ecsd::services::ecr {

/// @return ECR's dispatch table over the embedded ECR model; handlers use `registry`.
ServiceApi make_api(registry::Registry& registry);

/// @return credentials for pulling `image` when it lives in ecsd's registry, else nullopt.
std::optional<runtime::RegistryAuth> pull_auth(const registry::Registry& registry, const std::string& image);

// repositories.cpp
json create_repository(registry::Registry& reg, RequestContext& ctx, const json& in);
json describe_repositories(registry::Registry& reg, RequestContext& ctx, const json& in);
json delete_repository(registry::Registry& reg, RequestContext& ctx, const json& in);
json put_image_tag_mutability(registry::Registry& reg, RequestContext& ctx, const json& in);
json put_image_scanning_configuration(registry::Registry& reg, RequestContext& ctx, const json& in);
json get_authorization_token(registry::Registry& reg, RequestContext& ctx, const json& in);
json describe_registry(registry::Registry& reg, RequestContext& ctx, const json& in);

// images.cpp
json list_images(registry::Registry& reg, RequestContext& ctx, const json& in);
json describe_images(registry::Registry& reg, RequestContext& ctx, const json& in);
json batch_get_image(registry::Registry& reg, RequestContext& ctx, const json& in);
json batch_delete_image(registry::Registry& reg, RequestContext& ctx, const json& in);
json put_image(registry::Registry& reg, RequestContext& ctx, const json& in);

// layers.cpp
json get_download_url_for_layer(registry::Registry& reg, RequestContext& ctx, const json& in);
json batch_check_layer_availability(registry::Registry& reg, RequestContext& ctx, const json& in);
json initiate_layer_upload(registry::Registry& reg, RequestContext& ctx, const json& in);
json upload_layer_part(registry::Registry& reg, RequestContext& ctx, const json& in);
json complete_layer_upload(registry::Registry& reg, RequestContext& ctx, const json& in);

// policies.cpp
json put_lifecycle_policy(registry::Registry& reg, RequestContext& ctx, const json& in);
json get_lifecycle_policy(registry::Registry& reg, RequestContext& ctx, const json& in);
json delete_lifecycle_policy(registry::Registry& reg, RequestContext& ctx, const json& in);
json set_repository_policy(registry::Registry& reg, RequestContext& ctx, const json& in);
json get_repository_policy(registry::Registry& reg, RequestContext& ctx, const json& in);
json delete_repository_policy(registry::Registry& reg, RequestContext& ctx, const json& in);
json tag_resource(registry::Registry& reg, RequestContext& ctx, const json& in);
json untag_resource(registry::Registry& reg, RequestContext& ctx, const json& in);
json list_tags_for_resource(registry::Registry& reg, RequestContext& ctx, const json& in);

// --- shared (common.cpp) ---

/// @return the request's registry id (the account); @throws for another account's registry.
std::string registry_id(const RequestContext& ctx, const json& in);
/// @return the repository named in `in["repositoryName"]`. @throws RepositoryNotFoundException.
store::Record require_repository(store::Db& db, const RequestContext& ctx, const json& in);
/// @return the Repository shape.
json repository_json(const registry::Registry& reg, const RequestContext& ctx, const store::Record& repo);
/// @return "<registry host>/<name>" as docker tags it.
std::string repository_uri(const registry::Registry& reg, const RequestContext& ctx, const std::string& name);
/// Message ECR uses for a missing repository.
std::string repository_not_found(const RequestContext& ctx, const std::string& name);

}  // namespace ecsd::services::ecr

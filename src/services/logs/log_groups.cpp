// Log groups: create, delete, describe, retention and tags.
#include <algorithm>
#include <cctype>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/logs/logs.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::logs {

namespace {

constexpr int kRetentionDays[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                  365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

json group_json(const store::LogGroupRow& g) {
  json out = {{"logGroupName", g.name},     {"creationTime", g.created_ms},     {"metricFilterCount", 0},
              {"arn", g.arn + ":*"},         {"storedBytes", g.stored_bytes},    {"logGroupArn", g.arn},
              {"logGroupClass", g.doc.value("logGroupClass", "STANDARD")}};
  if (g.retention_days) out["retentionInDays"] = *g.retention_days;
  if (g.doc.contains("kmsKeyId")) out["kmsKeyId"] = g.doc["kmsKeyId"];
  if (g.doc.contains("deletionProtectionEnabled")) out["deletionProtectionEnabled"] = g.doc["deletionProtectionEnabled"];
  return out;
}

store::Tags tags_from_map(const json& m) {
  store::Tags out;
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (it.key().rfind("aws:", 0) == 0)
      throw ApiError("InvalidParameterException", "Tag keys beginning with 'aws:' are reserved for AWS use.");
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

json tags_to_map(const store::Tags& tags) {
  json out = json::object();
  for (const auto& [k, v] : tags) out[k] = v;
  return out;
}

void check_tag_count(store::Db& db, const std::string& arn, const store::Tags& adding) {
  auto existing = store::TagRepo(db).get(arn);
  std::size_t total = existing.size();
  for (const auto& [k, v] : adding)
    if (std::none_of(existing.begin(), existing.end(), [&](const auto& e) { return e.first == k; })) ++total;
  if (total > 50) throw ApiError("TooManyTagsException", "A resource can have no more than 50 tags.");
}

// TagResource and friends name the group by ARN ("arn:aws:logs:r:a:log-group:NAME", optionally ":*").
store::LogGroupRow group_by_arn(store::Db& db, const RequestContext& ctx, const std::string& resource_arn) {
  auto a = arn::parse(resource_arn);
  if (!a || a->service != "logs") throw ApiError("InvalidParameterException", "Invalid resource ARN: " + resource_arn);
  if (a->resource.rfind("log-group:", 0) != 0)
    throw ApiError("ResourceNotFoundException", "The specified resource does not exist.");
  return require_group(db, ctx, json{{"logGroupIdentifier", resource_arn}});
}

}  // namespace

json create_log_group(RequestContext& ctx, const json& in) {
  std::string name = in["logGroupName"];
  store::Tags tags = in.contains("tags") ? tags_from_map(in["tags"]) : store::Tags{};
  json doc = json::object();
  if (in.contains("kmsKeyId")) doc["kmsKeyId"] = in["kmsKeyId"];
  if (in.contains("logGroupClass")) doc["logGroupClass"] = in["logGroupClass"];
  if (in.contains("deletionProtectionEnabled")) doc["deletionProtectionEnabled"] = in["deletionProtectionEnabled"];
  ctx.store.write([&](store::Db& db) {
    store::LogRepo repo(db);
    if (repo.find_group(ctx.scope, name))
      throw ApiError("ResourceAlreadyExistsException", "The specified log group already exists");
    auto g = repo.create_group(ctx.scope, name, group_arn(ctx, name), now_ms(ctx), doc);
    if (!tags.empty()) store::TagRepo(db).put(g.arn, tags);
  });
  return json::object();
}

json delete_log_group(RequestContext& ctx, const json& in) {
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, in);
    if (g.doc.value("deletionProtectionEnabled", false))
      throw ApiError("InvalidParameterException", "Log group " + g.name + " has deletion protection enabled.");
    store::LogRepo(db).delete_group(g.id);
    store::TagRepo(db).remove_all(g.arn);
  });
  return json::object();
}

json describe_log_groups(RequestContext& ctx, const json& in) {
  std::string prefix = in.value("logGroupNamePrefix", "");
  std::string pattern = in.value("logGroupNamePattern", "");
  if (!prefix.empty() && !pattern.empty())
    throw ApiError("InvalidParameterException",
                   "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  int limit = in.value("limit", 50);
  std::string after;
  if (in.contains("nextToken")) {
    std::string t = in["nextToken"];
    if (t.rfind("g1/", 0) != 0) throw ApiError("InvalidParameterException", "The specified nextToken is invalid.");
    after = t.substr(3);
  }
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string needle = lower(pattern);
  json groups = json::array();
  std::string last;
  bool more = false;
  ctx.store.read([&](store::Db& db) {
    store::LogRepo repo(db);
    // A pattern filters after the query; read in pages until the page is full or the end.
    while (true) {
      auto rows = repo.list_groups(ctx.scope, prefix, after, 200);
      for (const auto& g : rows) {
        after = g.name;
        if (!needle.empty() && lower(g.name).find(needle) == std::string::npos) continue;
        if (static_cast<int>(groups.size()) == limit) {
          more = true;
          return;
        }
        groups.push_back(group_json(g));
        last = g.name;
      }
      if (rows.size() < 200) return;
    }
  });
  json out = {{"logGroups", groups}};
  if (more) out["nextToken"] = "g1/" + last;
  return out;
}

json put_retention_policy(RequestContext& ctx, const json& in) {
  int days = in["retentionInDays"];
  if (std::find(std::begin(kRetentionDays), std::end(kRetentionDays), days) == std::end(kRetentionDays))
    throw ApiError("InvalidParameterException",
                   "1 validation error detected: Value '" + std::to_string(days) +
                       "' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: "
                       "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, "
                       "2922, 3288, 3653]");
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, in);
    store::LogRepo(db).set_retention(g.id, days);
  });
  return json::object();
}

json delete_retention_policy(RequestContext& ctx, const json& in) {
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, in);
    store::LogRepo(db).set_retention(g.id, std::nullopt);
  });
  return json::object();
}

json tag_resource(RequestContext& ctx, const json& in) {
  store::Tags tags = tags_from_map(in["tags"]);
  ctx.store.write([&](store::Db& db) {
    auto g = group_by_arn(db, ctx, in["resourceArn"]);
    check_tag_count(db, g.arn, tags);
    store::TagRepo(db).put(g.arn, tags);
  });
  return json::object();
}

json untag_resource(RequestContext& ctx, const json& in) {
  ctx.store.write([&](store::Db& db) {
    auto g = group_by_arn(db, ctx, in["resourceArn"]);
    store::TagRepo(db).remove(g.arn, in["tagKeys"].get<std::vector<std::string>>());
  });
  return json::object();
}

json list_tags_for_resource(RequestContext& ctx, const json& in) {
  return ctx.store.read([&](store::Db& db) {
    auto g = group_by_arn(db, ctx, in["resourceArn"]);
    return json{{"tags", tags_to_map(store::TagRepo(db).get(g.arn))}};
  });
}

json tag_log_group(RequestContext& ctx, const json& in) {
  store::Tags tags = tags_from_map(in["tags"]);
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, json{{"logGroupName", in["logGroupName"]}});
    check_tag_count(db, g.arn, tags);
    store::TagRepo(db).put(g.arn, tags);
  });
  return json::object();
}

json untag_log_group(RequestContext& ctx, const json& in) {
  ctx.store.write([&](store::Db& db) {
    auto g = require_group(db, ctx, json{{"logGroupName", in["logGroupName"]}});
    store::TagRepo(db).remove(g.arn, in["tags"].get<std::vector<std::string>>());
  });
  return json::object();
}

json list_tags_log_group(RequestContext& ctx, const json& in) {
  return ctx.store.read([&](store::Db& db) {
    auto g = require_group(db, ctx, json{{"logGroupName", in["logGroupName"]}});
    return json{{"tags", tags_to_map(store::TagRepo(db).get(g.arn))}};
  });
}

}  // namespace ecsd::services::logs

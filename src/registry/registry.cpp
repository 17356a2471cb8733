// OCI Distribution v2 routes over the blob store and the ECR store; image operations shared
// with the ECR API; garbage collection and lifecycle policies.
#include "ecsd/registry/registry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/protocol/aws_query.hpp"
#include "ecsd/registry/reference.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::registry {

using nlohmann::json;

namespace {
constexpr std::size_t kManifestLimit = 4 * 1024 * 1024;

HttpResponse error(int status, const std::string& code, const std::string& message, json detail = nullptr) {
  HttpResponse r;
  r.status = status;
  json e = {{"code", code}, {"message", message}};
  if (!detail.is_null()) e["detail"] = detail;
  r.body = json{{"errors", json::array({e})}}.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

Plan respond(HttpResponse r) {
  Plan p;
  p.response = std::move(r);
  return p;
}

std::string secret(store::Store& st) {
  return st.write([](store::Db& db) {
    store::MetaRepo meta(db);
    if (auto s = meta.get("registry_token_secret")) return *s;
    std::string s = ids::hex(64);
    meta.put("registry_token_secret", s);
    return s;
  });
}

// "Basic base64(user:password)" -> password when the user is AWS.
std::optional<std::string> basic_password(const std::string& authorization) {
  if (authorization.size() < 6 || strncasecmp(authorization.c_str(), "Basic ", 6) != 0) return std::nullopt;
  std::string b64 = authorization.substr(6);
  while (!b64.empty() && b64.back() == ' ') b64.pop_back();
  auto decoded = base64_decode(b64);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos || decoded->substr(0, colon) != "AWS") return std::nullopt;
  return decoded->substr(colon + 1);
}

std::optional<std::uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(s);
}

// "bytes=a-b" / "a-b" -> (a, b); b may be empty (open-ended).
bool parse_range(std::string v, std::uint64_t& first, std::optional<std::uint64_t>& last) {
  if (v.rfind("bytes=", 0) == 0) v = v.substr(6);
  auto dash = v.find('-');
  if (dash == std::string::npos) return false;
  auto a = parse_u64(v.substr(0, dash));
  if (!a) return false;
  first = *a;
  std::string b = v.substr(dash + 1);
  if (b.empty()) {
    last.reset();
    return true;
  }
  auto bb = parse_u64(b);
  if (!bb || *bb < first) return false;
  last = *bb;
  return true;
}

std::string upload_range(std::uint64_t size) { return "0-" + std::to_string(size ? size - 1 : 0); }
}  // namespace

FileRange::~FileRange() {
  if (fd >= 0) ::close(fd);
}

Registry::Registry(store::Store& store, const std::string& root, RegistryOptions options)
    : store_(store), blobs_(root), tokens_(secret(store)), opt_(std::move(options)) {}

std::string Registry::registry_host(const std::string& region) const {
  std::string addr = region_address(region);
  if (addr.empty()) return "";
  return addr + ":" + std::to_string(opt_.port);
}

Plan Registry::begin(const HttpRequest& req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  auto route = parse_route(path);
  auto region = address_region(req.local_address);
  if (!route || !region) return respond(error(404, "NAME_UNKNOWN", "not found"));
  std::string host = req.header("host");
  std::string password;
  if (auto p = basic_password(req.header("authorization"))) {
    password = *p;
  } else if (auto q = req.target.find('?'); q != std::string::npos) {
    // Download URLs from GetDownloadUrlForLayer carry the password as a query parameter.
    auto params = protocol::parse_form(std::string_view(req.target).substr(q + 1));
    if (params.count("X-Ecsd-Token")) password = params["X-Ecsd-Token"];
  }
  if (!tokens_.verify(password, opt_.account_id, *region, clock().now())) {
    auto r = error(401, "UNAUTHORIZED", password.empty() ? "authentication required"
                                                         : "the authorization token is invalid or has expired");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"http://" + (host.empty() ? registry_host(*region) : host) +
                                                   "/\",service=\"ecr.amazonaws.com\"");
    return respond(std::move(r));
  }
  store::Scope scope{opt_.account_id, *region};
  using K = Route::Kind;
  if (route->kind == K::Base) {
    HttpResponse r;
    r.body = "{}";
    r.headers.emplace_back("Content-Type", "application/json");
    return respond(std::move(r));
  }
  if (route->kind == K::Catalog) {
    if (req.method != "GET") return respond(error(405, "UNSUPPORTED", "method not allowed"));
    json names = json::array();
    for (const auto& r : store_.read([&](store::Db& db) { return store::EcrRepo(db).list_repositories(scope); }))
      names.push_back(r.name);
    HttpResponse r;
    r.body = json{{"repositories", names}}.dump();
    r.headers.emplace_back("Content-Type", "application/json");
    return respond(std::move(r));
  }
  if (route->name.empty()) return respond(error(400, "NAME_INVALID", "invalid repository name"));
  if (route->reference.empty() && route->kind != K::Tags && route->kind != K::UploadStart) {
    if (route->kind == K::Blob) return respond(error(400, "DIGEST_INVALID", "invalid digest"));
    if (route->kind == K::Upload) return respond(error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry"));
    return respond(error(400, "MANIFEST_INVALID", "invalid tag or digest"));
  }
  auto repo = store_.read([&](store::Db& db) { return store::EcrRepo(db).find_repository(scope, route->name); });
  if (!repo)
    return respond(error(404, "NAME_UNKNOWN",
                         "The repository with name '" + route->name + "' does not exist in the registry with id '" +
                             opt_.account_id + "'"));
  switch (route->kind) {
    case K::Tags:
      return respond(handle_tags(req, *repo, route->name));
    case K::Manifest:
      return handle_manifest(req, *repo, route->name, route->reference);
    case K::Blob:
      return respond(handle_blob(req, *repo, route->name, route->reference));
    case K::UploadStart:
      return handle_upload_start(req, scope, *repo, route->name);
    case K::Upload:
      return handle_upload(req, *repo, route->name, route->reference);
    default:
      return respond(error(404, "NAME_UNKNOWN", "not found"));
  }
}

HttpResponse Registry::handle_tags(const HttpRequest& req, const store::Record& repo, const std::string& name) {
  if (req.method != "GET") return error(405, "UNSUPPORTED", "method not allowed");
  std::string last;
  int n = 1000;
  if (auto q = req.target.find('?'); q != std::string::npos) {
    auto params = protocol::parse_form(std::string_view(req.target).substr(q + 1));
    if (params.count("last")) last = params["last"];
    if (params.count("n")) {
      auto v = parse_u64(params["n"]);
      if (!v) return error(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested");
      n = static_cast<int>(std::min<std::uint64_t>(*v, 1000));
    }
  }
  auto tags = store_.read([&](store::Db& db) { return store::EcrRepo(db).list_tags(repo.id, last, n + 1); });
  HttpResponse r;
  bool more = static_cast<int>(tags.size()) > n;
  if (more) tags.resize(static_cast<std::size_t>(n));
  if (more && !tags.empty())
    r.headers.emplace_back("Link", "</v2/" + name + "/tags/list?last=" + tags.back() + "&n=" + std::to_string(n) +
                                       ">; rel=\"next\"");
  r.body = json{{"name", name}, {"tags", tags}}.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

store::EcrImage Registry::put_manifest(store::Db& db, const store::Record& repo, const std::string& body,
                                       const std::string& content_type, const std::string& tag,
                                       const std::string& expected_digest, double now) {
  std::string why;
  auto info = parse_manifest(body, content_type, why);
  if (!info) throw ImageError("MANIFEST_INVALID", 400, "InvalidParameterException", "Invalid parameter: " + why);
  std::string digest = sha256_digest(body);
  if (!expected_digest.empty() && expected_digest != digest)
    throw ImageError("DIGEST_INVALID", 400, "ImageDigestDoesNotMatchException",
                     "The provided digest " + expected_digest + " does not match the digest of the manifest " +
                         digest + ".");
  store::EcrRepo ecr(db);
  if (!tag.empty() && repo.doc.value("imageTagMutability", "MUTABLE") == "IMMUTABLE") {
    auto existing = ecr.find_image_by_tag(repo.id, tag);
    if (existing && existing->digest != digest)
      throw ImageError("TAG_INVALID", 400, "ImageTagAlreadyExistsException",
                       "The image tag '" + tag + "' already exists in the '" + repo.name +
                           "' repository and cannot be overwritten because the repository is immutable.");
  }
  if (auto existing = ecr.find_image(repo.id, digest)) {
    if (!tag.empty()) ecr.put_tag(repo.id, tag, existing->id);
    existing->tags = store::EcrRepo(db).find_image(repo.id, digest)->tags;
    return *existing;
  }
  store::EcrImage image;
  image.repository_id = repo.id;
  image.digest = digest;
  image.media_type = info->media_type;
  image.artifact_media_type = info->artifact_media_type;
  image.manifest = body;
  image.pushed_at = now;
  std::vector<std::string> refs;
  if (info->is_index()) {
    std::vector<std::string> missing;
    for (const auto& child : info->children) {
      auto c = ecr.find_image(repo.id, child);
      if (!c) missing.push_back(child);
      else image.size = std::max(image.size, c->size);
    }
    if (!missing.empty())
      throw ImageError("MANIFEST_UNKNOWN", 400, "ReferencedImagesNotFoundException",
                       "Some of the images referenced by the manifest list were not found: " + missing.front());
    refs = info->children;
  } else {
    std::vector<std::string> missing;
    for (const auto& b : info->blobs)
      if (!ecr.linked_blob(repo.id, b)) missing.push_back(b);
    if (!missing.empty())
      throw ImageError("MANIFEST_BLOB_UNKNOWN", 400, "LayersNotFoundException",
                       "The image manifest refers to blobs that are not in the repository: " + missing.front());
    image.size = info->size;
    refs = info->blobs;
  }
  ecr.insert_image(image, refs);
  if (!tag.empty()) {
    ecr.put_tag(repo.id, tag, image.id);
    image.tags = {tag};
  }
  return image;
}

Plan Registry::handle_manifest(const HttpRequest& req, const store::Record& repo, const std::string& name,
                               const std::string& reference) {
  bool by_digest = valid_digest(reference);
  if (req.method == "GET" || req.method == "HEAD") {
    auto image = store_.write([&](store::Db& db) {
      store::EcrRepo ecr(db);
      auto i = by_digest ? ecr.find_image(repo.id, reference) : ecr.find_image_by_tag(repo.id, reference);
      if (i && req.method == "GET") ecr.touch_pull(i->id, clock().now());
      return i;
    });
    if (!image) return respond(error(404, "MANIFEST_UNKNOWN", "manifest unknown", json{{"Tag", reference}}));
    HttpResponse r;
    r.headers.emplace_back("Content-Type", image->media_type);
    r.headers.emplace_back("Docker-Content-Digest", image->digest);
    r.headers.emplace_back("ETag", "\"" + image->digest + "\"");
    if (req.method == "HEAD") r.head_length = static_cast<std::int64_t>(image->manifest.size());
    else r.body = std::move(image->manifest);
    return respond(std::move(r));
  }
  if (req.method == "PUT") {
    Plan p;
    p.body = Plan::Body::Buffer;
    p.buffer_limit = kManifestLimit;
    std::string content_type = req.header("content-type");
    std::string host = req.header("host");
    p.on_buffered = [this, repo, name, reference, by_digest, content_type, host](std::string&& body) {
      try {
        auto image = store_.write([&](store::Db& db) {
          return put_manifest(db, repo, body, content_type, by_digest ? "" : reference, by_digest ? reference : "",
                              clock().now());
        });
        HttpResponse r;
        r.status = 201;
        r.headers.emplace_back("Location", "http://" + host + "/v2/" + name + "/manifests/" + image.digest);
        r.headers.emplace_back("Docker-Content-Digest", image.digest);
        spdlog::info("registry: pushed {}:{} {}", name, by_digest ? "" : reference, image.digest);
        return r;
      } catch (const ImageError& e) {
        return error(e.status, e.oci_code, e.what());
      }
    };
    return p;
  }
  if (req.method == "DELETE") {
    bool found = store_.write([&](store::Db& db) {
      store::EcrRepo ecr(db);
      if (!by_digest) {
        if (!ecr.find_image_by_tag(repo.id, reference)) return false;
        ecr.delete_tag(repo.id, reference);
        return true;
      }
      auto i = ecr.find_image(repo.id, reference);
      if (!i) return false;
      ecr.delete_image(i->id);
      return true;
    });
    if (!found) return respond(error(404, "MANIFEST_UNKNOWN", "manifest unknown"));
    HttpResponse r;
    r.status = 202;
    return respond(std::move(r));
  }
  return respond(error(405, "UNSUPPORTED", "method not allowed"));
}

HttpResponse Registry::handle_blob(const HttpRequest& req, const store::Record& repo, const std::string&,
                                   const std::string& digest) {
  if (req.method == "DELETE") {
    bool found = store_.write([&](store::Db& db) {
      store::EcrRepo ecr(db);
      if (!ecr.linked_blob(repo.id, digest)) return false;
      ecr.unlink_blob(repo.id, digest);
      return true;
    });
    if (!found) return error(404, "BLOB_UNKNOWN", "blob unknown to registry");
    HttpResponse r;
    r.status = 202;
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD") return error(405, "UNSUPPORTED", "method not allowed");
  auto size = store_.read([&](store::Db& db) { return store::EcrRepo(db).linked_blob(repo.id, digest); });
  if (!size) return error(404, "BLOB_UNKNOWN", "blob unknown to registry", json{{"Digest", digest}});
  auto file = std::make_shared<FileRange>();
  file->fd = ::open(blobs_.blob_path(digest).c_str(), O_RDONLY | O_CLOEXEC);
  if (file->fd < 0) {
    spdlog::error("registry: blob {} is recorded but its file is missing", digest);
    return error(404, "BLOB_UNKNOWN", "blob unknown to registry", json{{"Digest", digest}});
  }
  std::uint64_t total = static_cast<std::uint64_t>(*size);
  HttpResponse r;
  r.headers.emplace_back("Docker-Content-Digest", digest);
  r.headers.emplace_back("ETag", "\"" + digest + "\"");
  r.headers.emplace_back("Accept-Ranges", "bytes");
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  file->offset = 0;
  file->length = total;
  if (std::string range = req.header("range"); !range.empty() && req.method == "GET") {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last;
    if (!parse_range(range, first, last) || first >= total) {
      HttpResponse bad;
      bad.status = 416;
      bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
      return bad;
    }
    std::uint64_t end = std::min(last.value_or(total - 1), total - 1);
    file->offset = first;
    file->length = end - first + 1;
    r.status = 206;
    r.headers.emplace_back("Content-Range",
                           "bytes " + std::to_string(first) + "-" + std::to_string(end) + "/" + std::to_string(total));
  }
  if (req.method == "HEAD") r.head_length = static_cast<std::int64_t>(total);
  else r.file = std::move(file);
  return r;
}

void Registry::link_blob(std::int64_t repository_id, const std::string& digest, std::uint64_t size, double now) {
  store_.write([&](store::Db& db) {
    store::EcrRepo(db).link_blob(repository_id, digest, static_cast<std::int64_t>(size), now);
  });
}

std::pair<BlobStore::Status, std::uint64_t> Registry::commit_upload(const std::string& uuid,
                                                                    std::int64_t repository_id,
                                                                    const std::string& digest, double now) {
  std::lock_guard lock(gc_mu_);
  auto result = blobs_.commit(uuid, repository_id, digest);
  if (result.first == BlobStore::Status::Ok) link_blob(repository_id, digest, result.second, now);
  return result;
}

Plan Registry::handle_upload_start(const HttpRequest& req, const store::Scope& scope, const store::Record& repo,
                                   const std::string& name) {
  if (req.method != "POST") return respond(error(405, "UNSUPPORTED", "method not allowed"));
  protocol::FormParams params;
  if (auto q = req.target.find('?'); q != std::string::npos)
    params = protocol::parse_form(std::string_view(req.target).substr(q + 1));
  std::string host = req.header("host");
  auto created = [host, name](const std::string& digest) {
    HttpResponse r;
    r.status = 201;
    r.headers.emplace_back("Location", "http://" + host + "/v2/" + name + "/blobs/" + digest);
    r.headers.emplace_back("Docker-Content-Digest", digest);
    return r;
  };
  // Cross-repository mount: link a blob the source repository holds, no bytes moved.
  if (params.count("mount")) {
    std::string digest = params["mount"], from = params.count("from") ? params["from"] : "";
    if (valid_digest(digest) && valid_repository_name(from)) {
      std::lock_guard lock(gc_mu_);
      bool mounted = store_.write([&](store::Db& db) {
        store::EcrRepo ecr(db);
        auto src = ecr.find_repository(scope, from);
        if (!src) return false;
        auto size = ecr.linked_blob(src->id, digest);
        if (!size || !blobs_.blob_size(digest)) return false;
        ecr.link_blob(repo.id, digest, *size, clock().now());
        return true;
      });
      if (mounted) return respond(created(digest));
    }
  }
  std::string uuid = blobs_.start_upload(repo.id);
  auto accepted = [host, name, uuid](std::uint64_t size) {
    HttpResponse r;
    r.status = 202;
    r.headers.emplace_back("Location", "http://" + host + "/v2/" + name + "/blobs/uploads/" + uuid);
    r.headers.emplace_back("Range", upload_range(size));
    r.headers.emplace_back("Docker-Upload-UUID", uuid);
    return r;
  };
  if (!params.count("digest")) return respond(accepted(0));
  // Monolithic upload: the body is the whole blob.
  std::string digest = params["digest"];
  if (!valid_digest(digest)) {
    blobs_.cancel(uuid, repo.id);
    return respond(error(400, "DIGEST_INVALID", "provided digest did not match uploaded content"));
  }
  auto [writer, status] = blobs_.append(uuid, repo.id, std::nullopt);
  if (!writer) return respond(error(500, "UNKNOWN", "cannot open the upload"));
  Plan p;
  p.body = Plan::Body::Upload;
  p.writer.emplace(std::move(*writer));
  std::int64_t repo_id = repo.id;
  p.on_uploaded = [this, uuid, repo_id, digest, created](BlobStore::Writer&& w, bool ok) {
    { BlobStore::Writer done(std::move(w)); }  // close before committing
    if (!ok) {
      blobs_.cancel(uuid, repo_id);
      return error(400, "BLOB_UPLOAD_INVALID", "the upload was interrupted");
    }
    auto [st, size] = commit_upload(uuid, repo_id, digest, clock().now());
    if (st == BlobStore::Status::Ok) return created(digest);
    return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content");
  };
  return p;
}

Plan Registry::handle_upload(const HttpRequest& req, const store::Record& repo, const std::string& name,
                             const std::string& uuid) {
  std::string host = req.header("host");
  auto progress = [host, name, uuid](int status, std::uint64_t size) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Location", "http://" + host + "/v2/" + name + "/blobs/uploads/" + uuid);
    r.headers.emplace_back("Range", upload_range(size));
    r.headers.emplace_back("Docker-Upload-UUID", uuid);
    return r;
  };
  auto unknown = [] { return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry"); };
  std::int64_t repo_id = repo.id;
  if (req.method == "GET") {
    auto size = blobs_.upload_size(uuid, repo_id);
    if (!size) return respond(unknown());
    return respond(progress(204, *size));
  }
  if (req.method == "DELETE") {
    if (!blobs_.cancel(uuid, repo_id)) return respond(unknown());
    HttpResponse r;
    r.status = 204;
    return respond(std::move(r));
  }
  if (req.method != "PATCH" && req.method != "PUT") return respond(error(405, "UNSUPPORTED", "method not allowed"));
  std::optional<std::uint64_t> offset;
  if (std::string cr = req.header("content-range"); !cr.empty()) {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last;
    if (!parse_range(cr, first, last)) {
      HttpResponse bad = error(416, "BLOB_UPLOAD_INVALID", "invalid content range");
      return respond(std::move(bad));
    }
    offset = first;
  }
  std::string digest;
  if (req.method == "PUT") {
    if (auto q = req.target.find('?'); q != std::string::npos) {
      auto params = protocol::parse_form(std::string_view(req.target).substr(q + 1));
      if (params.count("digest")) digest = params["digest"];
    }
    if (!valid_digest(digest)) return respond(error(400, "DIGEST_INVALID", "provided digest did not match uploaded content"));
  }
  auto [writer, status] = blobs_.append(uuid, repo_id, offset);
  if (!writer) {
    if (status == BlobStore::Status::UnknownUpload) return respond(unknown());
    auto size = blobs_.upload_size(uuid, repo_id).value_or(0);
    HttpResponse r = progress(416, size);
    r.body = json{{"errors", json::array({{{"code", "BLOB_UPLOAD_INVALID"},
                                           {"message", status == BlobStore::Status::Busy
                                                           ? "the upload is busy with another request"
                                                           : "the content range does not continue the upload"}}})}}
                 .dump();
    return respond(std::move(r));
  }
  Plan p;
  p.body = Plan::Body::Upload;
  p.writer.emplace(std::move(*writer));
  bool is_put = req.method == "PUT";
  p.on_uploaded = [this, uuid, repo_id, digest, is_put, progress, host, name](BlobStore::Writer&& w, bool ok) {
    std::uint64_t size = w.size();
    { BlobStore::Writer done(std::move(w)); }
    if (!ok) return error(400, "BLOB_UPLOAD_INVALID", "the upload was interrupted");
    if (!is_put) return progress(202, size);
    auto [st, n] = commit_upload(uuid, repo_id, digest, clock().now());
    if (st == BlobStore::Status::Ok) {
      HttpResponse r;
      r.status = 201;
      r.headers.emplace_back("Location", "http://" + host + "/v2/" + name + "/blobs/" + digest);
      r.headers.emplace_back("Docker-Content-Digest", digest);
      return r;
    }
    if (st == BlobStore::Status::DigestMismatch)
      return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content");
    if (st == BlobStore::Status::UnknownUpload) return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
    return error(500, "UNKNOWN", "cannot store the blob");
  };
  return p;
}

int Registry::collect_garbage(double now) {
  blobs_.expire_uploads(opt_.gc_grace_seconds);
  std::lock_guard lock(gc_mu_);
  double cutoff = now - opt_.gc_grace_seconds;
  auto gone = store_.write([&](store::Db& db) { return store::EcrRepo(db).collect_garbage(cutoff); });
  for (const auto& d : gone) blobs_.remove_blob(d);
  // Files the store does not know (a crash between publishing and recording, or a reset).
  int orphans = 0;
  for (const auto& d : blobs_.blob_digests()) {
    if (store_.read([&](store::Db& db) { return store::EcrRepo(db).blob(d).has_value(); })) continue;
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(blobs_.blob_path(d), ec);
    if (ec) continue;
    auto age = std::filesystem::file_time_type::clock::now() - mtime;
    if (age < std::chrono::duration<double>(opt_.gc_grace_seconds)) continue;
    blobs_.remove_blob(d);
    ++orphans;
  }
  int n = static_cast<int>(gone.size()) + orphans;
  if (n) spdlog::info("registry: garbage collection removed {} blob(s)", n);
  return n;
}

int Registry::apply_lifecycle_policies(double now) {
  int expired = 0;
  auto repos = store_.read([](store::Db& db) { return store::EcrRepo(db).repositories_with_lifecycle_policy(); });
  for (auto& [scope, repo] : repos) {
    store_.write([&](store::Db& db) {
      store::EcrRepo ecr(db);
      auto images = ecr.list_images(repo.id);
      std::vector<std::int64_t> ids;
      try {
        ids = lifecycle_expired(repo.doc.value("lifecyclePolicyText", ""), images, now);
      } catch (const std::exception& e) {
        spdlog::warn("registry: lifecycle policy of {} does not apply: {}", repo.name, e.what());
      }
      for (auto id : ids) {
        if (auto it = std::find_if(images.begin(), images.end(), [&](const auto& i) { return i.id == id; });
            it != images.end() && ecr.referenced_as_child(repo.id, it->digest))
          continue;
        ecr.delete_image(id);
        ++expired;
      }
      auto current = store::EcrRepo(db).find_repository(scope, repo.name);
      if (current) {
        current->doc["lifecyclePolicyLastEvaluatedAt"] = now;
        ecr.update_repository(*current);
      }
    });
  }
  if (expired) spdlog::info("registry: lifecycle policies expired {} image(s)", expired);
  return expired;
}

std::vector<std::int64_t> lifecycle_expired(const std::string& policy_text, const std::vector<store::EcrImage>& images,
                                            double now) {
  json policy = json::parse(policy_text, nullptr, false);
  if (policy.is_discarded() || !policy.is_object() || !policy.contains("rules") || !policy["rules"].is_array())
    throw std::invalid_argument("a lifecycle policy is an object with a rules array");
  std::vector<json> rules(policy["rules"].begin(), policy["rules"].end());
  for (const auto& r : rules)
    if (!r.is_object() || !r.contains("rulePriority") || !r["rulePriority"].is_number_integer() ||
        !r.contains("selection") || !r["selection"].is_object())
      throw std::invalid_argument("every rule needs an integer rulePriority and a selection");
  std::sort(rules.begin(), rules.end(),
            [](const json& a, const json& b) { return a["rulePriority"].get<int>() < b["rulePriority"].get<int>(); });
  std::vector<bool> claimed(images.size(), false);
  std::vector<std::int64_t> out;
  for (const auto& rule : rules) {
    const json& sel = rule["selection"];
    std::string status = sel.value("tagStatus", "");
    std::string count_type = sel.value("countType", "");
    if (!sel.contains("countNumber") || !sel["countNumber"].is_number_integer())
      throw std::invalid_argument("countNumber must be an integer");
    long long count = sel["countNumber"].get<long long>();
    std::vector<std::string> prefixes;
    if (sel.contains("tagPrefixList") && sel["tagPrefixList"].is_array())
      for (const auto& p : sel["tagPrefixList"]) prefixes.push_back(p.get<std::string>());
    if (status != "tagged" && status != "untagged" && status != "any")
      throw std::invalid_argument("tagStatus must be tagged, untagged or any");
    if (count_type != "imageCountMoreThan" && count_type != "sinceImagePushed")
      throw std::invalid_argument("countType must be imageCountMoreThan or sinceImagePushed");
    // The images this rule selects that no higher-priority rule selected, newest first.
    std::vector<std::size_t> selected;
    for (std::size_t i = 0; i < images.size(); ++i) {
      if (claimed[i]) continue;
      const auto& tags = images[i].tags;
      bool match = false;
      if (status == "any") match = true;
      else if (status == "untagged") match = tags.empty();
      else if (!tags.empty()) {
        match = prefixes.empty();
        for (const auto& t : tags)
          for (const auto& p : prefixes)
            if (t.rfind(p, 0) == 0) match = true;
      }
      if (match) selected.push_back(i);
    }
    std::sort(selected.begin(), selected.end(),
              [&](std::size_t a, std::size_t b) { return images[a].pushed_at > images[b].pushed_at; });
    for (std::size_t k = 0; k < selected.size(); ++k) {
      std::size_t i = selected[k];
      claimed[i] = true;
      bool expire = count_type == "imageCountMoreThan"
                        ? static_cast<long long>(k) >= count
                        : images[i].pushed_at < now - static_cast<double>(count) * 86400.0;
      if (expire) out.push_back(images[i].id);
    }
  }
  return out;
}

}  // namespace ecsd::registry

// The OCI Distribution v2 registry: the request handling behind the registry port (routes in
// registry.cpp, streamed over Beast in http_server.cpp), and the image operations the ECR API
// shares with it, so both are views of one store (ecr_repo.hpp) and one blob store.
//
// Requests arrive on 127.0.<i>.1:<port>, one address per region (auth.hpp); every /v2/ request
// but the ping needs HTTP Basic credentials "AWS:<GetAuthorizationToken password>".
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecsd/registry/auth.hpp"
#include "ecsd/registry/blob_store.hpp"
#include "ecsd/registry/manifest.hpp"
#include "ecsd/store/ecr_repo.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::registry {

/// An image operation refused; carries both the registry's and ECR's way of saying so.
struct ImageError : std::runtime_error {
  ImageError(std::string oci_code, int status, std::string ecr_code, const std::string& message)
      : std::runtime_error(message), oci_code(std::move(oci_code)), status(status), ecr_code(std::move(ecr_code)) {}
  std::string oci_code;  // MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, TAG_INVALID, ...
  int status;            // HTTP status on the registry port
  std::string ecr_code;  // InvalidParameterException, LayersNotFoundException, ...
};

struct HttpRequest {
  std::string method, target;                  // target: path?query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string local_address;                   // where the connection arrived ("127.0.1.1")
  std::string header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// An open range of a blob file to send as the response body.
struct FileRange {
  int fd = -1;
  std::uint64_t offset = 0, length = 0;
  ~FileRange();
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<FileRange> file;    // when set, the body is this file range
  std::int64_t head_length = -1;      // HEAD: the Content-Length to announce (no body sent)
};

/// What to do with a request's body once its headers are known.
struct Plan {
  enum class Body { Discard, Buffer, Upload } body = Body::Discard;
  HttpResponse response;                                       // Discard: the answer
  std::size_t buffer_limit = 0;                                // Buffer: the most accepted
  std::function<HttpResponse(std::string&&)> on_buffered;      // Buffer: answer from the body
  std::optional<BlobStore::Writer> writer;                     // Upload: where the bytes go
  std::function<HttpResponse(BlobStore::Writer&&, bool ok)> on_uploaded;  // Upload: answer
};

struct RegistryOptions {
  std::string account_id = "000000000000";
  unsigned short port = 0;           // the registry port (for URIs; 0 = disabled)
  double gc_grace_seconds = 600;     // unreferenced uploads/links younger than this are kept
};

class Registry {
 public:
  /// `root` is <data-dir>/registry.
  Registry(store::Store& store, const std::string& root, RegistryOptions options);

  /// Handles a request's headers. @return what to do with its body and how to answer.
  Plan begin(const HttpRequest& req);

  // --- shared with the ECR API ---

  /// @return "127.0.<i>.1:<port>" for a region ("" for a region without an address).
  std::string registry_host(const std::string& region) const;
  const TokenAuthority& tokens() const { return tokens_; }
  BlobStore& blobs() { return blobs_; }
  const RegistryOptions& options() const { return opt_; }
  /// Stores a manifest in a repository (inside the caller's write transaction), tagging it
  /// when `tag` is set. `expected_digest` (a PUT by digest) must match the content.
  /// @return the stored image. @throws ImageError.
  store::EcrImage put_manifest(store::Db& db, const store::Record& repo, const std::string& body,
                               const std::string& content_type, const std::string& tag,
                               const std::string& expected_digest, double now);
  /// Links a committed blob into a repository (serialised with garbage collection).
  void link_blob(std::int64_t repository_id, const std::string& digest, std::uint64_t size, double now);
  /// Commits an upload and links its blob. @return status and size.
  std::pair<BlobStore::Status, std::uint64_t> commit_upload(const std::string& uuid, std::int64_t repository_id,
                                                            const std::string& digest, double now);
  /// Deletes unreferenced blobs (links older than the grace period) and expired uploads.
  /// @return how many blob files went.
  int collect_garbage(double now);
  /// Applies every repository's lifecycle policy. @return how many images expired.
  int apply_lifecycle_policies(double now);

 private:
  HttpResponse handle_tags(const HttpRequest& req, const store::Record& repo, const std::string& name);
  Plan handle_manifest(const HttpRequest& req, const store::Record& repo, const std::string& name,
                       const std::string& reference);
  HttpResponse handle_blob(const HttpRequest& req, const store::Record& repo, const std::string& name,
                           const std::string& digest);
  Plan handle_upload_start(const HttpRequest& req, const store::Scope& scope, const store::Record& repo,
                           const std::string& name);
  Plan handle_upload(const HttpRequest& req, const store::Record& repo, const std::string& name,
                     const std::string& uuid);

  store::Store& store_;
  BlobStore blobs_;
  TokenAuthority tokens_;
  RegistryOptions opt_;
  std::mutex gc_mu_;  // blob commits and links vs garbage collection
};

/// Evaluates an ECR lifecycle policy over a repository's images (oldest push first).
/// @return the ids of the images it expires at `now`. @throws std::invalid_argument for a
///         policy that does not parse as ECR's format.
std::vector<std::int64_t> lifecycle_expired(const std::string& policy_text, const std::vector<store::EcrImage>& images,
                                            double now);

}  // namespace ecsd::registry

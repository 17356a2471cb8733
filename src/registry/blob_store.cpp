// Blob store: verified, atomically published, content-addressed files (layout in blob_store.hpp).
#include "ecsd/registry/blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/registry/reference.hpp"

namespace ecsd::registry {

namespace fs = std::filesystem;

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(const void* data, std::size_t n) { EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n); }

std::string Sha256::digest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  EVP_MD_CTX_copy_ex(copy, static_cast<EVP_MD_CTX*>(ctx_));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy, md, &len);
  EVP_MD_CTX_free(copy);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string sha256_digest(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.digest();
}

// An upload's bookkeeping. The hash covers the first `hashed` bytes of the file; when it
// falls behind (it never should, appends are serialised) commit() re-reads the file.
struct BlobStore::Upload {
  std::int64_t owner = 0;
  Sha256 hash;
  std::uint64_t size = 0, hashed = 0;
  bool busy = false;
  double touched = 0;
};

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_ / "blobs" / "sha256");
  std::error_code ec;
  fs::remove_all(root_ / "uploads", ec);
  fs::create_directories(root_ / "uploads");
}

BlobStore::~BlobStore() = default;

fs::path BlobStore::blob_path(std::string_view digest) const {
  if (!valid_digest(digest)) throw std::invalid_argument("invalid digest");
  std::string_view hex = digest.substr(7);
  return root_ / "blobs" / "sha256" / std::string(hex.substr(0, 2)) / std::string(hex);
}

fs::path BlobStore::upload_path(std::string_view uuid) const { return root_ / "uploads" / std::string(uuid); }

std::optional<std::uint64_t> BlobStore::blob_size(std::string_view digest) const {
  std::error_code ec;
  auto n = fs::file_size(blob_path(digest), ec);
  if (ec) return std::nullopt;
  return n;
}

long BlobStore::read_blob(std::string_view digest, std::uint64_t offset, char* out, std::size_t n) const {
  int fd = ::open(blob_path(digest).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ::close(fd);
      return -1;
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return static_cast<long>(done);
}

void BlobStore::remove_blob(std::string_view digest) {
  std::error_code ec;
  fs::remove(blob_path(digest), ec);
}

std::vector<std::string> BlobStore::blob_digests() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_ / "blobs" / "sha256", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string d = "sha256:" + it->path().filename().string();
    if (valid_digest(d)) out.push_back(d);
  }
  return out;
}

std::string BlobStore::start_upload(std::int64_t owner) {
  std::string uuid = ids::uuid();
  int fd = ::open(upload_path(uuid).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create upload file: " + std::string(std::strerror(errno)));
  ::close(fd);
  auto u = std::make_unique<Upload>();
  u->owner = owner;
  u->touched = clock().monotonic();
  std::lock_guard lock(mu_);
  uploads_.emplace(uuid, std::move(u));
  return uuid;
}

std::optional<std::uint64_t> BlobStore::upload_size(std::string_view uuid, std::int64_t owner) const {
  std::lock_guard lock(mu_);
  auto it = uploads_.find(uuid);
  if (it == uploads_.end() || it->second->owner != owner) return std::nullopt;
  return it->second->size;
}

BlobStore::Writer::Writer(BlobStore* store, std::string uuid, int fd, std::uint64_t size)
    : store_(store), uuid_(std::move(uuid)), fd_(fd), size_(size) {}

BlobStore::Writer::Writer(Writer&& o) noexcept : store_(o.store_), uuid_(std::move(o.uuid_)), fd_(o.fd_), size_(o.size_) {
  o.fd_ = -1;
  o.store_ = nullptr;
}

BlobStore::Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
  if (store_) store_->release(uuid_, size_);
}

bool BlobStore::Writer::write(const char* data, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    done += static_cast<std::size_t>(w);
  }
  {
    // The hash belongs to the upload; only this writer touches it while busy.
    std::lock_guard lock(store_->mu_);
    auto it = store_->uploads_.find(uuid_);
    if (it != store_->uploads_.end() && it->second->hashed == size_) {
      it->second->hash.update(data, n);
      it->second->hashed += n;
    }
  }
  size_ += n;
  return true;
}

void BlobStore::release(const std::string& uuid, std::uint64_t size) {
  std::lock_guard lock(mu_);
  auto it = uploads_.find(uuid);
  if (it == uploads_.end()) return;
  it->second->busy = false;
  it->second->size = size;
  it->second->touched = clock().monotonic();
}

std::pair<std::optional<BlobStore::Writer>, BlobStore::Status> BlobStore::append(std::string_view uuid,
                                                                                 std::int64_t owner,
                                                                                 std::optional<std::uint64_t> offset) {
  std::lock_guard lock(mu_);
  auto it = uploads_.find(uuid);
  if (it == uploads_.end() || it->second->owner != owner) return {std::nullopt, Status::UnknownUpload};
  Upload& u = *it->second;
  if (u.busy) return {std::nullopt, Status::Busy};
  if (offset && *offset != u.size) return {std::nullopt, Status::BadOffset};
  int fd = ::open(upload_path(uuid).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return {std::nullopt, Status::IoError};
  u.busy = true;
  return {Writer(this, std::string(uuid), fd, u.size), Status::Ok};
}

std::pair<BlobStore::Status, std::uint64_t> BlobStore::commit(std::string_view uuid, std::int64_t owner,
                                                              std::string_view digest) {
  if (!valid_digest(digest)) return {Status::DigestMismatch, 0};
  std::string computed;
  std::uint64_t size = 0;
  {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(uuid);
    if (it == uploads_.end() || it->second->owner != owner) return {Status::UnknownUpload, 0};
    if (it->second->busy) return {Status::Busy, 0};
    it->second->busy = true;
    size = it->second->size;
    if (it->second->hashed == size) computed = it->second->hash.digest();
  }
  auto path = upload_path(uuid);
  auto forget = [&] {
    std::lock_guard lock(mu_);
    uploads_.erase(std::string(uuid));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    forget();
    return {Status::IoError, 0};
  }
  if (computed.empty()) {
    Sha256 h;
    std::vector<char> buf(1 << 20);
    ssize_t r;
    while ((r = ::read(fd, buf.data(), buf.size())) > 0) h.update(buf.data(), static_cast<std::size_t>(r));
    computed = h.digest();
  }
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  if (computed != digest) {
    fs::remove(path, ec);
    forget();
    return {Status::DigestMismatch, size};
  }
  auto target = blob_path(digest);
  fs::create_directories(target.parent_path(), ec);
  if (fs::exists(target, ec)) {
    fs::remove(path, ec);  // same content already stored: keep the one copy
  } else if (::rename(path.c_str(), target.c_str()) != 0) {
    spdlog::error("registry: cannot publish blob {}: {}", digest, std::strerror(errno));
    fs::remove(path, ec);
    forget();
    return {Status::IoError, size};
  }
  forget();
  return {Status::Ok, size};
}

bool BlobStore::cancel(std::string_view uuid, std::int64_t owner) {
  {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(uuid);
    if (it == uploads_.end() || it->second->owner != owner || it->second->busy) return false;
    uploads_.erase(it);
  }
  std::error_code ec;
  fs::remove(upload_path(uuid), ec);
  return true;
}

void BlobStore::expire_uploads(double seconds) {
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    double now = clock().monotonic();
    for (auto it = uploads_.begin(); it != uploads_.end();) {
      if (!it->second->busy && now - it->second->touched > seconds) {
        gone.push_back(it->first);
        it = uploads_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::error_code ec;
  for (const auto& u : gone) fs::remove(upload_path(u), ec);
}

}  // namespace ecsd::registry

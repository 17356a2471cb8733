// The content-addressed blob store of the registry, and its uploads.
//
//   <data-dir>/registry/
//     blobs/sha256/<first two hex digits>/<64 hex digits>   immutable, verified blobs
//     uploads/<uuid>                                          uploads in progress
//
// A blob becomes visible only by rename(2) of a complete upload whose SHA-256 matched the
// digest the client named, after fsync: a crash mid-upload leaves at most a file under
// uploads/ (purged at start), never a partial blob. Identical content is stored once whatever
// repository pushed it. Which repositories may serve a blob is recorded in the store
// (ecr_repo.hpp); files nothing refers to are removed by the garbage collector.
// Thread-safe.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecsd::registry {

/// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t n);
  /// @return "sha256:<hex>" of what was fed so far (the hash can still be updated afterwards).
  std::string digest() const;

 private:
  void* ctx_;  // EVP_MD_CTX
};

/// @return "sha256:<hex>" of `data`.
std::string sha256_digest(std::string_view data);

class BlobStore {
 public:
  /// Uses (creating) `root`; removes uploads left by a previous run.
  explicit BlobStore(std::filesystem::path root);
  ~BlobStore();

  /// @return the file of a blob. @throws std::invalid_argument for an invalid digest.
  std::filesystem::path blob_path(std::string_view digest) const;
  /// @return the size of a stored blob, or nullopt when the file is missing.
  std::optional<std::uint64_t> blob_size(std::string_view digest) const;
  /// Reads up to `n` bytes at `offset` of a blob into `out`. @return bytes read, -1 on error.
  long read_blob(std::string_view digest, std::uint64_t offset, char* out, std::size_t n) const;
  /// Deletes a blob file (garbage collection). Missing files are fine.
  void remove_blob(std::string_view digest);
  /// @return the digests of every blob file.
  std::vector<std::string> blob_digests() const;

  // --- uploads: start -> append* -> commit | cancel ---

  /// Starts an upload owned by `owner` (a repository id). @return its uuid.
  std::string start_upload(std::int64_t owner);
  /// @return the bytes received so far, or nullopt when `uuid` is not an upload of `owner`.
  std::optional<std::uint64_t> upload_size(std::string_view uuid, std::int64_t owner) const;

  enum class Status { Ok, UnknownUpload, Busy, BadOffset, DigestMismatch, IoError };

  /// Appends to an upload while alive; one writer per upload at a time.
  class Writer {
   public:
    Writer(Writer&&) noexcept;
    ~Writer();
    /// @return false on a write error.
    bool write(const char* data, std::size_t n);
    std::uint64_t size() const { return size_; }

   private:
    friend class BlobStore;
    Writer(BlobStore* store, std::string uuid, int fd, std::uint64_t size);
    BlobStore* store_;
    std::string uuid_;
    int fd_;
    std::uint64_t size_;
  };
  /// Opens an upload for appending. `offset` (when given) must equal the bytes received so far
  /// (the start of a client's Content-Range). @return the writer, or the reason it cannot be had.
  std::pair<std::optional<Writer>, Status> append(std::string_view uuid, std::int64_t owner,
                                                  std::optional<std::uint64_t> offset);
  /// Completes an upload: verifies that its content hashes to `digest`, makes the blob visible
  /// atomically (or drops the upload when the blob already exists) and forgets the upload.
  /// On DigestMismatch the upload is discarded. @return the status and the blob's size.
  std::pair<Status, std::uint64_t> commit(std::string_view uuid, std::int64_t owner, std::string_view digest);
  /// Abandons an upload. @return false when unknown.
  bool cancel(std::string_view uuid, std::int64_t owner);
  /// Abandons uploads idle for longer than `seconds`.
  void expire_uploads(double seconds);

 private:
  struct Upload;
  std::filesystem::path upload_path(std::string_view uuid) const;
  void release(const std::string& uuid, std::uint64_t size);

  std::filesystem::path root_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Upload>, std::less<>> uploads_;
};

}  // namespace ecsd::registry

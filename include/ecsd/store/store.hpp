// The store: one SQLite database (WAL) under the data dir, migrated at open, and the only
// owner of SQL in ecsd. Repos (cluster_repo.hpp, ...) run inside Store::read/write.
//
// Durability: WAL with synchronous=NORMAL. A commit is in the WAL file (the OS page cache)
// before the request is acknowledged, so killing the process (even kill -9) loses nothing;
// only a power loss could drop the last transactions.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "ecsd/store/sqlite.hpp"

namespace ecsd::store {

/// Every resource belongs to an (account, region).
struct Scope {
  std::string account, region;
};

/// A resource row: the columns we query on, and the rest of the AWS shape as JSON.
struct Record {
  std::int64_t id = 0;
  std::string arn, name, status;
  nlohmann::json doc;
  std::int64_t version = 0;
  double created_at = 0;
};

/// An optimistic update lost against a concurrent writer.
struct ConflictError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  /// Opens `path` (":memory:" for tests), sets WAL/foreign keys and applies migrations.
  explicit Store(const std::string& path);

  /// Runs `fn(Db&)` in one write transaction (BEGIN IMMEDIATE .. COMMIT); rolls back if it throws.
  template <typename F>
  auto write(F&& fn) {
    std::lock_guard lock(mu_);
    Txn txn(db_);
    if constexpr (std::is_void_v<decltype(fn(db_))>) {
      fn(db_);
      txn.commit();
    } else {
      auto result = fn(db_);
      txn.commit();
      return result;
    }
  }

  /// Runs `fn(Db&)` for reading (serialised with writers on the one connection).
  template <typename F>
  auto read(F&& fn) {
    std::lock_guard lock(mu_);
    return fn(db_);
  }

  /// Deletes every resource (POST /_ecsd/reset).
  void reset();
  /// @return the schema version after migrations.
  int schema_version();

 private:
  std::mutex mu_;
  Db db_;
};

}  // namespace ecsd::store

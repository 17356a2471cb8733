// RAII wrappers over the SQLite C API: a connection, prepared statements, transactions.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace ecsd::store {

/// A SQLite failure; `code` is the extended result code.
struct SqliteError : std::runtime_error {
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code(code) {}
  int code;
};

class Stmt;

class Db {
 public:
  /// Opens (creating) the database at `path` (":memory:" for tests).
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /// Runs one or more statements without results.
  void exec(const char* sql);
  /// @return a prepared statement; statements are cached per SQL text for the life of the Db.
  Stmt& prepare(const char* sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* raw() const { return db_; }
  /// @return the JSON document stored as `text`. A document read a second time is kept, parsed,
  /// for the reads after it (keyed by its text, so a changed row is a different entry): clients
  /// poll the same services and tasks over and over. Bounded to 256 KiB of text.
  nlohmann::json parse_doc(std::string_view text);

 private:
  sqlite3* db_ = nullptr;
  struct Cache;
  Cache* cache_;
};

/// A prepared statement. Binding is 1-based like SQLite; columns are 0-based.
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind_null(int i);
  template <typename... A>
  Stmt& bind_all(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }

  /// Steps once. @return true when a row is available.
  bool step();
  /// Steps to completion expecting no rows (INSERT/UPDATE/DELETE).
  void run();
  /// Resets and clears bindings; done automatically by prepare().
  void reset();

  Db& db() const { return db_; }
  std::string text(int col) const;
  /// The column's text in SQLite's buffer: valid until the next step(), reset() or column access
  /// of another type on this column.
  std::string_view text_view(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* s_;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Txn {
 public:
  explicit Txn(Db& db);
  ~Txn();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace ecsd::store

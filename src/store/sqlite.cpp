// SQLite RAII wrappers.
#include "ecsd/store/sqlite.hpp"

#include <sqlite3.h>

#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace ecsd::store {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& ctx) {
  throw SqliteError(rc, ctx + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}
}  // namespace

struct Db::Cache {
  std::unordered_map<const char*, std::unique_ptr<Stmt>> by_sql;
  // parse_doc: documents read at least twice, by the hash of their text (the text is compared
  // too), and the hashes of those read once so far.
  struct Doc {
    std::string text;
    nlohmann::json doc;
  };
  std::unordered_map<std::size_t, Doc> docs;
  std::unordered_set<std::size_t> seen_once;
  std::size_t doc_bytes = 0;
};

namespace {
constexpr std::size_t kMinCachedDoc = 256;           // smaller ones parse about as fast as they copy
constexpr std::size_t kMaxCachedDocBytes = 256 * 1024;
constexpr std::size_t kMaxSeenOnce = 4096;
}  // namespace

nlohmann::json Db::parse_doc(std::string_view text) {
  if (text.size() < kMinCachedDoc) return nlohmann::json::parse(text.begin(), text.end());
  auto& c = *cache_;
  std::size_t h = std::hash<std::string_view>{}(text);
  if (auto it = c.docs.find(h); it != c.docs.end() && it->second.text == text) return it->second.doc;
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end());
  if (c.seen_once.erase(h) == 0) {
    // First read: only remember that it was read (a scan over many rows caches nothing).
    if (c.seen_once.size() >= kMaxSeenOnce) c.seen_once.clear();
    c.seen_once.insert(h);
    return doc;
  }
  if (c.doc_bytes + text.size() > kMaxCachedDocBytes) {
    c.docs.clear();
    c.doc_bytes = 0;
  }
  if (auto it = c.docs.find(h); it != c.docs.end()) c.doc_bytes -= it->second.text.size();  // a hash collision
  c.docs.insert_or_assign(h, Cache::Doc{std::string(text), doc});
  c.doc_bytes += text.size();
  return doc;
}

Db::Db(const std::string& path) : cache_(new Cache) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    delete cache_;
    throw SqliteError(rc, "open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
}

Db::~Db() {
  delete cache_;  // finalizes statements before the connection closes
  sqlite3_close(db_);
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, msg);
  }
}

// Keyed by the address of the SQL constant: every caller passes a named constant.
Stmt& Db::prepare(const char* sql) {
  auto& slot = cache_->by_sql[sql];
  if (!slot) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, std::string("prepare ") + sql);
    slot = std::make_unique<Stmt>(*this, s);
  } else {
    slot->reset();
  }
  return *slot;
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_.raw(), rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(s_, i, v);
  if (rc != SQLITE_OK) fail(db_.raw(), rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  int rc = sqlite3_bind_double(s_, i, v);
  if (rc != SQLITE_OK) fail(db_.raw(), rc, "bind");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_.raw(), rc, std::string("step ") + sqlite3_sql(s_));
}

void Stmt::run() {
  while (step()) {
  }
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::text(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}
std::string_view Stmt::text_view(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string_view();
}
std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::real(int col) const { return sqlite3_column_double(s_, col); }
bool Stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

// Prepared once (Db::prepare caches by these addresses) instead of parsed by sqlite3_exec on every
// transaction: that parsing was 4 % of a RegisterTaskDefinition's CPU.
namespace {
constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

void run_now(Db& db, const char* sql) {
  Stmt& s = db.prepare(sql);
  s.run();
  s.reset();
}
}  // namespace

Txn::Txn(Db& db) : db_(db) { run_now(db_, kBegin); }
Txn::~Txn() {
  if (!done_) {
    try {
      run_now(db_, kRollback);
    } catch (...) {
    }
  }
}
void Txn::commit() {
  run_now(db_, kCommit);
  done_ = true;
}

}  // namespace ecsd::store

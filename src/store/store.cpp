// Store: connection setup and schema migrations.
//
// Schema (migration 1):
//   clusters          id, account, region, name, arn, status, doc, version, created_at
//                     UNIQUE(account, region, name)
//   services          id, account, region, cluster_id -> clusters, name, arn, status, doc,
//                     version, created_at, updated_at          (INACTIVE rows are kept a while)
//   task_definitions  id, account, region, family, revision, arn, status, doc, registered_at
//                     UNIQUE(account, region, family, revision)
//   tags              resource_arn, key, value                 PRIMARY KEY(resource_arn, key)
//   account_settings  account, region, principal_arn, name, value
// Migration 2:
//   tasks             id, account, region, cluster_id -> clusters, arn, service_arn, family,
//                     last_status, desired_status, started_by, container_instance_arn, doc,
//                     version, created_at, updated_at
//   container_instances id, account, region, cluster_id -> clusters, arn, status, doc, version
//   meta              key, value                               (daemon identity, ...)
// Migrations are append-only; PRAGMA user_version is the number applied.
#include "ecsd/store/store.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE clusters (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
  arn TEXT NOT NULL UNIQUE, status TEXT NOT NULL, doc TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL,
  UNIQUE(account, region, name));
CREATE TABLE services (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL, region TEXT NOT NULL,
  cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  name TEXT NOT NULL, arn TEXT NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX services_by_cluster ON services(cluster_id, name);
CREATE INDEX services_by_arn ON services(arn);
CREATE TABLE task_definitions (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL, region TEXT NOT NULL, family TEXT NOT NULL, revision INTEGER NOT NULL,
  arn TEXT NOT NULL UNIQUE, status TEXT NOT NULL, doc TEXT NOT NULL, registered_at REAL NOT NULL,
  UNIQUE(account, region, family, revision));
CREATE TABLE task_definition_families (
  account TEXT NOT NULL, region TEXT NOT NULL, family TEXT NOT NULL, last_revision INTEGER NOT NULL,
  PRIMARY KEY(account, region, family));
CREATE TABLE tags (
  resource_arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(resource_arn, key));
CREATE TABLE account_settings (
  account TEXT NOT NULL, region TEXT NOT NULL, principal_arn TEXT NOT NULL,
  name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(account, region, principal_arn, name));
)sql",
    R"sql(
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL, region TEXT NOT NULL,
  cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  arn TEXT NOT NULL UNIQUE, service_arn TEXT NOT NULL DEFAULT '', family TEXT NOT NULL,
  last_status TEXT NOT NULL, desired_status TEXT NOT NULL, started_by TEXT NOT NULL DEFAULT '',
  container_instance_arn TEXT NOT NULL DEFAULT '', doc TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX tasks_by_cluster ON tasks(cluster_id, desired_status);
CREATE INDEX tasks_by_service ON tasks(service_arn, desired_status);
CREATE INDEX tasks_by_status ON tasks(last_status, updated_at);
CREATE TABLE container_instances (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL, region TEXT NOT NULL,
  cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  arn TEXT NOT NULL UNIQUE, status TEXT NOT NULL, doc TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
};

constexpr const char* kResetSql = R"sql(
DELETE FROM tasks; DELETE FROM container_instances;
DELETE FROM services; DELETE FROM clusters; DELETE FROM task_definitions;
DELETE FROM task_definition_families; DELETE FROM tags; DELETE FROM account_settings;
)sql";
constexpr const char* kUserVersion = "PRAGMA user_version";
}  // namespace

Store::Store(const std::string& path) : db_(path) {
  db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  std::lock_guard lock(mu_);
  int current = 0;
  {
    auto& s = db_.prepare(kUserVersion);
    if (s.step()) current = static_cast<int>(s.int64(0));
    s.reset();
  }
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  for (int v = current; v < kLatest; ++v) {
    Txn txn(db_);
    db_.exec(kMigrations[v]);
    db_.exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    txn.commit();
  }
}

void Store::reset() {
  std::lock_guard lock(mu_);
  Txn txn(db_);
  db_.exec(kResetSql);
  txn.commit();
}

int Store::schema_version() {
  std::lock_guard lock(mu_);
  auto& s = db_.prepare(kUserVersion);
  int v = s.step() ? static_cast<int>(s.int64(0)) : 0;
  s.reset();
  return v;
}

}  // namespace ecsd::store

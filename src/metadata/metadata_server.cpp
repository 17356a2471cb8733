// Task metadata and credentials endpoints (design in metadata_server.hpp). The HTTP side reuses
// http::Server (one per listening address) on this server's own io_context, so a handler waiting
// on the engine never holds up the API.
#include "ecsd/metadata/metadata_server.hpp"

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "ecsd/common/asio.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/http/server.hpp"
#include "ecsd/metadata/netns_listener.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::metadata {

using nlohmann::json;

namespace {

constexpr double kCredentialLifetimeSeconds = 6 * 3600;

protocol::WireResponse reply(int status, const json& body) {
  protocol::WireResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

protocol::WireResponse not_found(const std::string& what) { return reply(404, {{"message", what}}); }

std::vector<std::string> split_path(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string ts(const json& doc, const char* key) {
  return doc.contains(key) && doc[key].is_number() ? iso8601(doc[key].get<double>()) : std::string();
}

const json* definition_of(const json& td, const std::string& name) {
  if (!td.contains("containerDefinitions")) return nullptr;
  for (const auto& d : td["containerDefinitions"])
    if (d.value("name", "") == name) return &d;
  return nullptr;
}

std::string region_of(const std::string& arn) {
  auto a = arn.find(':', 12);
  return arn.size() > 12 && a != std::string::npos ? arn.substr(12, a - 12) : "";
}

}  // namespace

json new_task_credentials(const std::string& role_arn) {
  std::string akid = "ASIA";
  for (char c : ids::hex(16)) akid += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {{"AccessKeyId", akid}, {"SecretAccessKey", ids::hex(40)}, {"Token", ids::hex(64)}, {"RoleArn", role_arn}};
}

struct MetadataServer::Impl {
  store::Store& store;
  runtime::ContainerRuntime* runtime;
  Options opt;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<std::string, std::unique_ptr<http::Server>> servers;  // by address
  std::map<std::string, std::string> endpoints;                 // address -> base URL ("" = failed)
  struct LinkLocal {
    int pid = 0;
    std::unique_ptr<http::Server> server;
  };
  std::map<std::string, LinkLocal> link_local;  // by container id
  bool link_local_warned = false;
  unsigned short port = 0;
  MetadataServer* owner = nullptr;

  Impl(store::Store& s, runtime::ContainerRuntime* r, Options o) : store(s), runtime(r), opt(o) {}

  http::RequestHandler handler() {
    return [this](const protocol::WireRequest& req) { return owner->handle(req); };
  }

  json container_doc(const store::TaskRow& t, const json& c, const json& td, bool v4) {
    const std::string name = c.value("name", "");
    const json* def = definition_of(td, name);
    json out = {{"DockerId", c.value("runtimeId", "")},
                {"Name", name},
                {"DockerName", ""},
                {"Image", c.value("image", def ? def->value("image", "") : "")},
                {"ImageID", c.value("imageDigest", "")},
                {"Labels", json::object()},
                {"DesiredStatus", t.doc.value("desiredStatus", t.desired_status)},
                {"KnownStatus", c.value("lastStatus", "PENDING")},
                {"Type", "NORMAL"}};
    json limits = {{"CPU", def ? def->value("cpu", 0) : 0}};
    if (def && def->contains("memory")) limits["Memory"] = (*def)["memory"];
    out["Limits"] = limits;
    if (auto created = ts(t.doc, "createdAt"); !created.empty()) out["CreatedAt"] = created;
    std::string mode = td.value("networkMode", "bridge");
    json network = {{"NetworkMode", mode}, {"IPv4Addresses", json::array()}};
    if (runtime && !out["DockerId"].get<std::string>().empty()) {
      try {
        if (auto st = runtime->inspect_container(out["DockerId"])) {
          out["DockerName"] = st->name.rfind('/', 0) == 0 ? st->name.substr(1) : st->name;
          out["ImageID"] = st->image_id;
          out["Labels"] = st->labels;
          if (st->started_at > 0) out["StartedAt"] = iso8601(st->started_at);
          if (st->finished_at > 0 && (st->status == "exited" || st->status == "dead")) {
            out["FinishedAt"] = iso8601(st->finished_at);
            out["ExitCode"] = st->exit_code;
          }
          for (const auto& [net, ip] : st->network_ips)
            if (!ip.empty()) network["IPv4Addresses"].push_back(ip);
        }
      } catch (const runtime::RuntimeError& e) {
        spdlog::debug("metadata: inspect {}: {}", out["DockerId"].get<std::string>(), e.what());
      }
    }
    if (mode == "awsvpc") {
      network["AttachmentIndex"] = 0;
      for (const auto& att : t.doc.value("attachments", json::array()))
        for (const auto& d : att.value("details", json::array())) {
          std::string k = d.value("name", ""), v = d.value("value", "");
          if (k == "privateIPv4Address") network["IPv4Addresses"] = json::array({v});
          else if (k == "macAddress") network["MACAddress"] = v;
          else if (k == "privateDnsName") network["PrivateDNSName"] = v;
        }
    }
    out["Networks"] = json::array({network});
    if (v4) {
      out["ContainerARN"] = c.value("containerArn", "");
      if (def && def->contains("logConfiguration")) {
        out["LogDriver"] = (*def)["logConfiguration"].value("logDriver", "");
        out["LogOptions"] = (*def)["logConfiguration"].value("options", json::object());
      }
    } else {
      for (auto& n : out["Networks"])
        for (const char* k : {"AttachmentIndex", "MACAddress", "PrivateDNSName"}) n.erase(k);
    }
    return out;
  }

  json task_doc(const store::TaskRow& t, bool v4) {
    const json td = t.doc.contains("_ecsd") ? t.doc["_ecsd"].value("td", json::object()) : json::object();
    json out = {{"Cluster", t.doc.value("clusterArn", "")},
                {"TaskARN", t.arn},
                {"Family", td.value("family", t.family)},
                {"Revision", std::to_string(td.value("revision", 0))},
                {"DesiredStatus", t.doc.value("desiredStatus", t.desired_status)},
                {"KnownStatus", t.doc.value("lastStatus", t.status)},
                {"Containers", json::array()}};
    if (!t.service_arn.empty()) out["ServiceName"] = t.service_arn.substr(t.service_arn.rfind('/') + 1);
    json limits = json::object();
    if (td.contains("cpu")) limits["CPU"] = std::stod(td["cpu"].get<std::string>()) / 1024.0;
    if (td.contains("memory")) limits["Memory"] = std::stol(td["memory"].get<std::string>());
    if (!limits.empty()) out["Limits"] = limits;
    for (const char* k : {"pullStartedAt", "pullStoppedAt", "executionStoppedAt"}) {
      std::string v = ts(t.doc, k);
      std::string key = std::string(1, static_cast<char>(std::toupper(k[0]))) + (k + 1);
      if (!v.empty()) out[key] = v;
    }
    for (const auto& c : t.doc.value("containers", json::array())) out["Containers"].push_back(container_doc(t, c, td, v4));
    if (v4) {
      out["LaunchType"] = t.doc.value("launchType", "EC2");
      out["AvailabilityZone"] = t.doc.value("availabilityZone", region_of(t.arn) + opt.availability_zone_suffix);
      out["ClockDrift"] = {{"ClockErrorBound", 0.5}, {"ReferenceTimestamp", iso8601(clock().now())},
                           {"ClockSynchronizationStatus", "SYNCHRONIZED"}};
    }
    return out;
  }

  json stats_of(const std::string& docker_id) {
    if (!runtime || docker_id.empty()) return nullptr;
    try {
      json j = json::parse(runtime->container_stats(docker_id), nullptr, false);
      return j.is_discarded() ? json(nullptr) : j;
    } catch (const runtime::RuntimeError& e) {
      spdlog::debug("metadata: stats {}: {}", docker_id, e.what());
      return nullptr;
    }
  }

  std::optional<json> meta(const std::string& key) {
    auto v = store.read([&](store::Db& db) { return store::MetaRepo(db).get(key); });
    if (!v) return std::nullopt;
    json j = json::parse(*v, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
  }

  // Records the port and the addresses listened on (caller holds `mu` or is the constructor).
  void remember() {
    json addresses = json::array();
    for (const auto& [addr, url] : endpoints)
      if (!url.empty()) addresses.push_back(addr);
    json v = {{"port", port}, {"addresses", addresses}};
    try {
      store.write([&](store::Db& db) { store::MetaRepo(db).put("metadata_endpoint", v.dump()); });
    } catch (const std::exception& e) {
      spdlog::warn("cannot record the metadata endpoint: {}", e.what());
    }
  }

  std::optional<store::TaskRow> task(const std::string& arn) {
    return store.read([&](store::Db& db) { return store::TaskRepo(db).find_by_arn(arn); });
  }
};

namespace {
// Where the endpoint listened before a restart: {"port": P, "addresses": [...]}. Running containers
// carry URLs with that port, so a restarted ecsd listens there again.
constexpr const char* kMetaKey = "metadata_endpoint";
}  // namespace

MetadataServer::MetadataServer(store::Store& store, runtime::ContainerRuntime* runtime, Options options)
    : impl_(std::make_unique<Impl>(store, runtime, options)) {
  impl_->owner = this;
  json previous = impl_->meta(kMetaKey).value_or(json::object());
  std::unique_ptr<http::Server> server;
  if (auto port = previous.value("port", 0); port > 0 && port < 65536) {
    try {
      server = std::make_unique<http::Server>(impl_->io, "127.0.0.1", static_cast<unsigned short>(port),
                                              impl_->handler());
    } catch (const std::exception& e) {
      spdlog::warn("task metadata endpoint cannot listen on its previous port {} ({}); running containers' "
                   "metadata URLs stop answering",
                   port, e.what());
    }
  }
  if (!server) server = std::make_unique<http::Server>(impl_->io, "127.0.0.1", 0, impl_->handler());
  impl_->port = server->port();
  server->start();
  impl_->servers["127.0.0.1"] = std::move(server);
  impl_->endpoints["127.0.0.1"] = "http://127.0.0.1:" + std::to_string(impl_->port);
  for (int i = 0; i < std::max(1, options.threads); ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
  spdlog::info("task metadata endpoint on 127.0.0.1:{} (and on task networks' gateways as tasks need them)",
               impl_->port);
  if (previous.value("port", 0) == impl_->port)
    for (const auto& a : previous.value("addresses", json::array()))
      if (a.is_string() && a.get<std::string>() != "127.0.0.1") endpoint_on(a.get<std::string>());
  impl_->remember();
}

MetadataServer::~MetadataServer() {
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [addr, s] : impl_->servers) s->stop();
    for (auto& [id, l] : impl_->link_local) l.server->stop();
  }
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  std::lock_guard lock(impl_->mu);
  impl_->servers.clear();
  impl_->link_local.clear();
}

bool MetadataServer::serve_link_local(const std::string& container_id, int pid) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->link_local.find(container_id);
  if (it != impl_->link_local.end() && it->second.pid == pid) return true;
  if (it != impl_->link_local.end()) {  // the container restarted: a new process, maybe a new namespace
    it->second.server->stop();
    impl_->link_local.erase(it);
  }
  std::string error;
  int fd = listen_in_netns(pid, "169.254.170.2", 80, error);
  if (fd < 0) {
    if (!impl_->link_local_warned)
      spdlog::warn("cannot serve 169.254.170.2 inside container {} ({}); SDKs there will not find task role "
                   "credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI still answers)",
                   container_id.substr(0, 12), error);
    impl_->link_local_warned = true;
    return false;
  }
  auto server = std::make_unique<http::Server>(impl_->io, fd, impl_->handler());
  server->start();
  impl_->link_local[container_id] = {pid, std::move(server)};
  spdlog::debug("serving 169.254.170.2:80 inside container {}", container_id.substr(0, 12));
  return true;
}

void MetadataServer::release_link_local(const std::string& container_id) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->link_local.find(container_id);
  if (it == impl_->link_local.end()) return;
  it->second.server->stop();
  impl_->link_local.erase(it);
}

void MetadataServer::release_all_link_local() {
  std::lock_guard lock(impl_->mu);
  for (auto& [id, l] : impl_->link_local) l.server->stop();
  impl_->link_local.clear();
}

unsigned short MetadataServer::port() const { return impl_->port; }

std::string MetadataServer::endpoint_on(const std::string& address) {
  std::lock_guard lock(impl_->mu);
  if (auto it = impl_->endpoints.find(address); it != impl_->endpoints.end() && !it->second.empty()) return it->second;
  std::unique_ptr<http::Server> server;
  for (unsigned short port : {impl_->port, static_cast<unsigned short>(0)}) {
    try {
      server = std::make_unique<http::Server>(impl_->io, address, port, impl_->handler());
      break;
    } catch (const std::exception& e) {
      spdlog::debug("metadata endpoint cannot listen on {}:{}: {}", address, port, e.what());
    }
  }
  if (!server) {
    spdlog::warn("task metadata endpoint cannot listen on {}; containers there get no metadata variables", address);
    return "";
  }
  std::string url = "http://" + address + ":" + std::to_string(server->port());
  server->start();
  spdlog::info("task metadata endpoint also on {}", url);
  impl_->servers[address] = std::move(server);
  impl_->endpoints[address] = url;
  impl_->remember();
  return url;
}

protocol::WireResponse MetadataServer::handle(const protocol::WireRequest& req) {
  auto parts = split_path(req.target);
  if (req.method != "GET") return reply(405, {{"message", "Only GET is supported."}});
  if (parts.size() == 3 && parts[0] == "v2" && parts[1] == "credentials") {
    auto m = impl_->meta("mdcred:" + parts[2]);
    auto t = m ? impl_->task(m->value("task", "")) : std::nullopt;
    if (!t || !t->doc.contains("_ecsd") || !t->doc["_ecsd"].contains("credentials"))
      return reply(400, {{"code", "InvalidIdInRequest"}, {"message", "CredentialsV2Request: Credentials not found"}});
    json c = t->doc["_ecsd"]["credentials"];
    return reply(200, {{"AccessKeyId", c.value("AccessKeyId", "")},
                       {"SecretAccessKey", c.value("SecretAccessKey", "")},
                       {"Token", c.value("Token", "")},
                       {"RoleArn", c.value("RoleArn", "")},
                       {"Expiration", iso8601(clock().now() + kCredentialLifetimeSeconds)}});
  }
  if (parts.size() < 2 || (parts[0] != "v4" && parts[0] != "v3"))
    return not_found("Unknown path " + req.target.substr(0, 200));
  const bool v4 = parts[0] == "v4";
  auto m = impl_->meta("mdtoken:" + parts[1]);
  auto t = m ? impl_->task(m->value("task", "")) : std::nullopt;
  if (!t) return reply(400, {{"message", "Unable to find container for the request's token."}});
  const std::string cname = m->value("container", "");
  std::vector<std::string> rest(parts.begin() + 2, parts.end());
  const json td = t->doc["_ecsd"].value("td", json::object());
  auto find_container = [&]() -> const json* {
    for (const auto& c : t->doc["containers"])
      if (c.value("name", "") == cname) return &c;
    return nullptr;
  };
  if (rest.empty()) {
    const json* c = find_container();
    if (!c) return not_found("Container " + cname + " is not in task " + t->arn);
    return reply(200, impl_->container_doc(*t, *c, td, v4));
  }
  if (rest.size() == 1 && rest[0] == "task") return reply(200, impl_->task_doc(*t, v4));
  if (rest.size() == 1 && rest[0] == "stats") {
    const json* c = find_container();
    return reply(200, c ? impl_->stats_of(c->value("runtimeId", "")) : json(nullptr));
  }
  if (rest.size() == 2 && rest[0] == "task" && rest[1] == "stats") {
    json out = json::object();
    for (const auto& c : t->doc["containers"]) {
      std::string id = c.value("runtimeId", "");
      if (!id.empty()) out[id] = impl_->stats_of(id);
    }
    return reply(200, out);
  }
  return not_found("Unknown path " + req.target.substr(0, 200));
}

}  // namespace ecsd::metadata

// ALB data plane on Beast coroutines: listeners, proxying and HTTP health checks.
#include "ecsd/alb/data_plane.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "ecsd/alb/rules.hpp"
#include "ecsd/common/asio.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/domain/elb.hpp"

namespace ecsd::alb {

using asio::ip::tcp;
using asio::use_awaitable;
namespace bhttp = beast::http;
using nlohmann::json;

namespace {

struct TargetKey {
  std::string group, id;
  int port;
  bool operator<(const TargetKey& o) const { return std::tie(group, id, port) < std::tie(o.group, o.id, o.port); }
};

struct Checks {
  int successes = 0, failures = 0;
  double next_at = 0;
  bool running = false;
};

int attr_int(const json& attrs, const char* key, int def) {
  try {
    return attrs.contains(key) ? std::stoi(attrs[key].get<std::string>()) : def;
  } catch (...) {
    return def;
  }
}

}  // namespace

struct DataPlane::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, store::Store& st, Options o) : io(io), store(st), opt(std::move(o)), timer(io) {}

  struct Listener {
    std::shared_ptr<tcp::acceptor> acceptor;
    int port = 0;
    domain::elb::ListenerView view;
  };

  asio::io_context& io;
  store::Store& store;
  Options opt;
  asio::steady_timer timer;
  mutable std::mutex mu;
  std::map<std::string, Listener> listeners;                       // by listener ARN
  std::map<std::string, domain::elb::TargetGroupView> groups;      // by target group ARN
  std::map<std::string, std::size_t> round_robin;                  // by target group ARN
  std::map<TargetKey, Checks> checks;
  std::atomic<bool> stopping{false};
  std::uint64_t health_generation = 0;  // bumped (under mu) whenever a check changes a target's state

  // --- sync: listeners and target groups from the store ---
  void sync() {
    std::vector<domain::elb::ListenerView> views;
    std::vector<domain::elb::TargetGroupView> in_use;
    std::uint64_t generation;
    {
      std::lock_guard lock(mu);
      generation = health_generation;
    }
    try {
      store.write([&](store::Db& db) { domain::elb::purge_drained(db, clock().now()); });
      store.read([&](store::Db& db) {
        views = domain::elb::listeners(db);
        in_use = domain::elb::target_groups_in_use(db);
      });
    } catch (const std::exception& e) {
      spdlog::warn("alb sync failed: {}", e.what());
      return;
    }
    std::lock_guard lock(mu);
    std::set<std::string> seen;
    for (auto& v : views) {
      if (v.listener.protocol != "HTTP") continue;  // HTTPS/TCP listeners are not served yet
      seen.insert(v.listener.arn);
      auto it = listeners.find(v.listener.arn);
      if (it == listeners.end()) {
        Listener l;
        l.port = bind(l.acceptor, v.listener.port);
        if (!l.acceptor) continue;
        spdlog::info("alb listener {} serving on {}:{}", v.listener.arn, opt.host, l.port);
        l.view = v;
        auto acc = l.acceptor;
        std::string arn = v.listener.arn;
        listeners.emplace(arn, std::move(l));
        asio::co_spawn(acc->get_executor(), accept_loop(acc, arn), asio::detached);
      } else {
        it->second.view = v;
      }
    }
    for (auto it = listeners.begin(); it != listeners.end();) {
      if (seen.count(it->first)) {
        ++it;
        continue;
      }
      beast::error_code ec;
      it->second.acceptor->close(ec);
      it = listeners.erase(it);
    }
    // A health change that landed after our read is newer than it: keep it, pick the rest up next tick.
    if (generation != health_generation) return;
    groups.clear();
    for (auto& g : in_use) groups.emplace(g.group.arn, std::move(g));
  }

  int bind(std::shared_ptr<tcp::acceptor>& out, int port) {
    std::vector<int> candidates = {port};
    for (int p = port + opt.fallback_offset; p < port + opt.fallback_offset + 50 && p < 65536; ++p) candidates.push_back(p);
    for (int p : candidates) {
      auto acc = std::make_shared<tcp::acceptor>(asio::make_strand(io));
      beast::error_code ec;
      tcp::endpoint ep(asio::ip::make_address(opt.host), static_cast<unsigned short>(p));
      acc->open(ep.protocol(), ec);
      if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acc->bind(ep, ec);
      if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
      if (!ec) {
        out = acc;
        return p;
      }
    }
    spdlog::warn("alb: no port available for listener port {}", port);
    return 0;
  }

  asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acc, std::string listener_arn) {
    auto self = shared_from_this();
    while (!stopping && acc->is_open()) {
      beast::error_code ec;
      tcp::socket s = co_await acc->async_accept(asio::make_strand(io), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      auto ex = s.get_executor();
      asio::co_spawn(ex, session(beast::tcp_stream(std::move(s)), listener_arn), asio::detached);
    }
  }

  // Picks a target: routable ones round robin; with none routable, ELB fails open to the
  // registered targets that are not draining or unused.
  std::optional<store::TargetRow> pick(const std::string& group_arn, std::string& target_type) {
    std::lock_guard lock(mu);
    auto it = groups.find(group_arn);
    if (it == groups.end()) return std::nullopt;
    target_type = it->second.group.target_type;
    std::vector<const store::TargetRow*> routable, fallback;
    for (const auto& t : it->second.targets) {
      if (domain::elb::routable(t.state)) routable.push_back(&t);
      else if (t.state == domain::elb::kInitial || t.state == domain::elb::kUnhealthy) fallback.push_back(&t);
    }
    auto& pool = routable.empty() ? fallback : routable;
    if (pool.empty()) return std::nullopt;
    return *pool[round_robin[group_arn]++ % pool.size()];
  }

  static std::string choose_group(const json& action) {
    const json groups = action.value("ForwardConfig", json::object()).value("TargetGroups", json::array());
    if (groups.empty()) return action.value("TargetGroupArn", "");
    int total = 0;
    for (const auto& g : groups) total += g.value("Weight", 1);
    if (total <= 0) return groups[0].value("TargetGroupArn", "");
    // 64-bit first: microseconds of uptime overflow an int (and a negative r always picked the first group).
    int r = static_cast<int>(static_cast<long long>(clock().monotonic() * 1e6) % total);
    for (const auto& g : groups) {
      r -= g.value("Weight", 1);
      if (r < 0) return g.value("TargetGroupArn", "");
    }
    return groups[0].value("TargetGroupArn", "");
  }

  static bhttp::response<bhttp::string_body> simple(int status, unsigned version, const std::string& type,
                                                    const std::string& body) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
    res.set(bhttp::field::server, "awselb/2.0");
    res.set(bhttp::field::content_type, type);
    res.body() = body;
    res.prepare_payload();
    return res;
  }

  static std::string error_page(int status, const std::string& reason) {
    return "<html>\r\n<head><title>" + std::to_string(status) + " " + reason + "</title></head>\r\n<body>\r\n<center><h1>" +
           std::to_string(status) + " " + reason + "</h1></center>\r\n</body>\r\n</html>\r\n";
  }

  asio::awaitable<bhttp::response<bhttp::string_body>> forward(bhttp::request<bhttp::string_body> req,
                                                                const std::string& host, int port, int timeout_s) {
    beast::tcp_stream up(co_await asio::this_coro::executor);
    beast::error_code ec;
    up.expires_after(std::chrono::seconds(5));
    co_await up.async_connect(tcp::endpoint(asio::ip::make_address(host, ec), static_cast<unsigned short>(port)),
                              asio::redirect_error(use_awaitable, ec));
    if (ec) co_return simple(502, req.version(), "text/html", error_page(502, "Bad Gateway"));
    req.keep_alive(false);
    req.prepare_payload();
    up.expires_after(std::chrono::seconds(timeout_s));
    co_await bhttp::async_write(up, req, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return simple(502, req.version(), "text/html", error_page(502, "Bad Gateway"));
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(512u * 1024 * 1024);
    co_await bhttp::async_read(up, buf, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == beast::error::timeout) co_return simple(504, req.version(), "text/html", error_page(504, "Gateway Time-out"));
    if (ec) co_return simple(502, req.version(), "text/html", error_page(502, "Bad Gateway"));
    auto res = parser.release();
    beast::error_code ignored;
    up.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return res;
  }

  asio::awaitable<void> session(beast::tcp_stream stream, std::string listener_arn) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    std::string client_ip;
    {
      beast::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) client_ip = ep.address().to_string();
    }
    while (!stopping) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(512u * 1024 * 1024);
      stream.expires_after(std::chrono::seconds(60));
      beast::error_code ec;
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      auto req = parser.release();
      bool keep_alive = req.keep_alive();
      domain::elb::ListenerView view;
      int listen_port = 0;
      {
        std::lock_guard lock(mu);
        auto it = listeners.find(listener_arn);
        if (it == listeners.end()) break;
        view = it->second.view;
        listen_port = it->second.port;
      }
      RequestFacts facts;
      facts.method = std::string(req.method_string());
      std::string target(req.target());
      auto q = target.find('?');
      facts.path = target.substr(0, q);
      facts.query = q == std::string::npos ? "" : target.substr(q + 1);
      facts.host = std::string(req[bhttp::field::host]);
      facts.source_ip = client_ip;
      for (const auto& f : req) {
        std::string n(f.name_string());
        std::transform(n.begin(), n.end(), n.begin(), ::tolower);
        facts.headers[n] = std::string(f.value());
      }
      const domain::elb::RuleView* rule = nullptr;
      for (const auto& r : view.rules)
        if (!r.priority || matches(r.conditions, facts)) {
          rule = &r;
          break;
        }
      bhttp::response<bhttp::string_body> res;
      json action = rule && !rule->actions.empty() ? rule->actions[0] : json::object();
      std::string type = action.value("Type", "");
      if (type == "fixed-response") {
        const json& fr = action.value("FixedResponseConfig", json::object());
        res = simple(std::stoi(fr.value("StatusCode", "200")), req.version(), fr.value("ContentType", "text/plain"),
                     fr.value("MessageBody", ""));
      } else if (type == "redirect") {
        const json& rc = action.value("RedirectConfig", json::object());
        res = simple(rc.value("StatusCode", "HTTP_301") == "HTTP_302" ? 302 : 301, req.version(), "text/html",
                     error_page(rc.value("StatusCode", "HTTP_301") == "HTTP_302" ? 302 : 301, "Moved"));
        res.set(bhttp::field::location, redirect_location(rc, facts, view.listener.protocol, view.listener.port));
      } else if (type == "forward") {
        std::string group = choose_group(action), target_type;
        auto t = pick(group, target_type);
        if (!t) {
          res = simple(503, req.version(), "text/html", error_page(503, "Service Temporarily Unavailable"));
        } else {
          std::string xff = facts.headers.count("x-forwarded-for") ? facts.headers["x-forwarded-for"] + ", " + client_ip
                                                                     : client_ip;
          req.set("X-Forwarded-For", xff);
          req.set("X-Forwarded-Proto", "http");
          req.set("X-Forwarded-Port", std::to_string(view.listener.port));
          std::string host = target_type == "ip" ? t->target_id : opt.host;
          int idle = attr_int(view.load_balancer.attributes, "idle_timeout.timeout_seconds", 60);
          res = co_await forward(std::move(req), host, t->port, idle);
          res.version(11);
        }
      } else {
        res = simple(503, 11, "text/html", error_page(503, "Service Temporarily Unavailable"));
      }
      (void)listen_port;
      res.keep_alive(keep_alive && !stopping);
      res.prepare_payload();
      stream.expires_after(std::chrono::seconds(60));
      co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // --- health checks ---
  asio::awaitable<void> check(TargetKey key, std::string host, int port, std::string path, std::string matcher,
                              int timeout_s, int healthy_threshold, int unhealthy_threshold) {
    auto self = shared_from_this();
    int status = 0;
    std::string failure = "Target.Timeout";
    {
      beast::tcp_stream s(co_await asio::this_coro::executor);
      beast::error_code ec;
      s.expires_after(std::chrono::seconds(timeout_s));
      co_await s.async_connect(tcp::endpoint(asio::ip::make_address(host, ec), static_cast<unsigned short>(port)),
                               asio::redirect_error(use_awaitable, ec));
      if (!ec) {
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, path, 11};
        req.set(bhttp::field::host, host + ":" + std::to_string(port));
        req.set(bhttp::field::user_agent, "ELB-HealthChecker/2.0");
        req.keep_alive(false);
        co_await bhttp::async_write(s, req, asio::redirect_error(use_awaitable, ec));
        if (!ec) {
          beast::flat_buffer buf;
          bhttp::response_parser<bhttp::string_body> p;
          p.body_limit(1024 * 1024);
          co_await bhttp::async_read(s, buf, p, asio::redirect_error(use_awaitable, ec));
          if (!ec) status = static_cast<int>(p.get().result_int());
        }
      } else if (ec != beast::error::timeout) {
        failure = "Target.FailedHealthChecks";
      }
      beast::error_code ignored;
      s.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    bool ok = status != 0 && status_matches(matcher, status);
    if (status != 0 && !ok) failure = "Target.ResponseCodeMismatch";
    std::optional<domain::elb::Health> next;
    {
      std::lock_guard lock(mu);
      Checks& c = checks[key];
      c.running = false;
      if (ok) {
        c.failures = 0;
        if (++c.successes >= healthy_threshold) next = domain::elb::healthy_health();
      } else {
        c.successes = 0;
        if (++c.failures >= unhealthy_threshold)
          next = domain::elb::unhealthy_health(failure, status ? "[" + std::to_string(status) + "]" : "");
      }
    }
    if (next) {
      bool changed = false;
      try {
        store.write([&](store::Db& db) {
          changed = domain::elb::set_target_health(db, key.group, key.id, key.port, *next, clock().now());
        });
      } catch (const std::exception& e) {
        spdlog::warn("alb: recording health of {}:{} failed: {}", key.id, key.port, e.what());
      }
      // Route on what DescribeTargetHealth now reports, without waiting for the next sync.
      if (changed) {
        std::lock_guard lock(mu);
        ++health_generation;
        if (auto g = groups.find(key.group); g != groups.end())
          for (auto& t : g->second.targets)
            if (t.target_id == key.id && t.port == key.port) t.state = next->state;
      }
    }
  }

  void schedule_checks() {
    double now = clock().monotonic();
    std::lock_guard lock(mu);
    for (const auto& [arn, g] : groups) {
      if (!domain::elb::health_check_enabled(g.group)) continue;
      const json& d = g.group.doc;
      int interval = d.value("HealthCheckIntervalSeconds", 30), timeout = d.value("HealthCheckTimeoutSeconds", 5);
      std::string path = d.value("HealthCheckPath", "/");
      std::string matcher = d.value("Matcher", json::object()).value("HttpCode", "200");
      for (const auto& t : g.targets) {
        if (t.state == domain::elb::kDraining || t.state == domain::elb::kUnused) continue;
        TargetKey key{arn, t.target_id, t.port};
        Checks& c = checks[key];
        if (c.running || now < c.next_at) continue;
        c.running = true;
        c.next_at = now + scaled(interval);  // CI time scale (clock.hpp)
        std::string host = g.group.target_type == "ip" ? t.target_id : opt.host;
        int port = domain::elb::health_check_port(g.group, t);
        asio::co_spawn(asio::make_strand(io),
                       check(key, host, port, path, matcher, timeout, d.value("HealthyThresholdCount", 5),
                             d.value("UnhealthyThresholdCount", 2)),
                       asio::detached);
      }
    }
  }

  void tick() {
    if (stopping) return;
    sync();
    schedule_checks();
    timer.expires_after(std::chrono::milliseconds(static_cast<int>(opt.sync_seconds * 1000)));
    auto self = shared_from_this();
    timer.async_wait([self](const beast::error_code& ec) {
      if (!ec) self->tick();
    });
  }
};

DataPlane::DataPlane(asio::io_context& io, store::Store& store, Options options)
    : impl_(std::make_shared<Impl>(io, store, std::move(options))) {}

DataPlane::~DataPlane() = default;

void DataPlane::start() {
  auto impl = impl_;
  asio::post(impl->timer.get_executor(), [impl] { impl->tick(); });
}

void DataPlane::stop() {
  impl_->stopping = true;
  auto impl = impl_;
  asio::post(impl->timer.get_executor(), [impl] {
    beast::error_code ec;
    impl->timer.cancel();
    std::lock_guard lock(impl->mu);
    for (auto& [arn, l] : impl->listeners) l.acceptor->close(ec);
  });
}

std::map<std::string, int> DataPlane::ports() const {
  std::lock_guard lock(impl_->mu);
  std::map<std::string, int> out;
  for (const auto& [arn, l] : impl_->listeners) out[arn] = l.port;
  return out;
}

}  // namespace ecsd::alb

// ALB data plane on Beast coroutines: HTTP and HTTPS listeners proxying to targets (streamed
// bodies, keep-alive on both sides with a per-target pool of idle upstream connections, websocket
// upgrades), TCP and TLS listeners of network load balancers splicing bytes, and HTTP/TCP health
// checks. This is the one translation unit that instantiates the ALB's Beast/Asio templates.
#include "ecsd/alb/data_plane.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <random>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "ecsd/common/asio.hpp"
#include "ecsd/common/loop_thread.hpp"
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "ecsd/alb/rules.hpp"
#include "ecsd/alb/tls_cert.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/domain/elb.hpp"

namespace ecsd::alb {

using asio::ip::tcp;
using asio::use_awaitable;  // health checks, on the daemon's loop
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using nlohmann::json;
using std::chrono::seconds;

namespace {

constexpr std::size_t kChunk = 16 * 1024;        // body relay buffer: one per client connection, on first use
constexpr std::size_t kSpliceChunk = 16 * 1024;  // per direction of a spliced (websocket/TCP) connection
constexpr std::size_t kIdlePerTarget = 64;       // idle upstream connections kept per target
constexpr double kIdleKeepSeconds = 30;          // ... for at most this long
constexpr int kConnectTimeout = 10;              // ALB's connection timeout to targets
constexpr int kClientIdle = 60;
constexpr int kPeerCloseWait = 2;                // s to wait for a target's FIN after its "Connection: close"

struct TargetKey {
  std::string group, id;
  int port;
  bool operator<(const TargetKey& o) const { return std::tie(group, id, port) < std::tie(o.group, o.id, o.port); }
  bool operator==(const TargetKey& o) const { return port == o.port && id == o.id && group == o.group; }
};

struct Checks {
  int successes = 0, failures = 0;
  double next_at = 0;
  bool running = false;
};

std::string attr(const json& attrs, const char* key, const char* def) {
  return attrs.is_object() && attrs.contains(key) && attrs[key].is_string() ? attrs[key].get<std::string>() : def;
}

int attr_int(const json& attrs, const char* key, int def) {
  try {
    return std::stoi(attr(attrs, key, std::to_string(def).c_str()));
  } catch (...) {
    return def;
  }
}

// The value of cookie `name` in a Cookie header, or "".
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=')
      return part.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

// X-Amzn-Trace-Id as ALB adds it: Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>.
std::string trace_id() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char hexd[] = "0123456789abcdef";
  auto hex = [](char* out, std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = hexd[v & 15];
  };
  std::string id = "Root=1-00000000-000000000000000000000000";
  hex(id.data() + 7, static_cast<std::uint32_t>(std::time(nullptr)), 8);
  hex(id.data() + 16, rng() >> 32, 8);
  hex(id.data() + 24, rng(), 16);
  return id;
}

std::string http_date(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

bool is_upgrade(const bhttp::request<bhttp::buffer_body>& req) {
  return req.find(bhttp::field::upgrade) != req.end() &&
         bhttp::token_list(req[bhttp::field::connection]).exists("upgrade");
}

bhttp::response<bhttp::string_body> simple(int status, unsigned version, const std::string& type,
                                           const std::string& body) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::server, "awselb/2.0");
  res.set(bhttp::field::content_type, type);
  res.body() = body;
  res.prepare_payload();
  return res;
}

std::string error_page(int status, const std::string& reason) {
  return "<html>\r\n<head><title>" + std::to_string(status) + " " + reason + "</title></head>\r\n<body>\r\n<center><h1>" +
         std::to_string(status) + " " + reason + "</h1></center>\r\n</body>\r\n</html>\r\n";
}

bhttp::response<bhttp::string_body> error_response(int status, unsigned version) {
  const char* reason = status == 400   ? "Bad Request"
                       : status == 502 ? "Bad Gateway"
                       : status == 503 ? "Service Temporarily Unavailable"
                       : status == 504 ? "Gateway Time-out"
                                       : "Error";
  return simple(status, version, "text/html", error_page(status, reason));
}

// What runs on the data plane's own loop (listeners, proxied connections) is bound to that loop's
// concrete executor type rather than the type-erased any_io_executor: every coroutine step and
// every socket operation would otherwise copy, query and destroy a type-erased executor.
using Exec = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Exec>;
template <class T>
using Task = asio::awaitable<T, Exec>;
constexpr asio::use_awaitable_t<Exec> use_loop;  // completion token of Task coroutines

// Monotonic seconds, as coarse as the deadlines below need (a few ms of resolution, no syscall).
double coarse_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

class TimedSocket;

// Every TimedSocket of one loop, for that loop's 1 s housekeeping tick (used on that loop only).
struct Deadlines {
  TimedSocket* head = nullptr;
  void sweep(double now);
};

// A socket with a coarse timeout instead of beast::tcp_stream's timer per operation (which arms and
// cancels a steady_timer for every read and write). expires_after() records a deadline; the loop's
// housekeeping tick (once a second) closes a socket whose deadline has passed while an operation
// is pending on it, so that operation fails (operation_aborted) and timed_out() says why. A timeout
// therefore fires up to a second late; a socket without a pending operation never times out (as
// with tcp_stream, whose timer only runs while an operation does).
class TimedSocket {
 public:
  using executor_type = Exec;
  using lowest_layer_type = Socket;  // for asio::ssl::stream

  TimedSocket(Deadlines& d, Socket s) : list_(&d), s_(std::move(s)) { link(); }
  TimedSocket(Deadlines& d, const Exec& ex) : list_(&d), s_(ex) { link(); }
  TimedSocket(TimedSocket&& o) noexcept : list_(o.list_), s_(std::move(o.s_)), deadline_(o.deadline_) { link(); }
  TimedSocket(const TimedSocket&) = delete;
  TimedSocket& operator=(const TimedSocket&) = delete;
  ~TimedSocket() { unlink(); }

  executor_type get_executor() noexcept { return s_.get_executor(); }
  Socket& socket() noexcept { return s_; }
  Socket& lowest_layer() noexcept { return s_; }
  const Socket& lowest_layer() const noexcept { return s_; }
  Socket release_socket() {
    expires_never();
    return std::move(s_);
  }

  void expires_after(seconds s) {
    deadline_ = coarse_now() + static_cast<double>(s.count());
    timed_out_ = false;
  }
  void expires_never() {
    deadline_ = kNever;
    timed_out_ = false;
  }
  /// @return whether the last deadline passed with an operation pending (the socket was closed).
  bool timed_out() const noexcept { return timed_out_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& b, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          ++pending_;
          s_.async_read_some(b, Done<decltype(handler)>{this, std::move(handler)});
        },
        token, b);
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& b, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          ++pending_;
          s_.async_write_some(b, Done<decltype(handler)>{this, std::move(handler)});
        },
        token, b);
  }
  template <class Token>
  auto async_connect(const tcp::endpoint& ep, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code)>(
        [this](auto handler, const tcp::endpoint& ep) {
          ++pending_;
          s_.async_connect(ep, Done<decltype(handler)>{this, std::move(handler)});
        },
        token, ep);
  }

 private:
  friend struct Deadlines;
  static constexpr double kNever = 1e300;

  // Completion of one operation: no longer pending, then the caller's handler (inline: the socket
  // and the caller's coroutine run on the same single-threaded loop).
  template <class Handler>
  struct Done {
    TimedSocket* self;
    Handler h;
    void operator()(beast::error_code ec, std::size_t n) {
      --self->pending_;
      std::move(h)(ec, n);
    }
    void operator()(beast::error_code ec) {
      --self->pending_;
      std::move(h)(ec);
    }
  };

  void link() {
    prev_ = nullptr;
    next_ = list_->head;
    if (next_) next_->prev_ = this;
    list_->head = this;
  }
  void unlink() {
    if (prev_) prev_->next_ = next_;
    else list_->head = next_;
    if (next_) next_->prev_ = prev_;
  }

  Deadlines* list_;
  TimedSocket *prev_ = nullptr, *next_ = nullptr;
  Socket s_;
  double deadline_ = kNever;
  int pending_ = 0;
  bool timed_out_ = false;
};

void Deadlines::sweep(double now) {
  for (TimedSocket* t = head; t; t = t->next_)
    if (t->pending_ > 0 && t->deadline_ <= now && t->s_.is_open()) {
      t->timed_out_ = true;
      beast::error_code ignored;
      t->s_.close(ignored);
    }
}

template <class S>
void set_timeout(S& s, int secs) {
  beast::get_lowest_layer(s).expires_after(seconds(secs));
}

// Copies one HTTP message from `in` (header already parsed into p) to `out` through sr, re-framed
// as sr's message says (chunked stays chunked), forwarding whatever has arrived, never more than
// one chunk at a time. The header goes out with the first piece of body when that is already
// buffered (one write for a small message), else on its own at once (a target that sends its
// header and then waits, like server-sent events, is seen by the client right away).
// @return 0 done, 1 reading `in` failed, 2 writing `out` failed.
template <bool isRequest, class In, class Out>
Task<int> relay(In& in, beast::flat_buffer& inbuf, bhttp::parser<isRequest, bhttp::buffer_body>& p, Out& out,
                           bhttp::serializer<isRequest, bhttp::buffer_body>& sr, char* chunk, int timeout_s) {
  beast::error_code ec;
  if (!p.is_done() && inbuf.size() == 0) {
    set_timeout(out, timeout_s);
    co_await bhttp::async_write_header(out, sr, asio::redirect_error(use_loop, ec));
    if (ec) co_return 2;
  }
  for (;;) {
    auto& body = p.get().body();
    bool last = p.is_done();
    if (!last) {
      body.data = chunk;
      body.size = kChunk;
      set_timeout(in, timeout_s);
      co_await bhttp::async_read_some(in, inbuf, p, asio::redirect_error(use_loop, ec));
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return 1;
      body.size = kChunk - body.size;
      body.data = chunk;
      body.more = !p.is_done();
      if (body.size == 0 && body.more) continue;  // only framing (a chunk header) this time
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    set_timeout(out, timeout_s);
    co_await bhttp::async_write(out, sr, asio::redirect_error(use_loop, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return 2;
    if (sr.is_done() || last) co_return 0;
  }
}

// One direction of a spliced connection; half-closes `to` at the end of `from`.
template <class A, class B>
Task<void> pump(A& from, B& to, int idle_s) {
  std::unique_ptr<char[]> buf(new char[kSpliceChunk]);
  beast::error_code ec;
  for (;;) {
    set_timeout(from, idle_s);
    std::size_t n = co_await from.async_read_some(asio::buffer(buf.get(), kSpliceChunk),
                                                  asio::redirect_error(use_loop, ec));
    if (n > 0) {
      beast::error_code wec;
      set_timeout(to, idle_s);
      co_await asio::async_write(to, asio::buffer(buf.get(), n), asio::redirect_error(use_loop, wec));
      if (wec) break;
    }
    if (ec) break;
  }
  beast::error_code ignored;
  beast::get_lowest_layer(to).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// Both directions at once (on the caller's strand), after the bytes already buffered on each side.
template <class C>
Task<void> splice(C& client, beast::flat_buffer& cbuf, TimedSocket& up, beast::flat_buffer& ubuf,
                             int idle_s) {
  beast::error_code ec;
  if (cbuf.size()) co_await asio::async_write(up, cbuf.data(), asio::redirect_error(use_loop, ec));
  cbuf.consume(cbuf.size());
  if (!ec && ubuf.size()) co_await asio::async_write(client, ubuf.data(), asio::redirect_error(use_loop, ec));
  ubuf.consume(ubuf.size());
  if (ec) co_return;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer latch(ex, asio::steady_timer::time_point::max());
  bool back_done = false;
  asio::co_spawn(
      ex,
      [&]() -> Task<void> {
        co_await pump(up, client, idle_s);
        back_done = true;
        latch.cancel();
      },
      asio::detached);
  co_await pump(client, up, idle_s);
  if (!back_done) {
    beast::error_code ignored;
    co_await latch.async_wait(asio::redirect_error(use_loop, ignored));
  }
}

}  // namespace

struct DataPlane::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, asio::io_context& wio, store::Store& st, Options o)
      : io(io), wio(wio), store(st), opt(std::move(o)), timer(io), housekeeping(std::in_place, wio) {}

  // What a request needs from its listener, swapped whole on sync (requests hold a reference).
  struct ListenerSnapshot {
    domain::elb::ListenerView view;
    bool needs_headers = false;  // some rule has an http-header condition
    int idle_timeout = 60;       // the load balancer's idle_timeout.timeout_seconds
  };
  struct Listener {
    std::shared_ptr<tcp::acceptor> acceptor;
    int port = 0;
    std::string protocol;
    std::shared_ptr<const ListenerSnapshot> snap;
  };
  struct Group {
    domain::elb::TargetGroupView view;
    bool least_outstanding = false;
    bool random = false;  // weighted_random (no anomaly mitigation: every target weighs the same)
    bool sticky = false;  // lb_cookie stickiness
    int sticky_seconds = 86400;
    std::string app_cookie;  // app_cookie stickiness: the application's cookie name
    int app_seconds = 86400;
  };
  struct Picked {
    TargetKey key;
    tcp::endpoint endpoint;
    std::string cookie;  // AWSALB value when the group is sticky
    int sticky_seconds = 0;
    std::string app_cookie_name, app_cookie;  // AWSALBAPP-0 value when the group is app_cookie sticky
    int app_seconds = 0;
    bool counted = false;  // outstanding on its target until done() (least outstanding requests groups only)
  };
  struct IdleConn {
    int fd;
    double since;
  };

  asio::io_context& io;   // the daemon's loop: sync, health checks
  asio::io_context& wio;  // the data plane's own single-threaded loop: listeners and their connections
  store::Store& store;
  Options opt;
  asio::steady_timer timer;
  // A 1 s tick on the data plane's loop. Besides expiring idle upstream connections, it keeps the
  // loop's earliest timer at most a second away, so the per-operation timeouts a request re-arms
  // (60 s and more) are never the earliest one and Asio does not reprogram its timerfd for each of
  // them (four timerfd_settime calls per request at one connection without it).
  // (Reset before the data plane's loop is destroyed: the timer belongs to it.)
  std::optional<asio::steady_timer> housekeeping;
  mutable std::mutex mu;
  std::map<std::string, Listener> listeners;  // by listener ARN
  std::map<std::string, Group> groups;        // by target group ARN
  std::map<std::string, std::size_t> round_robin;  // by target group ARN
  std::map<TargetKey, int> outstanding;            // requests in flight per target
  std::map<TargetKey, Checks> checks;
  std::shared_ptr<ssl::context> tls;
  std::atomic<bool> stopping{false};
  std::uint64_t health_generation = 0;  // bumped (under mu) whenever a check changes a target's state
  std::uint64_t synced_generation = ~0ull;  // domain::elb::generation() at the last sync (timer strand only)
  double next_full_sync = 0;
  std::mutex pool_mu;
  std::map<tcp::endpoint, std::vector<IdleConn>> idle;
  Deadlines deadlines;  // the data plane loop's sockets (used on that loop only)

  // --- sync: listeners and target groups from the store ---
  // @return false when part of it has to be done again (store error, a health change raced it).
  bool sync() {
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
      return false;
    }
    std::lock_guard lock(mu);
    std::set<std::string> seen;
    for (auto& v : views) {
      const std::string& proto = v.listener.protocol;
      if (proto != "HTTP" && proto != "HTTPS" && proto != "TCP" && proto != "TLS") continue;
      auto snap = std::make_shared<ListenerSnapshot>();
      snap->idle_timeout = attr_int(v.load_balancer.attributes, "idle_timeout.timeout_seconds", 60);
      for (const auto& r : v.rules)
        for (const auto& c : r.conditions.is_array() ? r.conditions : json::array())
          if (c.value("Field", "") == "http-header") snap->needs_headers = true;
      snap->view = v;
      auto it = listeners.find(v.listener.arn);
      if (it != listeners.end() && it->second.protocol != proto) {  // ModifyListener changed the protocol
        beast::error_code ec;
        close_acceptor(it->second.acceptor);
        listeners.erase(it);
        it = listeners.end();
      }
      seen.insert(v.listener.arn);
      if (it == listeners.end()) {
        if ((proto == "HTTPS" || proto == "TLS") && !tls_context()) continue;
        Listener l;
        l.port = bind(l.acceptor, v.listener.port);
        if (!l.acceptor) continue;
        spdlog::info("alb {} listener {} serving on {}:{}", proto, v.listener.arn, opt.host, l.port);
        l.protocol = proto;
        l.snap = std::move(snap);
        auto acc = l.acceptor;
        std::string arn = v.listener.arn;
        listeners.emplace(arn, std::move(l));
        asio::co_spawn(wio.get_executor(), accept_loop(acc, arn, proto), asio::detached);
      } else {
        it->second.snap = std::move(snap);
      }
    }
    for (auto it = listeners.begin(); it != listeners.end();) {
      if (seen.count(it->first)) {
        ++it;
        continue;
      }
      close_acceptor(it->second.acceptor);
      it = listeners.erase(it);
    }
    // A health change that landed after our read is newer than it: keep it, pick the rest up next tick.
    if (generation != health_generation) return false;
    groups.clear();
    std::set<TargetKey> present;
    for (auto& g : in_use) {
      Group grp;
      const json& a = g.group.attributes;
      std::string algorithm = attr(a, "load_balancing.algorithm.type", "round_robin");
      grp.least_outstanding = algorithm == "least_outstanding_requests";
      grp.random = algorithm == "weighted_random";
      grp.sticky = attr(a, "stickiness.enabled", "false") == "true" && attr(a, "stickiness.type", "lb_cookie") == "lb_cookie" &&
                   g.group.protocol != "TCP" && g.group.protocol != "TLS";
      grp.sticky_seconds = attr_int(a, "stickiness.lb_cookie.duration_seconds", 86400);
      if (attr(a, "stickiness.enabled", "false") == "true" && attr(a, "stickiness.type", "") == "app_cookie") {
        grp.app_cookie = attr(a, "stickiness.app_cookie.cookie_name", "");
        grp.app_seconds = attr_int(a, "stickiness.app_cookie.duration_seconds", 86400);
      }
      for (const auto& t : g.targets) present.insert({g.group.arn, t.target_id, t.port});
      grp.view = std::move(g);
      std::string arn = grp.view.group.arn;
      groups.emplace(std::move(arn), std::move(grp));
    }
    for (auto it = checks.begin(); it != checks.end();)
      it = present.count(it->first) || it->second.running ? std::next(it) : checks.erase(it);
    return true;
  }

  std::shared_ptr<ssl::context> tls_context() {
    if (tls) return tls;
    try {
      auto m = self_signed_certificate(opt.data_dir.empty() ? "" : opt.data_dir + "/alb-tls");
      auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ctx->use_certificate_chain(asio::buffer(m.certificate_pem));
      ctx->use_private_key(asio::buffer(m.private_key_pem), ssl::context::pem);
      tls = ctx;
    } catch (const std::exception& e) {
      spdlog::warn("alb: no TLS certificate, HTTPS/TLS listeners not served: {}", e.what());
    }
    return tls;
  }

  // Acceptors live on the data plane's loop: closed there.
  void close_acceptor(std::shared_ptr<tcp::acceptor> acc) {
    asio::post(wio, [acc] {
      beast::error_code ec;
      acc->close(ec);
    });
  }

  int bind(std::shared_ptr<tcp::acceptor>& out, int port) {
    std::vector<int> candidates = {port};
    for (int p = port + opt.fallback_offset; p < port + opt.fallback_offset + 50 && p < 65536; ++p) candidates.push_back(p);
    for (int p : candidates) {
      auto acc = std::make_shared<tcp::acceptor>(wio);
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

  std::shared_ptr<const ListenerSnapshot> snapshot(const std::string& arn, int* port = nullptr) {
    std::lock_guard lock(mu);
    auto it = listeners.find(arn);
    if (it == listeners.end()) return nullptr;
    if (port) *port = it->second.port;
    return it->second.snap;
  }

  Task<void> accept_loop(std::shared_ptr<tcp::acceptor> acc, std::string listener_arn, std::string proto) {
    auto self = shared_from_this();
    while (!stopping && acc->is_open()) {
      beast::error_code ec;
      Socket s = co_await acc->async_accept(wio, asio::redirect_error(use_loop, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acc->is_open()) break;
        continue;  // EMFILE and friends: keep listening
      }
      s.set_option(tcp::no_delay(true), ec);
      auto ex = s.get_executor();
      if (proto == "HTTP")
        asio::co_spawn(ex, session(TimedSocket(deadlines, std::move(s)), listener_arn, false), asio::detached);
      else if (proto == "HTTPS")
        asio::co_spawn(ex, tls_session(TimedSocket(deadlines, std::move(s)), listener_arn, true), asio::detached);
      else if (proto == "TLS")
        asio::co_spawn(ex, tls_session(TimedSocket(deadlines, std::move(s)), listener_arn, false), asio::detached);
      else
        asio::co_spawn(ex, tcp_session(TimedSocket(deadlines, std::move(s)), listener_arn), asio::detached);
    }
  }

  // Picks a target of a group: routable ones (by the group's algorithm, or the one its AWSALB
  // cookie names); with none routable, ELB fails open to the registered targets that are not
  // draining or unused. In a least outstanding requests group, counts the request as outstanding
  // on it (done() undoes that).
  std::optional<Picked> pick(const std::string& group_arn, std::string_view cookie, std::string_view app_cookie,
                             const TargetKey* exclude) {
    std::lock_guard lock(mu);
    auto it = groups.find(group_arn);
    if (it == groups.end()) return std::nullopt;
    const Group& g = it->second;
    thread_local std::vector<const store::TargetRow*> routable, fallback;
    routable.clear();
    fallback.clear();
    for (const auto& t : g.view.targets) {
      if (exclude && exclude->port == t.port && exclude->id == t.target_id) continue;
      if (domain::elb::routable(t.state)) routable.push_back(&t);
      else if (t.state == domain::elb::kInitial || t.state == domain::elb::kUnhealthy) fallback.push_back(&t);
    }
    auto& pool = routable.empty() ? fallback : routable;
    if (pool.empty()) return std::nullopt;
    const store::TargetRow* chosen = nullptr;
    std::string_view wanted = g.sticky ? cookie : !g.app_cookie.empty() ? app_cookie : std::string_view{};
    if (!wanted.empty())
      for (const auto* t : pool)
        if (wanted == sticky_value(g, *t)) chosen = t;
    if (!chosen) {
      std::size_t start = round_robin[group_arn]++;
      if (g.least_outstanding) {
        int best = INT32_MAX;
        for (std::size_t i = 0; i < pool.size(); ++i) {
          const auto* t = pool[(start + i) % pool.size()];
          auto o = outstanding.find({group_arn, t->target_id, t->port});
          int n = o == outstanding.end() ? 0 : o->second;
          if (n < best) {
            best = n;
            chosen = t;
          }
        }
      } else if (g.random) {
        thread_local std::minstd_rand rng(std::random_device{}());
        chosen = pool[rng() % pool.size()];
      } else {
        chosen = pool[start % pool.size()];
      }
    }
    Picked out;
    out.key = {group_arn, chosen->target_id, chosen->port};
    beast::error_code ec;
    auto addr = asio::ip::make_address(g.view.group.target_type == "ip" ? chosen->target_id : opt.host, ec);
    if (ec) return std::nullopt;
    out.endpoint = tcp::endpoint(addr, static_cast<unsigned short>(chosen->port));
    if (g.sticky) {
      out.cookie = sticky_value(g, *chosen);
      out.sticky_seconds = g.sticky_seconds;
    } else if (!g.app_cookie.empty()) {
      out.app_cookie_name = g.app_cookie;
      out.app_cookie = sticky_value(g, *chosen);
      out.app_seconds = g.app_seconds;
    }
    if (g.least_outstanding) {  // the only reader of the counts
      ++outstanding[out.key];
      out.counted = true;
    }
    return out;
  }

  void done(const TargetKey& key) {
    std::lock_guard lock(mu);
    auto it = outstanding.find(key);
    if (it != outstanding.end() && --it->second <= 0) outstanding.erase(it);
  }

  // Opaque AWSALB value naming a target of a group.
  static std::string sticky_value(const Group& g, const store::TargetRow& t) {
    static const char* hexd = "0123456789ABCDEF";
    std::string raw = std::to_string(g.view.group.id) + "/" + t.target_id + "/" + std::to_string(t.port), out;
    for (unsigned char c : raw) {
      out += hexd[c >> 4];
      out += hexd[c & 15];
    }
    return out;
  }

  // The upstream connection a client connection used last: its next request to the same target
  // goes over it without touching the pool; it goes back to the pool when the client leaves.
  struct UpstreamCache {
    std::optional<TimedSocket> stream;
    tcp::endpoint endpoint;
    beast::flat_buffer buffer;  // what was read from it (empty between requests; kept for its storage)
  };

  // A request outstanding on a target for as long as this lives.
  struct Outstanding {
    Impl* impl = nullptr;
    TargetKey key;
    void set(Impl* i, const TargetKey& k) {
      clear();
      impl = i;
      key = k;
    }
    void clear() {
      if (impl) impl->done(key);
      impl = nullptr;
    }
    ~Outstanding() { clear(); }
  };

  // The group a forward action sends this request to (a reference into the action's JSON).
  static const std::string& choose_group(const json& action) {
    static const std::string kNone;
    auto arn = [](const json& o) -> const std::string& {
      auto it = o.find("TargetGroupArn");
      return it != o.end() && it->is_string() ? it->get_ref<const std::string&>() : kNone;
    };
    auto weight = [](const json& o) { return o.value("Weight", 1); };
    auto fc = action.find("ForwardConfig");
    const json* groups = nullptr;
    if (fc != action.end() && fc->is_object())
      if (auto g = fc->find("TargetGroups"); g != fc->end() && g->is_array() && !g->empty()) groups = &*g;
    if (!groups) return arn(action);
    if (groups->size() == 1) return arn((*groups)[0]);
    int total = 0;
    for (const auto& g : *groups) total += weight(g);
    if (total <= 0) return arn((*groups)[0]);
    thread_local std::minstd_rand rng(std::random_device{}());
    int r = static_cast<int>(rng() % static_cast<unsigned>(total));
    for (const auto& g : *groups) {
      r -= weight(g);
      if (r < 0) return arn(g);
    }
    return arn((*groups)[0]);
  }


  // --- upstream connection pool ---
  // An idle connection is usable when the target has neither closed it nor sent anything unasked.
  static bool alive(int fd) {
    char b;
    ssize_t r = ::recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  // Takes an idle connection to `ep` that the target has not closed, rebinding it to `up`'s executor.
  bool take_idle(const tcp::endpoint& ep, TimedSocket& up) {
    double now = clock().monotonic();
    for (;;) {
      IdleConn c;
      {
        std::lock_guard lock(pool_mu);
        auto it = idle.find(ep);
        if (it == idle.end() || it->second.empty()) return false;
        c = it->second.back();
        it->second.pop_back();
      }
      if (now - c.since < kIdleKeepSeconds && alive(c.fd)) {
        beast::error_code ec;
        up.socket().assign(ep.protocol(), c.fd, ec);
        if (!ec) return true;
      }
      ::close(c.fd);  // closed by the target, sent something unasked, or too old
    }
  }

  void give_idle(const tcp::endpoint& ep, TimedSocket& up) {
    up.expires_never();
    beast::error_code ec;
    int fd = up.socket().release(ec);
    if (ec || fd < 0) return;
    std::lock_guard lock(pool_mu);
    auto& v = idle[ep];
    if (v.size() >= kIdlePerTarget || stopping) {
      ::close(fd);
      return;
    }
    v.push_back({fd, clock().monotonic()});
  }

  void sweep_idle(bool all) {
    double now = clock().monotonic();
    std::lock_guard lock(pool_mu);
    for (auto it = idle.begin(); it != idle.end();) {
      auto& v = it->second;
      std::erase_if(v, [&](const IdleConn& c) {
        if (!all && now - c.since < kIdleKeepSeconds) return false;
        ::close(c.fd);
        return true;
      });
      it = v.empty() ? idle.erase(it) : std::next(it);
    }
  }

  // --- HTTP(S) sessions ---
  Task<void> tls_session(TimedSocket s, std::string listener_arn, bool http) {
    auto self = shared_from_this();
    std::shared_ptr<ssl::context> ctx;
    {
      std::lock_guard lock(mu);
      ctx = tls;
    }
    if (!ctx) co_return;
    beast::ssl_stream<TimedSocket> stream(std::move(s), *ctx);
    beast::error_code ec;
    set_timeout(stream, 10);
    co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(use_loop, ec));
    if (ec) co_return;
    if (http) co_await session(std::move(stream), listener_arn, true);
    else co_await splice_to_target(stream, listener_arn);
  }

  template <class Stream>
  Task<void> session(Stream stream, std::string listener_arn, bool https) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    std::unique_ptr<char[]> chunk;
    auto buf = [&chunk] {
      if (!chunk) chunk.reset(new char[kChunk]);
      return chunk.get();
    };
    std::string client_ip;
    {
      beast::error_code ec;
      auto ep = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
      if (!ec) client_ip = ep.address().to_string();
    }
    RequestFacts facts;
    facts.source_ip = client_ip;
    bool upgraded = false;
    UpstreamCache cache;
    while (!stopping) {
      bhttp::request_parser<bhttp::buffer_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      parser.header_limit(64 * 1024);
      set_timeout(stream, kClientIdle);
      beast::error_code ec;
      co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(use_loop, ec));
      if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        // Not HTTP ALB can parse (bad syntax, header over 64 KiB): 400, then close.
        co_await answer(stream, 400, 11, false);
        break;
      }
      if (ec) break;
      auto& req = parser.get();
      bool keep_alive = req.keep_alive();
      auto snap = snapshot(listener_arn);
      if (!snap) break;
      const auto& view = snap->view;
      facts.method = std::string(req.method_string());
      std::string_view target = req.target();
      auto q = target.find('?');
      facts.path.assign(target.substr(0, q));
      facts.query.assign(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1));
      facts.host.assign(req[bhttp::field::host]);
      facts.headers.clear();
      if (snap->needs_headers)
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
      static const json kNone = json::object();
      const json& action = rule && !rule->actions.empty() ? rule->actions[0] : kNone;
      std::string type = action.value("Type", "");
      if (type == "forward") {
        int outcome =
            co_await proxy(stream, buffer, parser, *snap, action, client_ip, https, keep_alive, buf(), cache);
        if (outcome == 2) upgraded = true;
        if (outcome != 1) break;
        continue;
      }
      // Answered by the load balancer: the request body is read and dropped first.
      bool expect = beast::iequals(req[bhttp::field::expect], "100-continue");
      if (!parser.is_done() && expect) keep_alive = false;  // the client waits for us: don't make it send
      else if (!parser.is_done() && !co_await discard(stream, buffer, parser, buf())) break;
      bhttp::response<bhttp::string_body> res;
      if (type == "fixed-response") {
        const json& fr = action.contains("FixedResponseConfig") ? action["FixedResponseConfig"] : kNone;
        int status = 200;
        try {
          status = std::stoi(fr.value("StatusCode", "200"));
        } catch (...) {
        }
        res = simple(status, req.version(), fr.value("ContentType", "text/plain"), fr.value("MessageBody", ""));
      } else if (type == "redirect") {
        const json& rc = action.contains("RedirectConfig") ? action["RedirectConfig"] : kNone;
        int status = rc.value("StatusCode", "HTTP_301") == "HTTP_302" ? 302 : 301;
        res = simple(status, req.version(), "text/html", error_page(status, status == 302 ? "Found" : "Moved Permanently"));
        res.set(bhttp::field::location, redirect_location(rc, facts, view.listener.protocol, view.listener.port));
      } else {
        res = error_response(503, req.version());
      }
      res.keep_alive(keep_alive && !stopping);
      set_timeout(stream, kClientIdle);
      co_await bhttp::async_write(stream, res, asio::redirect_error(use_loop, ec));
      if (ec || !res.keep_alive()) break;
    }
    if (cache.stream && cache.stream->socket().is_open()) give_idle(cache.endpoint, *cache.stream);
    beast::error_code ec;
    if (!upgraded) beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  template <class Stream>
  Task<bool> discard(Stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::buffer_body>& p,
                                char* chunk) {
    while (!p.is_done()) {
      p.get().body().data = chunk;
      p.get().body().size = kChunk;
      beast::error_code ec;
      set_timeout(stream, kClientIdle);
      co_await bhttp::async_read(stream, buffer, p, asio::redirect_error(use_loop, ec));
      if (ec && ec != bhttp::error::need_buffer) co_return false;
    }
    co_return true;
  }

  template <class Stream>
  Task<bool> answer(Stream& stream, int status, unsigned version, bool keep_alive) {
    auto res = error_response(status, version);
    res.keep_alive(keep_alive && !stopping);
    beast::error_code ec;
    set_timeout(stream, kClientIdle);
    co_await bhttp::async_write(stream, res, asio::redirect_error(use_loop, ec));
    co_return !ec && res.keep_alive();
  }

  // Forwards one request (its header is parsed, its body is still on the wire) to a target of the
  // action's group and streams the response back. A target that refuses the connection before any
  // byte is sent is replaced by another one once (the request never reached it); an idle pooled
  // connection the target closed meanwhile is replaced by a fresh one. @return 1 when the client
  // connection stays open for another request, 0 to close it, 2 after a websocket splice.
  template <class Stream>
  Task<int> proxy(Stream& client, beast::flat_buffer& cbuf, bhttp::request_parser<bhttp::buffer_body>& parser,
                             const ListenerSnapshot& snap, const json& action, const std::string& client_ip, bool https,
                             bool keep_alive, char* chunk, UpstreamCache& cache) {
    auto& req = parser.get();
    const unsigned version = req.version();
    const bool head = req.method() == bhttp::verb::head;
    const bool upgrade = is_upgrade(req);
    const bool body_pending = !parser.is_done();
    const std::string& group = choose_group(action);
    std::string cookie(cookie_value(req[bhttp::field::cookie], "AWSALB"));
    if (cookie.empty()) cookie = cookie_value(req[bhttp::field::cookie], "AWSALBCORS");
    std::string app_cookie(cookie_value(req[bhttp::field::cookie], "AWSALBAPP-0"));
    {
      auto xff = req.find("X-Forwarded-For");
      std::string v = xff == req.end() ? client_ip : std::string(xff->value()) + ", " + client_ip;
      req.set("X-Forwarded-For", v);
      req.set("X-Forwarded-Proto", https ? "https" : "http");
      req.set("X-Forwarded-Port", std::to_string(snap.view.listener.port));
      if (req.find("X-Amzn-Trace-Id") == req.end()) req.set("X-Amzn-Trace-Id", trace_id());
    }
    const bool expect_continue = beast::iequals(req[bhttp::field::expect], "100-continue");
    if (expect_continue) req.erase(bhttp::field::expect);  // answered here, once a target is connected
    req.version(11);
    if (!upgrade) req.keep_alive(true);
    const bool client_keep = keep_alive && !stopping;
    const int timeout = snap.idle_timeout;

    if (!cache.stream) cache.stream.emplace(deadlines, co_await asio::this_coro::executor);
    TimedSocket& up = *cache.stream;
    // Whatever happens to this request, a connection left in an unknown state is not used again.
    struct CloseUnlessKept {
      TimedSocket& s;
      bool keep = false;
      ~CloseUnlessKept() {
        beast::error_code ec;
        if (!keep && s.socket().is_open()) s.socket().close(ec);
      }
    } closer{up};
    Outstanding guard;
    std::optional<Picked> target;
    std::optional<TargetKey> refused;
    beast::flat_buffer& ubuf = cache.buffer;
    ubuf.clear();
    std::optional<bhttp::response_parser<bhttp::buffer_body>> rp;
    std::optional<bhttp::request_serializer<bhttp::buffer_body>> sr;
    int attempts = 0;
    bool sent_continue = false;
    for (;;) {
      if (++attempts > 4) co_return co_await answer(client, 502, version, client_keep && !body_pending) ? 1 : 0;
      if (!target) {
        target = pick(group, cookie, app_cookie, refused ? &*refused : nullptr);
        if (!target) co_return co_await answer(client, refused ? 502 : 503, version, client_keep && !body_pending) ? 1 : 0;
        if (target->counted) guard.set(this, target->key);
      }
      beast::error_code ec;
      bool reused = false;
      if (up.socket().is_open() && cache.endpoint == target->endpoint) {
        reused = true;  // this client's connection to this target
        if (body_pending && !alive(up.socket().native_handle())) up.socket().close(ec), reused = false;
      } else if (up.socket().is_open()) {
        give_idle(cache.endpoint, up);
      }
      if (!reused) reused = take_idle(target->endpoint, up);
      cache.endpoint = target->endpoint;
      if (!reused) {
        up.expires_after(seconds(kConnectTimeout));
        co_await up.async_connect(target->endpoint, asio::redirect_error(use_loop, ec));
        if (ec) {
          up.socket().close(ec);
          // Nothing was sent: another target can take the request (once).
          if (refused) co_return co_await answer(client, 502, version, client_keep && !body_pending) ? 1 : 0;
          refused = target->key;
          target.reset();
          guard.clear();
          continue;
        }
        up.socket().set_option(tcp::no_delay(true), ec);
      }
      if (expect_continue && body_pending && !sent_continue) {
        sent_continue = true;
        static const std::string k100 = "HTTP/1.1 100 Continue\r\n\r\n";
        set_timeout(client, timeout);
        co_await asio::async_write(client, asio::buffer(k100), asio::redirect_error(use_loop, ec));
        if (ec) co_return 0;
      }
      sr.emplace(req);
      int r = co_await relay(client, cbuf, parser, up, *sr, chunk, timeout);
      if (r == 1) co_return 0;  // the client went away mid-request
      if (r == 2) {
        up.socket().close(ec);
        if (reused && !body_pending) continue;  // a stale pooled connection: again on a fresh one
        co_return co_await answer(client, 502, version, false) ? 1 : 0;
      }
      // The response header, skipping interim 1xx answers (but not 101).
      bool got = false;
      for (int interim = 0; interim < 8; ++interim) {
        rp.emplace();
        rp->body_limit(std::numeric_limits<std::uint64_t>::max());
        if (head) rp->skip(true);
        up.expires_after(seconds(timeout));
        co_await bhttp::async_read_header(up, ubuf, *rp, asio::redirect_error(use_loop, ec));
        if (ec) break;
        int status = rp->get().result_int();
        if (status >= 100 && status < 200 && status != 101) continue;
        got = true;
        break;
      }
      if (!got) {
        if (up.timed_out()) co_return co_await answer(client, 504, version, false) ? 1 : 0;
        if (reused && !body_pending && ubuf.size() == 0 &&
            (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)) {
          ubuf.clear();
          up.socket().close(ec);
          continue;  // the target closed the idle connection as we reused it
        }
        co_return co_await answer(client, 502, version, false) ? 1 : 0;
      }
      break;
    }

    auto& res = rp->get();
    if (res.result_int() == 101 && upgrade) {
      bhttp::response_serializer<bhttp::buffer_body> rs(res);
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
      beast::error_code ec;
      set_timeout(client, timeout);
      co_await bhttp::async_write_header(client, rs, asio::redirect_error(use_loop, ec));
      if (ec) co_return 0;
      co_await splice(client, cbuf, up, ubuf, timeout);
      co_return 2;
    }
    const bool up_keep = res.keep_alive() && !rp->need_eof();
    bool keep = client_keep;
    res.version(version == 10 ? 10 : 11);
    if (rp->need_eof() && !head) {
      if (version == 11) res.chunked(true);  // close-delimited from the target: chunked to the client
      else keep = false;
    }
    res.keep_alive(keep);
    if (!target->cookie.empty()) {
      std::string expires = http_date(clock().now() + target->sticky_seconds);
      res.insert(bhttp::field::set_cookie, "AWSALB=" + target->cookie + "; Expires=" + expires + "; Path=/");
      res.insert(bhttp::field::set_cookie,
                 "AWSALBCORS=" + target->cookie + "; Expires=" + expires + "; Path=/; SameSite=None; Secure");
    }
    if (!target->app_cookie.empty()) {
      // The application set its cookie: ALB adds AWSALBAPP-0 naming the target.
      bool sets = false;
      for (auto it = res.find(bhttp::field::set_cookie); it != res.end() && it->name() == bhttp::field::set_cookie; ++it)
        if (cookie_value(it->value(), target->app_cookie_name).data() != nullptr) sets = true;
      if (sets)
        res.insert(bhttp::field::set_cookie, "AWSALBAPP-0=" + target->app_cookie +
                                                 "; Expires=" + http_date(clock().now() + target->app_seconds) + "; Path=/");
    }
    bhttp::response_serializer<bhttp::buffer_body> rs(res);
    int r = co_await relay(up, ubuf, *rp, client, rs, chunk, timeout);
    if (r != 0) co_return 0;  // a target failing mid-response can only be told by closing
    closer.keep = up_keep && rp->is_done() && ubuf.size() == 0;  // stays with this client connection
    if (!closer.keep && !rp->need_eof() && rp->is_done() && up.socket().is_open()) {
      // The target said "Connection: close" after a complete response: let it close first. Closing
      // here would leave our side in TIME_WAIT, one per request for a target that closes every
      // connection (busybox httpd does), until connect() has to search a nearly exhausted
      // ephemeral port range for each new connection (milliseconds of CPU per request).
      closer.keep = true;
      asio::co_spawn(co_await asio::this_coro::executor, close_after_peer(up.release_socket()), asio::detached);
    }
    co_return keep ? 1 : 0;
  }

  // Waits (bounded) for the peer to close the connection, then closes it; a peer that does not close
  // in time gets a reset, so neither way leaves a TIME_WAIT entry on this side.
  Task<void> close_after_peer(Socket s) {
    TimedSocket st(deadlines, std::move(s));
    st.expires_after(seconds(kPeerCloseWait));
    std::array<char, 512> sink;
    beast::error_code ec;
    for (int i = 0; i < 256 && !ec; ++i)
      co_await st.async_read_some(asio::buffer(sink), asio::redirect_error(use_loop, ec));
    beast::error_code ignored;
    if (ec != asio::error::eof) st.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    st.socket().close(ignored);
  }

  // --- TCP / TLS listeners: a byte splice to a target of the default action's group ---
  Task<void> tcp_session(TimedSocket stream, std::string listener_arn) {
    auto self = shared_from_this();
    co_await splice_to_target(stream, listener_arn);
  }

  template <class Stream>
  Task<void> splice_to_target(Stream& client, const std::string& listener_arn) {
    auto snap = snapshot(listener_arn);
    if (!snap) co_return;
    const json* action = nullptr;
    for (const auto& r : snap->view.rules)
      if (!r.priority && !r.actions.empty()) action = &r.actions[0];
    if (!action || action->value("Type", "") != "forward") co_return;
    const std::string& group = choose_group(*action);
    TimedSocket up(deadlines, co_await asio::this_coro::executor);
    Outstanding guard;
    std::optional<TargetKey> refused;
    for (int i = 0; i < 2; ++i) {
      auto t = pick(group, "", "", refused ? &*refused : nullptr);
      if (!t) co_return;
      if (t->counted) guard.set(this, t->key);
      else guard.clear();
      beast::error_code ec;
      if (up.socket().is_open()) up.socket().close(ec);
      up.expires_after(seconds(kConnectTimeout));
      co_await up.async_connect(t->endpoint, asio::redirect_error(use_loop, ec));
      if (!ec) {
        up.socket().set_option(tcp::no_delay(true), ec);
        beast::flat_buffer a, b;
        // NLB's idle timeout for TCP is 350 s.
        co_await splice(client, a, up, b, 350);
        co_return;
      }
      refused = t->key;
    }
  }

  // --- health checks ---
  asio::awaitable<void> check(TargetKey key, tcp::endpoint ep, std::string host, std::string protocol, std::string path,
                              std::string matcher, int timeout_s, int healthy_threshold, int unhealthy_threshold) {
    auto self = shared_from_this();
    int status = 0;
    bool connected = false;
    std::string failure = "Target.Timeout";
    {
      beast::tcp_stream s(co_await asio::this_coro::executor);
      beast::error_code ec;
      s.expires_after(seconds(timeout_s));
      co_await s.async_connect(ep, asio::redirect_error(use_awaitable, ec));
      connected = !ec;
      if (!ec && protocol == "HTTP") {
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, path, 11};
        req.set(bhttp::field::host, host + ":" + std::to_string(ep.port()));
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
      } else if (ec && ec != beast::error::timeout) {
        failure = "Target.FailedHealthChecks";
      }
      beast::error_code ignored;
      s.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    // TCP, TLS and HTTPS checks look at the connection only (ecsd speaks no TLS to targets).
    bool ok = protocol != "HTTP" ? connected : status != 0 && status_matches(matcher, status);
    if (protocol == "HTTP" && status != 0 && !ok) failure = "Target.ResponseCodeMismatch";
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
          for (auto& t : g->second.view.targets)
            if (t.target_id == key.id && t.port == key.port) t.state = next->state;
      }
    }
  }

  void schedule_checks() {
    double now = clock().monotonic();
    std::lock_guard lock(mu);
    for (const auto& [arn, g] : groups) {
      if (!domain::elb::health_check_enabled(g.view.group)) continue;
      const json& d = g.view.group.doc;
      int interval = d.value("HealthCheckIntervalSeconds", 30), timeout = d.value("HealthCheckTimeoutSeconds", 5);
      std::string protocol = d.value("HealthCheckProtocol", g.view.group.protocol.empty() ? "HTTP" : g.view.group.protocol);
      std::string path = d.value("HealthCheckPath", "/");
      std::string matcher = d.contains("Matcher") ? d["Matcher"].value("HttpCode", "200") : "200";
      for (const auto& t : g.view.targets) {
        if (t.state == domain::elb::kDraining || t.state == domain::elb::kUnused) continue;
        TargetKey key{arn, t.target_id, t.port};
        Checks& c = checks[key];
        if (c.running || now < c.next_at) continue;
        std::string host = g.view.group.target_type == "ip" ? t.target_id : opt.host;
        beast::error_code ec;
        auto addr = asio::ip::make_address(host, ec);
        if (ec) continue;
        c.running = true;
        c.next_at = now + scaled(interval);  // CI time scale (clock.hpp)
        tcp::endpoint ep(addr, static_cast<unsigned short>(domain::elb::health_check_port(g.view.group, t)));
        asio::co_spawn(asio::make_strand(io),
                       check(key, ep, host, protocol, path, matcher, timeout, d.value("HealthyThresholdCount", 5),
                             d.value("UnhealthyThresholdCount", 2)),
                       asio::detached);
      }
    }
  }

  // Every 50 ms: reload at once when ELBv2 state moved (a deregistered target must stop getting
  // requests before its task stops), and at least every sync_seconds; start due health checks.
  void housekeeping_tick();

  void tick() {
    if (stopping) return;
    double now = clock().monotonic();
    std::uint64_t gen = domain::elb::generation();
    bool full = now >= next_full_sync;
    if (full || gen != synced_generation) {
      synced_generation = gen;
      if (!sync()) synced_generation = ~0ull;  // again on the next tick
      if (full) next_full_sync = now + opt.sync_seconds;
    }
    schedule_checks();
    timer.expires_after(std::chrono::milliseconds(50));
    auto self = shared_from_this();
    timer.async_wait([self](const beast::error_code& ec) {
      if (!ec) self->tick();
    });
  }
};

// Runs on the data plane's loop: see `housekeeping`.
void DataPlane::Impl::housekeeping_tick() {
  if (stopping || !housekeeping) return;
  sweep_idle(false);
  deadlines.sweep(coarse_now());
  housekeeping->expires_after(std::chrono::seconds(1));
  auto self = shared_from_this();
  housekeeping->async_wait([self](const beast::error_code& ec) {
    if (!ec) self->housekeeping_tick();
  });
}

DataPlane::DataPlane(asio::io_context& io, store::Store& store, Options options)
    : worker_(std::make_unique<LoopThread>()), impl_(std::make_shared<Impl>(io, worker_->io(), store, std::move(options))) {}

DataPlane::~DataPlane() {
  impl_->stopping = true;
  worker_->stop();
  {
    std::lock_guard lock(impl_->mu);
    impl_->listeners.clear();  // acceptors belong to the worker's loop: gone before it
  }
  impl_->housekeeping.reset();  // so does this timer
  worker_.reset();  // destroys the connections still open (their coroutines hold impl_)
  impl_->sweep_idle(true);
}

void DataPlane::start() {
  auto impl = impl_;
  asio::post(impl->timer.get_executor(), [impl] { impl->tick(); });
  asio::post(impl->wio, [impl] { impl->housekeeping_tick(); });
}

void DataPlane::stop() {
  impl_->stopping = true;
  auto impl = impl_;
  asio::post(impl->timer.get_executor(), [impl] {
    impl->timer.cancel();
    impl->sweep_idle(true);
    std::lock_guard lock(impl->mu);
    for (auto& [arn, l] : impl->listeners) impl->close_acceptor(l.acceptor);
  });
}

std::map<std::string, int> DataPlane::ports() const {
  std::lock_guard lock(impl_->mu);
  std::map<std::string, int> out;
  for (const auto& [arn, l] : impl_->listeners) out[arn] = l.port;
  return out;
}

}  // namespace ecsd::alb

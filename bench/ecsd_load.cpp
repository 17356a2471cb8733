// ecsd_load: a small HTTP/1.1 load generator for awsJson1.1 APIs (ecsd, or moto for comparison).
//
// One thread per connection, plain synchronous Boost.Beast client, keep-alive. Each worker sends
// the same POST (optionally with a per-request body from a template) as fast as the server answers.
// The run is bounded by --duration or --requests (plus a hard --max-seconds cap), a watchdog aborts
// any single request that takes longer than --request-timeout, and only loopback addresses are
// accepted. The result is one machine-readable line of key=value pairs on stdout:
//
//   ecsd_load target=DescribeServices concurrency=8 ops=51234 seconds=5.001 rps=10245.0
//             p50_ms=0.712 p99_ms=2.301 max_ms=9.874 errors=0 conn_errors=0 warmup_ops=9876 client_cpu_s=4.12
//
// ops, seconds, rps and the latencies cover the measured window only (after --warmup); errors counts
// measured answers that are not 2xx; conn_errors counts connect/read/write failures and timeouts over
// the whole run (each one also drops and reopens that worker's connection); warmup_ops counts the
// answers received during the warmup; client_cpu_s is this process's own CPU time (user + system),
// worth knowing when the load generator shares the machine's CPUs with the server.
//
// This is the only translation unit with Beast client templates.
#include <utility>  // Boost 1.74 asio uses std::exchange without including <utility> (GCC 12).

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage = R"(Usage: ecsd_load --port N --target Operation --body JSON|@FILE [options]

  --host ADDR            server address, loopback only (default 127.0.0.1)
  --port N               server port (required)
  --target OP            X-Amz-Target; a bare operation name gets --target-prefix prepended
  --target-prefix P      default AmazonEC2ContainerServiceV20141113
  --body JSON|@FILE      request body, literal or read from FILE (default {})
  --template             replace every {n} in the body with a counter unique to each request
  --concurrency N        worker threads, one keep-alive connection each (default 1)
  --duration S           measure for S seconds after the warmup (default 5)
  --requests N           measure exactly N requests instead of a duration
  --warmup S             run S seconds unmeasured first (default 1)
  --request-timeout S    abort a request (counted as conn_error) after S seconds (default 10)
  --max-seconds S        hard cap on the whole run (default 600)
  --label TEXT           printed as label=TEXT in the result line
  --help
)";

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string target;
  std::string target_prefix = "AmazonEC2ContainerServiceV20141113";
  std::string body = "{}";
  bool templated = false;
  int concurrency = 1;
  double duration = 5.0;
  std::int64_t requests = 0;  // 0: duration mode
  double warmup = 1.0;
  double request_timeout = 10.0;
  double max_seconds = 600.0;
  std::string label;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "ecsd_load: " << msg << "\n" << kUsage;
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (a == "--template") {
      o.templated = true;
      continue;
    }
    std::string key = a, value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      key = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage_error("missing value for " + a);
    }
    try {
      if (key == "--host") o.host = value;
      else if (key == "--port") {
        int p = std::stoi(value);
        if (p <= 0 || p > 65535) usage_error("port out of range: " + value);
        o.port = static_cast<unsigned short>(p);
        have_port = true;
      } else if (key == "--target") o.target = value;
      else if (key == "--target-prefix") o.target_prefix = value;
      else if (key == "--body") {
        if (!value.empty() && value[0] == '@') {
          std::ifstream in(value.substr(1), std::ios::binary);
          if (!in) usage_error("cannot read body file " + value.substr(1));
          std::ostringstream ss;
          ss << in.rdbuf();
          o.body = ss.str();
        } else {
          o.body = value;
        }
      } else if (key == "--concurrency") o.concurrency = std::stoi(value);
      else if (key == "--duration") o.duration = std::stod(value);
      else if (key == "--requests") o.requests = std::stoll(value);
      else if (key == "--warmup") o.warmup = std::stod(value);
      else if (key == "--request-timeout") o.request_timeout = std::stod(value);
      else if (key == "--max-seconds") o.max_seconds = std::stod(value);
      else if (key == "--label") o.label = value;
      else usage_error("unknown option " + key);
    } catch (const std::invalid_argument&) {
      usage_error("bad value for " + key + ": " + value);
    } catch (const std::out_of_range&) {
      usage_error("bad value for " + key + ": " + value);
    }
  }
  if (!have_port) usage_error("--port is required");
  if (o.target.empty()) usage_error("--target is required");
  if (o.concurrency < 1 || o.concurrency > 1024) usage_error("--concurrency must be 1..1024");
  if (o.requests < 0) usage_error("--requests must be positive");
  if (o.requests == 0 && !(o.duration > 0)) usage_error("--duration must be positive");
  if (o.warmup < 0) usage_error("--warmup must not be negative");
  if (!(o.request_timeout > 0) || !(o.max_seconds > 0)) usage_error("timeouts must be positive");
  if (o.target.find('.') == std::string::npos && !o.target_prefix.empty())
    o.target = o.target_prefix + "." + o.target;
  return o;
}

// Loopback only: this tool must never be pointed at a real endpoint.
asio::ip::address loopback_address(const std::string& host) {
  std::string h = host;
  if (h == "localhost") h = "127.0.0.1";
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(h, ec);
  if (ec) usage_error("--host must be a loopback IP address (or localhost): " + host);
  if (!addr.is_loopback()) usage_error("refusing non-loopback host " + host);
  return addr;
}

// The body split at each {n}; parts.size() == holes + 1.
struct BodyTemplate {
  std::vector<std::string> parts;
  explicit BodyTemplate(const std::string& body, bool templated) {
    if (!templated) {
      parts.push_back(body);
      return;
    }
    std::size_t pos = 0;
    for (;;) {
      auto hit = body.find("{n}", pos);
      if (hit == std::string::npos) break;
      parts.push_back(body.substr(pos, hit - pos));
      pos = hit + 3;
    }
    parts.push_back(body.substr(pos));
  }
  void render(std::uint64_t n, std::string& out) const {
    out.clear();
    if (parts.size() == 1) {
      out = parts[0];
      return;
    }
    std::string num = std::to_string(n);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i) out += num;
      out += parts[i];
    }
  }
};

struct Shared {
  Shared(Options o, tcp::endpoint ep) : opt(std::move(o)), endpoint(ep), body(opt.body, opt.templated) {}
  Options opt;
  tcp::endpoint endpoint;
  BodyTemplate body;
  std::string host_header;
  std::atomic<std::uint64_t> counter{1};
  std::atomic<std::int64_t> claimed{0};  // requests mode: measured requests handed out
  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  std::atomic<int> finished{0};
  Clock::time_point t0, measure_start, measure_end, hard_end;
  std::mutex sample_mu;
  std::string error_sample;  // the first non-2xx answer, for stderr
};

struct Worker {
  std::vector<std::uint32_t> latencies_us;  // measured requests only
  std::uint64_t errors = 0;
  std::uint64_t conn_errors = 0;
  std::uint64_t warmup_ops = 0;  // answers received during the warmup
  Clock::time_point last_done{};
  // For the watchdog: when the request in flight started (0 when idle) and the socket to abort.
  std::atomic<std::int64_t> inflight_since_ns{0};
  std::mutex sock_mu;  // held while the socket is opened/closed, and by the watchdog
  int fd = -1;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

void run_worker(Shared& sh, Worker& w) {
  asio::io_context io;
  tcp::socket sock(io);
  beast::flat_buffer buffer;
  auto close_socket = [&] {
    std::lock_guard lock(w.sock_mu);
    boost::system::error_code ec;
    sock.close(ec);
    w.fd = -1;
  };
  auto connect = [&]() -> bool {
    boost::system::error_code ec;
    std::lock_guard lock(w.sock_mu);
    sock.close(ec);
    sock.connect(sh.endpoint, ec);
    if (ec) {
      sock.close(ec);
      w.fd = -1;
      return false;
    }
    sock.set_option(tcp::no_delay(true), ec);
    w.fd = sock.native_handle();
    buffer.clear();
    return true;
  };

  http::request<http::string_body> req{http::verb::post, "/", 11};
  req.set(http::field::host, sh.host_header);
  req.set(http::field::user_agent, "ecsd_load/1");
  req.set(http::field::content_type, "application/x-amz-json-1.1");
  req.set("X-Amz-Target", sh.opt.target);
  req.set(http::field::authorization,
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ecs/aws4_request, "
          "SignedHeaders=host, Signature=0");
  req.set("X-Amz-Date", "20260101T000000Z");
  req.keep_alive(true);

  bool connected = connect();
  sh.ready.fetch_add(1);
  while (!sh.go.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(200));

  const bool requests_mode = sh.opt.requests > 0;
  std::string body;
  for (;;) {
    auto start = Clock::now();
    if (start >= sh.hard_end) break;
    if (!requests_mode && start >= sh.measure_end) break;
    bool measured = start >= sh.measure_start;
    if (requests_mode && measured && sh.claimed.fetch_add(1) >= sh.opt.requests) break;

    sh.body.render(sh.counter.fetch_add(1), body);
    req.body() = body;
    req.prepare_payload();

    w.inflight_since_ns.store(now_ns(), std::memory_order_release);
    boost::system::error_code ec;
    if (!connected) connected = connect();
    if (!connected) {
      ec = asio::error::connection_refused;
    } else {
      http::write(sock, req, ec);
    }
    http::response<http::string_body> res;
    if (!ec) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(64u * 1024 * 1024);
      http::read(sock, buffer, parser, ec);
      if (!ec) res = parser.release();
    }
    auto done = Clock::now();
    w.inflight_since_ns.store(0, std::memory_order_release);

    if (ec) {
      // Not a latency sample: a broken connection (or a watchdog abort) is its own kind of error,
      // counted over the whole run including the warmup. The next request reconnects.
      ++w.conn_errors;
      close_socket();
      connected = false;
      if (ec == asio::error::connection_refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    unsigned status = res.result_int();
    if (status < 200 || status >= 300) {
      if (measured) ++w.errors;
      std::lock_guard lock(sh.sample_mu);
      if (sh.error_sample.empty())
        sh.error_sample = std::to_string(status) + " " + res.body().substr(0, 400);
    }
    if (!measured) ++w.warmup_ops;
    if (measured) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(done - start).count();
      w.latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(us, UINT32_MAX)));
      w.last_done = done;
    }
    if (!res.keep_alive()) {
      close_socket();
      connected = false;
    }
  }
  close_socket();
  sh.finished.fetch_add(1);
}

double percentile_ms(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0.0;
  // Nearest rank.
  std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return v[rank - 1] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  auto addr = loopback_address(opt.host);

  Shared sh(opt, tcp::endpoint(addr, opt.port));
  sh.host_header = (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" + std::to_string(opt.port);

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.concurrency; ++i) workers.push_back(std::make_unique<Worker>());
  for (int i = 0; i < opt.concurrency; ++i) threads.emplace_back(run_worker, std::ref(sh), std::ref(*workers[i]));
  while (sh.ready.load() < opt.concurrency) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto secs = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  sh.t0 = Clock::now();
  sh.measure_start = sh.t0 + secs(opt.warmup);
  sh.measure_end = opt.requests > 0 ? Clock::time_point::max() : sh.measure_start + secs(opt.duration);
  sh.hard_end = sh.t0 + secs(opt.max_seconds);
  sh.go.store(true, std::memory_order_release);

  // Watchdog: abort requests that hang so the run stays bounded.
  const std::int64_t timeout_ns = static_cast<std::int64_t>(opt.request_timeout * 1e9);
  std::uint64_t aborted = 0;
  while (sh.finished.load() < opt.concurrency) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::int64_t now = now_ns();
    for (auto& w : workers) {
      std::int64_t since = w->inflight_since_ns.load(std::memory_order_acquire);
      if (since == 0 || now - since < timeout_ns) continue;
      std::lock_guard lock(w->sock_mu);
      if (w->fd >= 0 && w->inflight_since_ns.load() == since) {
        ::shutdown(w->fd, SHUT_RDWR);  // unblocks the worker's read/write with an error
        ++aborted;
      }
    }
  }
  for (auto& t : threads) t.join();

  std::vector<std::uint32_t> all;
  std::uint64_t errors = 0, conn_errors = 0, warmup_ops = 0;
  Clock::time_point last = sh.measure_start;
  for (auto& w : workers) {
    all.insert(all.end(), w->latencies_us.begin(), w->latencies_us.end());
    errors += w->errors;
    conn_errors += w->conn_errors;
    warmup_ops += w->warmup_ops;
    if (!w->latencies_us.empty()) last = std::max(last, w->last_done);
  }
  double seconds = std::chrono::duration<double>(last - sh.measure_start).count();
  std::uint64_t ops = all.size();
  double rps = seconds > 0 ? static_cast<double>(ops) / seconds : 0.0;
  double p50 = percentile_ms(all, 50), p99 = percentile_ms(all, 99);
  double max_ms = all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()) / 1000.0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double client_cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                      static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

  std::string op = opt.target.substr(opt.target.rfind('.') + 1);
  std::printf(
      "ecsd_load%s%s target=%s concurrency=%d ops=%llu seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      "errors=%llu conn_errors=%llu warmup_ops=%llu client_cpu_s=%.2f\n",
      opt.label.empty() ? "" : " label=", opt.label.c_str(), op.c_str(), opt.concurrency,
      static_cast<unsigned long long>(ops), seconds, rps, p50, p99, max_ms, static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(conn_errors), static_cast<unsigned long long>(warmup_ops), client_cpu);
  if (!sh.error_sample.empty()) std::fprintf(stderr, "ecsd_load: first non-2xx answer: %s\n", sh.error_sample.c_str());
  if (aborted) std::fprintf(stderr, "ecsd_load: %llu request(s) aborted after %.1f s\n",
                            static_cast<unsigned long long>(aborted), opt.request_timeout);
  if (opt.requests > 0 && ops < static_cast<std::uint64_t>(opt.requests))
    std::fprintf(stderr, "ecsd_load: %llu of %lld requests answered (connection errors, or --max-seconds reached)\n",
                 static_cast<unsigned long long>(ops), static_cast<long long>(opt.requests));
  return ops == 0 ? 1 : 0;
}

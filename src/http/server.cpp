// HTTP/1.1 server on Beast coroutines. The only translation unit with Beast server templates.
#include "ecsd/http/server.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "ecsd/common/asio.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/protocol/aws_json.hpp"

namespace ecsd::http {

using asio::ip::tcp;
using asio::use_awaitable;

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, RequestHandler h, Limits l) : io(io), acceptor(io), handler(std::move(h)), limits(l) {}

  // A connection, registered so stop() can close it when it is between requests and the sweep can
  // end it when its deadline passes.
  struct Conn {
    tcp::socket socket;
    bool busy = false;
    // Steady-clock milliseconds by which the current read or write must finish; 0 while the
    // handler runs. Written on the connection's executor, read by the sweep.
    std::atomic<std::int64_t> deadline_ms{0};
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
  };

  static std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static void expires_after(Conn& c, int seconds) { c.deadline_ms = steady_ms() + seconds * 1000LL; }

  asio::io_context& io;
  tcp::acceptor acceptor;
  RequestHandler handler;
  Limits limits;
  std::mutex mu;
  std::set<std::shared_ptr<Conn>> conns;
  std::atomic<bool> stopping{false};
  // When set, each accepted connection lives on one of these loops (round robin), each run by one
  // thread: a connection's reads, handler and writes then stay on one thread, with no strand and no
  // hand-over between threads (futex wake-ups) per request.
  std::vector<asio::io_context*> conn_loops;
  std::size_t next_loop = 0;
  // Read and write timeouts are coarse deadlines that this once-a-second sweep (on the server's
  // io_context) enforces, not a timer per operation: arming and cancelling a timer for each read
  // and write cost a queued cancellation handler each, and a timerfd_settime system call whenever
  // the new timer became the loop's earliest (three per request; under a hypervisor each one
  // exits to it).
  asio::steady_timer sweep_timer{asio::make_strand(io)};  // a strand: io may be run by several threads

  void sweep() {
    std::int64_t now = steady_ms();
    {
      std::lock_guard lock(mu);
      for (const auto& conn : conns) {
        std::int64_t d = conn->deadline_ms.load(std::memory_order_relaxed);
        if (d == 0 || now < d) continue;
        // Checked again on the connection's executor: the operation may have finished meanwhile.
        asio::post(conn->socket.get_executor(), [conn] {
          std::int64_t due = conn->deadline_ms.load(std::memory_order_relaxed);
          if (due == 0 || steady_ms() < due) return;
          beast::error_code ec;
          conn->socket.shutdown(tcp::socket::shutdown_both, ec);  // a read or write queued next fails too
          conn->socket.cancel(ec);
        });
      }
    }
    sweep_timer.expires_after(std::chrono::seconds(1));
    sweep_timer.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (!ec && !self->stopping) self->sweep();
    });
  }

  asio::awaitable<tcp::socket> accept_one(beast::error_code& ec) {
    if (conn_loops.empty())
      co_return co_await acceptor.async_accept(asio::make_strand(io), asio::redirect_error(use_awaitable, ec));
    auto* loop = conn_loops[next_loop++ % conn_loops.size()];
    co_return co_await acceptor.async_accept(*loop, asio::redirect_error(use_awaitable, ec));
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      beast::error_code ec;
      tcp::socket socket = co_await accept_one(ec);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      beast::error_code nb;
      socket.non_blocking(true, nb);  // synchronous writes return would_block instead of waiting
      auto conn = std::make_shared<Conn>(std::move(socket));
      {
        std::lock_guard lock(mu);
        conns.insert(conn);
      }
      auto executor = conn->socket.get_executor();
      asio::co_spawn(executor, session(conn), asio::detached);
    }
  }

  static protocol::WireRequest to_wire(beast::http::request<beast::http::string_body>& req) {
    protocol::WireRequest w;
    w.method = std::string(req.method_string());
    w.target = std::string(req.target());
    for (const auto& f : req) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      w.headers[name] = std::string(f.value());
    }
    w.body = std::move(req.body());  // the request is not used after this
    return w;
  }

  static beast::http::response<beast::http::string_body> from_wire(protocol::WireResponse&& w, unsigned version,
                                                                   bool keep_alive) {
    beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(w.status), version};
    res.set(beast::http::field::server, "ecsd");
    if (!w.content_type.empty()) res.set(beast::http::field::content_type, w.content_type);
    for (auto& [k, v] : w.headers) res.insert(k, v);
    res.body() = std::move(w.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
  }

  // Answers a request whose headers or body broke a limit, then drains what the client still
  // sends (bounded) so it reads the answer instead of a connection reset.
  asio::awaitable<void> refuse(std::shared_ptr<Conn> conn, beast::http::status status, const std::string& code,
                               const std::string& message) {
    beast::http::response<beast::http::string_body> res{status, 11};
    res.set(beast::http::field::content_type, "application/x-amz-json-1.1");
    res.set("x-amzn-ErrorType", code);
    res.set(beast::http::field::server, "ecsd");
    res.set("x-amzn-RequestId", ids::uuid());
    res.body() = protocol::encode_json_error(code, message);
    res.keep_alive(false);
    res.prepare_payload();
    expires_after(*conn, limits.write_timeout_seconds);
    beast::error_code ec;
    co_await beast::http::async_write(conn->socket, res, asio::redirect_error(use_awaitable, ec));
    conn->socket.shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 64 * 1024> sink;
    std::size_t drained = 0;
    expires_after(*conn, 5);
    while (drained < 256u * 1024 * 1024) {
      beast::error_code rec;
      std::size_t n = co_await conn->socket.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, rec));
      if (rec) break;
      drained += n;
    }
  }

  asio::awaitable<void> session(std::shared_ptr<Conn> conn) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    while (!stopping) {
      beast::http::request_parser<beast::http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
      parser.body_limit(limits.body_bytes);
      expires_after(*conn, limits.read_timeout_seconds);
      beast::error_code ec;
      co_await beast::http::async_read(conn->socket, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec == beast::http::error::body_limit) {
        co_await refuse(conn, beast::http::status::payload_too_large, "SerializationException",
                        "Request body is larger than the limit of " + std::to_string(limits.body_bytes) + " bytes.");
        break;
      }
      if (ec == beast::http::error::header_limit) {
        co_await refuse(conn, beast::http::status::request_header_fields_too_large, "SerializationException",
                        "Request headers are too large.");
        break;
      }
      if (ec && ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category() &&
          ec != beast::http::error::end_of_stream && ec != beast::http::error::partial_message) {
        co_await refuse(conn, beast::http::status::bad_request, "SerializationException",
                        "Malformed HTTP request: " + ec.message() + ".");
        break;
      }
      if (ec) break;  // end of stream, timeout or cancellation
      conn->busy = true;
      conn->deadline_ms = 0;
      auto req = parser.release();
      bool keep_alive = req.keep_alive() && !stopping;
      protocol::WireResponse wire;
      try {
        wire = handler(to_wire(req));
      } catch (const std::exception& e) {
        spdlog::error("request handler failed: {}", e.what());
        wire.status = 500;
        wire.content_type = "application/json";
        wire.body = R"({"__type":"InternalFailure","message":"internal error"})";
      }
      auto res = from_wire(std::move(wire), req.version(), keep_alive && !stopping);
      expires_after(*conn, limits.write_timeout_seconds);
      beast::error_code wec;
      // An answer usually fits the socket's send buffer: write it right away (the socket is
      // non-blocking), and only what did not fit through the loop. That saves a queued
      // completion, a coroutine resumption and an epoll_wait per request.
      beast::http::serializer<false, beast::http::string_body> sr(res);
      beast::http::write(conn->socket, sr, wec);
      if (wec == asio::error::would_block || wec == asio::error::try_again) {
        wec = {};
        co_await beast::http::async_write(conn->socket, sr, asio::redirect_error(use_awaitable, wec));
      }
      conn->busy = false;
      if (wec || !res.keep_alive()) break;
    }
    beast::error_code ec;
    conn->deadline_ms = 0;
    conn->socket.shutdown(tcp::socket::shutdown_send, ec);
    conn->socket.close(ec);
    std::lock_guard lock(mu);
    conns.erase(conn);
  }
};

Server::Server(asio::io_context& io, const std::string& host, unsigned short port, RequestHandler handler,
               Limits limits)
    : impl_(std::make_shared<Impl>(io, std::move(handler), limits)) {
  tcp::endpoint ep(asio::ip::make_address(host), port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
}

Server::Server(asio::io_context& io, int listening_fd, RequestHandler handler, Limits limits)
    : impl_(std::make_shared<Impl>(io, std::move(handler), limits)) {
  impl_->acceptor.assign(tcp::v4(), listening_fd);
}

Server::~Server() = default;

bool Server::idle() const {
  std::lock_guard lock(impl_->mu);
  return impl_->conns.empty();
}

unsigned short Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::run_connections_on(std::vector<asio::io_context*> loops) { impl_->conn_loops = std::move(loops); }

void Server::start() {
  asio::post(impl_->sweep_timer.get_executor(), [impl = impl_] { impl->sweep(); });
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
}

void Server::stop() {
  auto impl = impl_;
  impl->stopping = true;
  asio::post(impl->acceptor.get_executor(), [impl] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  asio::post(impl->sweep_timer.get_executor(), [impl] { impl->sweep_timer.cancel(); });
  std::lock_guard lock(impl->mu);
  for (const auto& conn : impl->conns) {
    // Idle connections are parked in a read: cancel it on the connection's strand.
    asio::post(conn->socket.get_executor(), [conn] {
      beast::error_code ec;
      if (!conn->busy) conn->socket.cancel(ec);
    });
  }
}

}  // namespace ecsd::http

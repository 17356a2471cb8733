// Registry HTTP server on Beast coroutines: bodies streamed in and out in chunks. The only
// translation unit with Beast templates for the registry.
#include "ecsd/registry/http_server.hpp"

#include <unistd.h>

#include <set>

#include <spdlog/spdlog.h>

#include "ecsd/common/asio.hpp"
#include "ecsd/common/clock.hpp"

namespace ecsd::registry {

using asio::ip::tcp;
using asio::use_awaitable;
namespace http = beast::http;

namespace {
constexpr std::size_t kChunk = 256 * 1024;
constexpr int kTimeoutSeconds = 120;
}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Registry& r) : io(io), registry(r) {}

  struct Conn {
    beast::tcp_stream stream;
    bool busy = false;
    explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  };

  asio::io_context& io;
  Registry& registry;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  mutable std::mutex mu;
  std::set<std::shared_ptr<Conn>> conns;
  std::atomic<bool> stopping{false};

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    auto self = shared_from_this();
    while (!stopping) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::make_strand(io), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        spdlog::warn("registry: accept failed: {}", ec.message());
        continue;
      }
      auto conn = std::make_shared<Conn>(std::move(socket));
      {
        std::lock_guard lock(mu);
        conns.insert(conn);
      }
      asio::co_spawn(conn->stream.get_executor(), session(conn), asio::detached);
    }
  }

  // Sends a response whose body is a file range, chunk by chunk.
  asio::awaitable<beast::error_code> write_file(std::shared_ptr<Conn> conn, HttpResponse& r, unsigned version,
                                                bool keep_alive) {
    http::response<http::buffer_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "ecsd");
    res.set("Docker-Distribution-API-Version", "registry/2.0");
    for (auto& [k, v] : r.headers) res.set(k, v);
    res.content_length(r.file->length);
    res.keep_alive(keep_alive);
    res.body().data = nullptr;
    res.body().more = true;
    http::response_serializer<http::buffer_body> sr{res};
    beast::error_code ec;
    conn->stream.expires_after(std::chrono::seconds(kTimeoutSeconds));
    co_await http::async_write_header(conn->stream, sr, asio::redirect_error(use_awaitable, ec));
    std::vector<char> buf(kChunk);
    std::uint64_t off = r.file->offset, remaining = r.file->length;
    while (!ec && remaining > 0) {
      ssize_t n = ::pread(r.file->fd, buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, remaining)),
                          static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ec = asio::error::broken_pipe;
        break;
      }
      res.body().data = buf.data();
      res.body().size = static_cast<std::size_t>(n);
      res.body().more = true;
      conn->stream.expires_after(std::chrono::seconds(kTimeoutSeconds));
      co_await http::async_write(conn->stream, sr, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      off += static_cast<std::uint64_t>(n);
      remaining -= static_cast<std::uint64_t>(n);
    }
    if (!ec) {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
      co_await http::async_write(conn->stream, sr, asio::redirect_error(use_awaitable, ec));
    }
    co_return ec;
  }

  asio::awaitable<beast::error_code> write_plain(std::shared_ptr<Conn> conn, HttpResponse& r, unsigned version,
                                                 bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "ecsd");
    res.set("Docker-Distribution-API-Version", "registry/2.0");
    for (auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    if (r.head_length >= 0) {
      res.content_length(static_cast<std::uint64_t>(r.head_length));  // HEAD: announce, send nothing
    } else {
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    http::response_serializer<http::string_body> sr{res};
    if (r.head_length >= 0) {
      // The serializer would send the (empty) body to match Content-Length; send the header only.
      beast::error_code ec;
      conn->stream.expires_after(std::chrono::seconds(kTimeoutSeconds));
      co_await http::async_write_header(conn->stream, sr, asio::redirect_error(use_awaitable, ec));
      co_return ec;
    }
    beast::error_code ec;
    conn->stream.expires_after(std::chrono::seconds(kTimeoutSeconds));
    co_await http::async_write(conn->stream, sr, asio::redirect_error(use_awaitable, ec));
    co_return ec;
  }

  Plan begin(const HttpRequest& hr) {
    try {
      return registry.begin(hr);
    } catch (const std::exception& e) {
      spdlog::error("registry: {} {}: {}", hr.method, hr.target, e.what());
      Plan plan;
      plan.response.status = 500;
      plan.response.body = R"({"errors":[{"code":"UNKNOWN","message":"internal error"}]})";
      return plan;
    }
  }

  asio::awaitable<void> session(std::shared_ptr<Conn> conn) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    std::vector<char> chunk(kChunk);
    beast::error_code lec;
    std::string local = conn->stream.socket().local_endpoint(lec).address().to_string();
    while (!stopping) {
      http::request_parser<http::buffer_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // uploads stream to disk
      conn->stream.expires_after(std::chrono::seconds(kTimeoutSeconds));
      beast::error_code ec;
      co_await http::async_read_header(conn->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted)
          spdlog::debug("registry: reading a request from {}: {}", local, ec.message());
        break;
      }
      conn->busy = true;
      double started = clock().monotonic();
      auto& req = parser.get();
      HttpRequest hr;
      hr.method = std::string(req.method_string());
      hr.target = std::string(req.target());
      hr.local_address = local;
      for (const auto& f : req) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        hr.headers[name] = std::string(f.value());
      }
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      Plan plan = begin(hr);
      if (!parser.is_done() && hr.header("expect") == "100-continue") {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(conn->stream, asio::buffer(kContinue), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
      }
      // The body: discarded, buffered (manifests) or streamed to an upload.
      bool body_ok = true, write_ok = true, too_large = false;
      std::string buffered;
      std::uint64_t received = 0;
      while (!parser.is_done()) {
        req.body().data = chunk.data();
        req.body().size = chunk.size();
        conn->stream.expires_after(std::chrono::seconds(kTimeoutSeconds));
        co_await http::async_read(conn->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
          spdlog::debug("registry: reading the body of {} {}: {}", hr.method, hr.target, ec.message());
          body_ok = false;
          break;
        }
        std::size_t n = chunk.size() - req.body().size;
        received += n;
        if (plan.body == Plan::Body::Buffer) {
          if (buffered.size() + n > plan.buffer_limit) too_large = true;
          else buffered.append(chunk.data(), n);
        } else if (plan.body == Plan::Body::Upload && write_ok && n) {
          write_ok = plan.writer->write(chunk.data(), n);
        }
      }
      HttpResponse res;
      try {
        if (plan.body == Plan::Body::Upload) {
          res = plan.on_uploaded(std::move(*plan.writer), body_ok && write_ok);
        } else if (!body_ok) {
          break;
        } else if (plan.body == Plan::Body::Buffer) {
          if (too_large) {
            res.status = 413;
            res.body = R"({"errors":[{"code":"SIZE_INVALID","message":"manifest too large"}]})";
          } else {
            res = plan.on_buffered(std::move(buffered));
          }
        } else {
          res = std::move(plan.response);
        }
      } catch (const std::exception& e) {
        spdlog::error("registry: {} {}: {}", hr.method, hr.target, e.what());
        res = HttpResponse{};
        res.status = 500;
        res.body = R"({"errors":[{"code":"UNKNOWN","message":"internal error"}]})";
      }
      if (!body_ok) break;
      keep_alive = keep_alive && !stopping;
      if (hr.method == "HEAD" && res.head_length < 0) {  // a HEAD answer announces its body but never sends it
        res.head_length = static_cast<std::int64_t>(res.file ? res.file->length : res.body.size());
        res.file.reset();
        res.body.clear();
      }
      beast::error_code wec = res.file ? co_await write_file(conn, res, version, keep_alive)
                                       : co_await write_plain(conn, res, version, keep_alive);
      spdlog::info("registry {} {} {} {}B {:.1f}ms", hr.method, hr.target.substr(0, hr.target.find('?')), res.status,
                   res.file ? res.file->length : received, (clock().monotonic() - started) * 1000);
      conn->busy = false;
      if (wec || !keep_alive) break;
    }
    beast::error_code ec;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn->stream.socket().close(ec);
    std::lock_guard lock(mu);
    conns.erase(conn);
  }
};

HttpServer::HttpServer(asio::io_context& io, Registry& registry, unsigned short port)
    : impl_(std::make_shared<Impl>(io, registry)) {
  bool first = true;
  for (const auto& region : regions()) {
    tcp::endpoint ep(asio::ip::make_address(region_address(region)), port);
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    try {
      acceptor->open(ep.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      acceptor->bind(ep);
      acceptor->listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
      if (first) throw;
      spdlog::warn("registry: cannot listen on {} for {}: {}", ep.address().to_string(), region, e.what());
      continue;
    }
    first = false;
    impl_->acceptors.push_back(std::move(acceptor));
  }
}

HttpServer::~HttpServer() = default;

bool HttpServer::idle() const {
  std::lock_guard lock(impl_->mu);
  return impl_->conns.empty();
}

void HttpServer::start() {
  for (auto& a : impl_->acceptors) asio::co_spawn(a->get_executor(), impl_->accept_loop(*a), asio::detached);
}

void HttpServer::stop() {
  auto impl = impl_;
  impl->stopping = true;
  for (auto& a : impl->acceptors) {
    tcp::acceptor* acc = a.get();
    asio::post(acc->get_executor(), [impl, acc] {
      beast::error_code ec;
      acc->close(ec);
    });
  }
  std::lock_guard lock(impl->mu);
  for (const auto& conn : impl->conns)
    asio::post(conn->stream.get_executor(), [conn] {
      if (!conn->busy) conn->stream.cancel();
    });
}

}  // namespace ecsd::registry

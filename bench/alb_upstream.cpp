// A small keep-alive HTTP/1.1 server for bench/alb.sh: the upstream that wrk hits directly and through
// an ALB listener. Every GET gets a fixed body; --body-size sets its length. It listens on 127.0.0.1
// unless --host says otherwise (bench/alb.sh runs a statically linked copy inside a container, where it
// listens on the container's own address).
//
//   alb_upstream --port N [--host 127.0.0.1] [--body-size 64]
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

static void session(tcp::socket s, const std::string* body) {
  beast::error_code ec;
  s.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buf;
  for (;;) {
    http::request<http::string_body> req;
    http::read(s, buf, req, ec);
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = *body;
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(s, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  s.shutdown(tcp::socket::shutdown_send, ec);
}

int main(int argc, char** argv) {
  int port = 0, body_size = 64;
  std::string host = "127.0.0.1";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") port = std::atoi(argv[i + 1]);
    else if (k == "--host") host = argv[i + 1];
    else if (k == "--body-size") body_size = std::atoi(argv[i + 1]);
    else if (k == "--threads") (void)0;  // one thread per connection; kept for compatibility
  }
  if (port <= 0) {
    std::cerr << "usage: alb_upstream --port N [--host ADDRESS] [--body-size BYTES]\n";
    return 2;
  }
  static const std::string body(static_cast<std::size_t>(body_size), 'x');
  asio::io_context io;
  tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address(host), static_cast<unsigned short>(port)));
  for (;;) {
    tcp::socket s(io);
    beast::error_code ec;
    acc.accept(s, ec);
    if (ec) continue;
    std::thread(session, std::move(s), &body).detach();
  }
}

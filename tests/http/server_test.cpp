// http::Server: with connection loops, every request of a connection is handled on that
// connection's loop thread, and connections are spread over the loops; read timeouts end idle,
// silent and stalled connections (in both the loop and the strand mode).
#include "ecsd/http/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "ecsd/common/asio.hpp"
#include "ecsd/common/loop_thread.hpp"

namespace ecsd::http {
namespace {

using asio::ip::tcp;
namespace bhttp = beast::http;

std::string get(tcp::socket& s, beast::flat_buffer& buf) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(s, req);
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, buf, res);
  return res.body();
}

TEST(HttpServerTest, EachConnectionStaysOnOneLoopThreadAndConnectionsAreSpread) {
  asio::io_context io;
  LoopThread a, b;
  std::mutex mu;
  std::vector<std::thread::id> seen;
  Server server(io, "127.0.0.1", 0, [&](const protocol::WireRequest&) {
    std::lock_guard lock(mu);
    seen.push_back(std::this_thread::get_id());
    protocol::WireResponse r;
    r.content_type = "text/plain";
    r.body = "ok";
    return r;
  });
  server.run_connections_on({&a.io(), &b.io()});
  server.start();
  std::thread main_loop([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });
  const auto main_id = main_loop.get_id();

  asio::io_context client;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), server.port());
  tcp::socket first(client), second(client);
  first.connect(ep);
  beast::flat_buffer b1, b2;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(first, b1), "ok");
  second.connect(ep);
  EXPECT_EQ(get(second, b2), "ok");
  EXPECT_EQ(get(first, b1), "ok");

  server.stop();
  io.stop();
  main_loop.join();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 5u);
  for (int i : {0, 1, 2, 4}) EXPECT_EQ(seen[i], seen[0]) << "request " << i << " of the first connection";
  EXPECT_NE(seen[3], seen[0]) << "the second connection should be on the other loop";
  for (const auto& id : seen) {
    EXPECT_NE(id, main_id);
    EXPECT_TRUE(id == a.id() || id == b.id());
  }
}

// An answer larger than the socket's send buffer is written partly at once and the rest through
// the loop as the client reads: the client gets every byte, in order, and the connection stays
// usable.
TEST(HttpServerTest, AnswerLargerThanTheSendBufferArrivesWhole) {
  asio::io_context io;
  LoopThread loop;
  std::string big(32 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  Server server(io, "127.0.0.1", 0, [&](const protocol::WireRequest& req) {
    protocol::WireResponse r;
    r.content_type = "text/plain";
    r.body = req.target == "/big" ? big : "ok";
    return r;
  });
  server.run_connections_on({&loop.io()});
  server.start();
  std::thread main_loop([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });

  asio::io_context client;
  tcp::socket s(client);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/big", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(s, req);  // 32 MiB cannot fit the server's send buffer and this socket's receive
                        // buffer before this client reads: part of it goes through the loop
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(s, buf, parser);
  EXPECT_EQ(parser.get().body().size(), big.size());
  EXPECT_TRUE(parser.get().body() == big);
  EXPECT_EQ(get(s, buf), "ok");

  server.stop();
  io.stop();
  main_loop.join();
}

// Seconds until the server closes `s` (a read sees end of stream or a reset), at most `limit`.
double seconds_until_closed(tcp::socket& s, double limit) {
  auto start = std::chrono::steady_clock::now();
  s.non_blocking(true);
  char c;
  while (true) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > limit) return elapsed;
    beast::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (ec) return elapsed;  // eof or reset
  }
}

class HttpServerTimeoutTest : public ::testing::TestWithParam<bool> {};

TEST_P(HttpServerTimeoutTest, IdleSilentAndStalledConnectionsAreClosedAfterTheReadTimeout) {
  asio::io_context io;
  LoopThread loop;
  Limits limits;
  limits.read_timeout_seconds = 1;
  Server server(io, "127.0.0.1", 0, [&](const protocol::WireRequest&) {
    protocol::WireResponse r;
    r.content_type = "text/plain";
    r.body = "ok";
    return r;
  }, limits);
  if (GetParam()) server.run_connections_on({&loop.io()});
  server.start();
  std::thread main_loop([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });

  asio::io_context client;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), server.port());
  tcp::socket silent(client), stalled(client), idle(client), busy(client);
  silent.connect(ep);                                              // sends nothing
  stalled.connect(ep);
  asio::write(stalled, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));  // never finishes
  idle.connect(ep);
  beast::flat_buffer buf;
  EXPECT_EQ(get(idle, buf), "ok");                                 // then waits, keep-alive
  busy.connect(ep);
  beast::flat_buffer busy_buf;
  // A connection that keeps asking is not cut: 12 requests 200 ms apart span the timeout twice.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(get(busy, busy_buf), "ok") << "request " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Each of the others goes within the timeout plus the sweep's second (and some slack).
  EXPECT_LT(seconds_until_closed(silent, 6), 5);
  EXPECT_LT(seconds_until_closed(stalled, 6), 5);
  EXPECT_LT(seconds_until_closed(idle, 6), 5);

  server.stop();
  io.stop();
  main_loop.join();
}

INSTANTIATE_TEST_SUITE_P(LoopsAndStrands, HttpServerTimeoutTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "ConnectionLoops" : "Strands"; });

}  // namespace
}  // namespace ecsd::http

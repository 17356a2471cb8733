// A fake Docker Engine for DockerClient tests: a tiny HTTP/1.1 server on a unix socket in a temp
// dir that records every request and answers with canned responses (plain, chunked, or a
// scripted stream). Plain POSIX sockets, one thread per connection; no Beast, to keep tests cheap.
#pragma once
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace ecsd::testing {

/// One request as the fake engine received it.
struct FakeRequest {
  std::string method;
  std::string target;  // path and query, e.g. "/v1.41/containers/json?all=1"
  std::string path;    // target before '?'
  std::string query;   // target after '?'
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  /// @return the url-decoded value of query parameter `name` ("" when absent).
  std::string param(const std::string& name) const {
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t end = query.find('&', pos);
      if (end == std::string::npos) end = query.size();
      std::string pair = query.substr(pos, end - pos);
      size_t eq = pair.find('=');
      if (decode(pair.substr(0, eq)) == name) return eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
      pos = end + 1;
    }
    return "";
  }
  bool has_param(const std::string& name) const {
    return ("&" + query).find("&" + name + "=") != std::string::npos;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }

  static std::string decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }
};

/// The response side of a streamed (chunked) reply, handed to FakeResponse::stream.
class FakeStream {
 public:
  explicit FakeStream(int fd) : fd_(fd) {}
  /// Sends `data` as one chunk. @return false when the client has gone.
  bool chunk(const std::string& data) {
    if (data.empty()) return true;
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return write_all(fd_, size) && write_all(fd_, data) && write_all(fd_, "\r\n");
  }
  /// Waits until the client closes its end (reads EOF). @return false on timeout.
  bool wait_client_close(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[256];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (::poll(&p, 1, std::max(left, 1)) > 0) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
          client_closed_ = true;
          return true;
        }
      }
    }
    return false;
  }
  bool client_closed() const { return client_closed_; }

  static bool write_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  bool client_closed_ = false;
};

/// A canned answer. With `chunks` or `stream` the body is sent with chunked transfer encoding.
struct FakeResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> chunks;
  std::function<void(FakeStream&)> stream;  // runs after the headers; the final chunk follows
  std::chrono::milliseconds delay{0};       // before anything is written (a slow engine)

  static FakeResponse json(int status, const nlohmann::json& j) {
    FakeResponse r;
    r.status = status;
    r.body = j.dump();
    return r;
  }
  /// The engine's error shape: {"message": "..."}.
  static FakeResponse message(int status, const std::string& msg) { return json(status, {{"message", msg}}); }
  static FakeResponse empty(int status) {
    FakeResponse r;
    r.status = status;
    return r;
  }
};

class FakeEngine {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  FakeEngine() {
    char tmpl[] = "/tmp/ecsd-fake-engine-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    socket_path_ = dir_ + "/docker.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof addr.sun_path - 1);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error(std::string("fake engine: cannot listen: ") + std::strerror(errno));
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~FakeEngine() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  const std::string& socket_path() const { return socket_path_; }

  /// Answers every request with `handler` (default: 404 "page not found").
  void set_handler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  /// Answers every request with the same response.
  void always(FakeResponse response) {
    set_handler([response](const FakeRequest&) { return response; });
  }

  std::vector<FakeRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  FakeRequest last_request() const {
    std::lock_guard lock(mu_);
    return requests_.empty() ? FakeRequest{} : requests_.back();
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard lock(mu_);
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    FakeRequest req;
    if (read_request(fd, req)) {
      Handler handler;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
        handler = handler_;
      }
      FakeResponse res = handler ? handler(req) : FakeResponse::message(404, "page not found");
      if (res.delay.count() > 0) std::this_thread::sleep_for(res.delay);
      write_response(fd, res);
    }
    {
      std::lock_guard lock(mu_);
      open_fds_.erase(fd);
    }
    ::close(fd);
  }

  static bool read_request(int fd, FakeRequest& req) {
    std::string data;
    char buf[4096];
    size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    std::string head = data.substr(0, header_end);
    req.body = data.substr(header_end + 4);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        req.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next;
    }
    size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    while (req.body.size() < length) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      req.body.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  static void write_response(int fd, const FakeResponse& res) {
    std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + reason(res.status) + "\r\n";
    head += "Api-Version: 1.41\r\nServer: Docker/20.10.24 (linux)\r\nConnection: close\r\n";
    bool no_body = res.status == 204 || res.status == 304;
    bool chunked = !res.chunks.empty() || res.stream;
    if (!no_body) head += "Content-Type: " + res.content_type + "\r\n";
    if (chunked)
      head += "Transfer-Encoding: chunked\r\n";
    else if (!no_body)
      head += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    head += "\r\n";
    if (!FakeStream::write_all(fd, head)) return;
    if (!chunked) {
      if (!no_body) FakeStream::write_all(fd, res.body);
      return;
    }
    FakeStream stream(fd);
    for (const auto& c : res.chunks)
      if (!stream.chunk(c)) return;
    if (res.stream) res.stream(stream);
    if (!stream.client_closed()) FakeStream::write_all(fd, "0\r\n\r\n");
  }

  static const char* reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 201: return "Created";
      case 204: return "No Content";
      case 304: return "Not Modified";
      case 400: return "Bad Request";
      case 403: return "Forbidden";
      case 404: return "Not Found";
      case 409: return "Conflict";
      case 500: return "Internal Server Error";
      default: return "Status";
    }
  }

  std::string dir_, socket_path_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<FakeRequest> requests_;
  std::vector<std::thread> workers_;
  std::set<int> open_fds_;
};

}  // namespace ecsd::testing

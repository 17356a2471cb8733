// Engine API wire mapping: ContainerSpec to a create body, inspect/event JSON to our types, image
// references, query encoding, log demultiplexing and error classification. No I/O, no Beast.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "ecsd/common/clock.hpp"
#include "ecsd/runtime/docker/docker_client.hpp"

namespace ecsd::runtime::docker {

using nlohmann::json;

namespace {

// Engine JSON often has null where we expect an object or a string; read leniently.
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

bool flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  for (auto it = j.begin(); j.is_object() && it != j.end(); ++it)
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  return out;
}

json string_array(const std::vector<std::string>& v) { return json(v); }

std::int64_t nanoseconds(double seconds) { return static_cast<std::int64_t>(std::llround(seconds * 1e9)); }

/// True for a network that NetworkingConfig can configure (not a built-in mode).
bool user_defined_network(const std::string& mode) {
  return !mode.empty() && mode != "bridge" && mode != "host" && mode != "none" && mode != "default" &&
         mode.rfind("container:", 0) != 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains_any(const std::string& haystack, std::initializer_list<const char*> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](const char* n) { return haystack.find(n) != std::string::npos; });
}

}  // namespace

json create_body(const ContainerSpec& spec) {
  json body = {{"Image", spec.image}};
  if (spec.entrypoint) body["Entrypoint"] = string_array(*spec.entrypoint);
  if (spec.cmd) body["Cmd"] = string_array(*spec.cmd);
  if (!spec.env.empty()) body["Env"] = string_array(spec.env);
  if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
  if (!spec.user.empty()) body["User"] = spec.user;
  if (!spec.hostname.empty()) body["Hostname"] = spec.hostname;
  body["Labels"] = spec.labels;
  body["StopTimeout"] = spec.stop_timeout_seconds;
  if (!spec.stop_signal.empty()) body["StopSignal"] = spec.stop_signal;
  if (spec.health) {
    body["Healthcheck"] = {{"Test", string_array(spec.health->test)},
                           {"Interval", nanoseconds(spec.health->interval_seconds)},
                           {"Timeout", nanoseconds(spec.health->timeout_seconds)},
                           {"StartPeriod", nanoseconds(spec.health->start_period_seconds)},
                           {"Retries", spec.health->retries}};
  }

  json host = json::object();
  if (spec.cpu_shares > 0) host["CpuShares"] = spec.cpu_shares;
  if (spec.memory_bytes > 0) host["Memory"] = spec.memory_bytes;
  if (spec.memory_reservation_bytes > 0) host["MemoryReservation"] = spec.memory_reservation_bytes;
  if (!spec.ports.empty()) {
    json exposed = json::object(), bindings = json::object();
    for (const auto& p : spec.ports) {
      // "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]; an empty HostPort asks for a dynamic port.
      std::string key = std::to_string(p.container_port) + "/" + (p.protocol.empty() ? "tcp" : p.protocol);
      exposed[key] = json::object();
      bindings[key].push_back(
          {{"HostIp", p.host_ip}, {"HostPort", p.host_port > 0 ? std::to_string(p.host_port) : std::string()}});
    }
    body["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }
  if (!spec.network_mode.empty()) host["NetworkMode"] = spec.network_mode;
  if (!spec.binds.empty()) host["Binds"] = string_array(spec.binds);
  if (!spec.volumes_from.empty()) host["VolumesFrom"] = string_array(spec.volumes_from);
  if (!spec.links.empty()) host["Links"] = string_array(spec.links);
  if (!spec.extra_hosts.empty()) host["ExtraHosts"] = string_array(spec.extra_hosts);
  if (!spec.dns_servers.empty()) host["Dns"] = string_array(spec.dns_servers);
  if (!spec.dns_search.empty()) host["DnsSearch"] = string_array(spec.dns_search);
  if (!spec.ulimits.empty()) {
    json ulimits = json::array();
    for (const auto& u : spec.ulimits) ulimits.push_back({{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});
    host["Ulimits"] = ulimits;
  }
  if (!spec.cap_add.empty()) host["CapAdd"] = string_array(spec.cap_add);
  if (!spec.cap_drop.empty()) host["CapDrop"] = string_array(spec.cap_drop);
  if (spec.readonly_rootfs) host["ReadonlyRootfs"] = true;
  if (spec.privileged) host["Privileged"] = true;
  if (spec.init) host["Init"] = true;
  if (!spec.log_driver.empty() || !spec.log_options.empty())
    host["LogConfig"] = {{"Type", spec.log_driver}, {"Config", spec.log_options}};
  if (!spec.sysctls.empty()) host["Sysctls"] = spec.sysctls;
  if (spec.shm_size_bytes > 0) host["ShmSize"] = spec.shm_size_bytes;
  body["HostConfig"] = host;

  if (user_defined_network(spec.network_mode)) {
    json endpoint = json::object();
    if (!spec.ipv4_address.empty()) endpoint["IPAMConfig"] = {{"IPv4Address", spec.ipv4_address}};
    if (!spec.network_aliases.empty()) endpoint["Aliases"] = string_array(spec.network_aliases);
    body["NetworkingConfig"] = {{"EndpointsConfig", {{spec.network_mode, endpoint}}}};
  }
  return body;
}

double parse_engine_time(const std::string& s) {
  // Unset times are Go's zero time, "0001-01-01T00:00:00Z".
  if (s.empty() || s.rfind("0001-", 0) == 0) return 0;
  double t = 0;
  return parse_iso8601(s, t) && t > 0 ? t : 0;
}

ContainerState parse_inspect(const json& j) {
  ContainerState st;
  st.id = str(j, "Id");
  st.name = str(j, "Name");
  if (!st.name.empty() && st.name.front() == '/') st.name.erase(0, 1);
  const json& config = obj(j, "Config");
  st.image = str(config, "Image");
  st.image_id = str(j, "Image");
  st.labels = string_map(obj(config, "Labels"));

  const json& state = obj(j, "State");
  st.status = str(state, "Status");
  st.exit_code = static_cast<int>(num(state, "ExitCode"));
  st.oom_killed = flag(state, "OOMKilled");
  st.error = str(state, "Error");
  st.health = str(obj(state, "Health"), "Status");
  st.started_at = parse_engine_time(str(state, "StartedAt"));
  st.finished_at = parse_engine_time(str(state, "FinishedAt"));
  st.pid = static_cast<int>(num(state, "Pid"));

  const json& net = obj(j, "NetworkSettings");
  // "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49153"}], "81/tcp": null}
  const json& ports = obj(net, "Ports");
  for (auto it = ports.begin(); it != ports.end(); ++it) {
    if (!it->is_array()) continue;  // exposed but not published
    const std::string& key = it.key();
    auto slash = key.find('/');
    PortBinding base;
    base.container_port = std::atoi(key.substr(0, slash).c_str());
    base.protocol = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    for (const auto& b : *it) {
      PortBinding p = base;
      p.host_ip = str(b, "HostIp");
      p.host_port = std::atoi(str(b, "HostPort").c_str());
      st.ports.push_back(p);
    }
  }
  const json& networks = obj(net, "Networks");
  for (auto it = networks.begin(); it != networks.end(); ++it) {
    std::string ip = it->is_object() ? str(*it, "IPAddress") : std::string();
    if (!ip.empty()) st.network_ips[it.key()] = ip;
  }
  return st;
}

ContainerState parse_summary(const json& j) {
  // {"Id": "...", "Names": ["/ecs-web-1"], "Image": "busybox:latest", "ImageID": "sha256:...",
  //  "Labels": {...}, "State": "running", "Status": "Up 2 minutes", ...}
  ContainerState st;
  st.id = str(j, "Id");
  if (j.contains("Names") && j["Names"].is_array() && !j["Names"].empty() && j["Names"][0].is_string())
    st.name = j["Names"][0].get<std::string>();
  if (!st.name.empty() && st.name.front() == '/') st.name.erase(0, 1);
  st.image = str(j, "Image");
  st.image_id = str(j, "ImageID");
  st.labels = string_map(obj(j, "Labels"));
  st.status = str(j, "State");
  return st;
}

Event parse_event(const json& j) {
  Event e;
  std::string type = str(j, "Type");
  if (!type.empty() && type != "container") return e;
  const json& actor = obj(j, "Actor");
  e.container_id = str(actor, "ID");
  if (e.container_id.empty()) e.container_id = str(j, "id");
  e.action = str(j, "Action");
  if (e.action.empty()) e.action = str(j, "status");
  // Attributes are the container's labels plus "image", "name", "exitCode" and the like.
  e.labels = string_map(obj(actor, "Attributes"));
  return e;
}

ImageRef split_image_ref(const std::string& image) {
  ImageRef ref;
  std::string name = image;
  std::string digest;
  if (auto at = name.find('@'); at != std::string::npos) {
    digest = name.substr(at + 1);
    name.erase(at);
  }
  // A tag is a ':' after the last '/', so a registry port (127.0.0.1:5000/app) is not one.
  std::string tag;
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = name.substr(colon + 1);
    name.erase(colon);
  }
  ref.from_image = name;
  ref.tag = !digest.empty() ? digest : !tag.empty() ? tag : "latest";
  return ref;
}

std::string registry_auth_header(const RegistryAuth& auth) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string in = json{{"username", auth.username}, {"password", auth.password}, {"serveraddress", auth.server}}.dump();
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string label_filters(const std::vector<std::string>& labels, const std::string& type) {
  json f = json::object();
  if (!type.empty()) f["type"] = {type};
  if (!labels.empty()) f["label"] = labels;
  return f.dump();
}

std::string url_encode(std::string_view s, bool keep_path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_path && (c == '/' || c == ':' || c == '@'))) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string demux_logs(std::string_view raw) {
  // Each frame: [stream 0|1|2][0 0 0][size uint32 big-endian] then `size` bytes of payload.
  auto is_header = [&](size_t pos) {
    return pos + 8 <= raw.size() && static_cast<unsigned char>(raw[pos]) <= 2 && raw[pos + 1] == 0 &&
           raw[pos + 2] == 0 && raw[pos + 3] == 0;
  };
  if (!is_header(0)) return std::string(raw);  // a TTY container's log is not multiplexed
  std::string out;
  size_t pos = 0;
  while (is_header(pos)) {
    std::uint32_t size = 0;
    for (size_t i = 4; i < 8; ++i) size = (size << 8) | static_cast<unsigned char>(raw[pos + i]);
    pos += 8;
    size_t n = std::min<size_t>(size, raw.size() - pos);
    out.append(raw.substr(pos, n));
    pos += n;
  }
  return out;
}

std::int64_t parse_time_ns(std::string_view s) {
  // 2026-01-02T03:04:05.123456789Z (fraction optional, 1-9 digits; Z or +hh:mm).
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return -1;
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  int year = num(0, 4), mon = num(5, 2), day = num(8, 2), h = num(11, 2), mi = num(14, 2), sec = num(17, 2);
  if (year < 0 || mon < 1 || day < 1 || h < 0 || mi < 0 || sec < 0) return -1;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::int64_t frac = 0;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    for (; digits < 9; ++digits) frac *= 10;
  }
  std::int64_t offset = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-') && pos + 6 <= s.size()) {
    int oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (oh < 0 || om < 0) return -1;
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (pos >= s.size() || s[pos] != 'Z') {
    return -1;
  }
  return (static_cast<std::int64_t>(timegm(&tm)) - offset) * 1000000000LL + frac;
}

std::string first_host_address(const std::string& cidr) {
  unsigned a, b, c, d, bits;
  char tail;
  if (std::sscanf(cidr.c_str(), "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &bits, &tail) != 5 || a > 255 || b > 255 ||
      c > 255 || d > 255 || bits > 30)
    return "";
  std::uint32_t ip = (a << 24) | (b << 16) | (c << 8) | d;
  std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  ip = (ip & mask) + 1;
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
         "." + std::to_string(ip & 255);
}

std::string since_param(std::int64_t ns) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(ns / 1000000000LL),
                static_cast<long long>(ns % 1000000000LL));
  return buf;
}

void LogStreamDecoder::feed(std::string_view data, std::vector<LogLine>& out) {
  buffer_.append(data);
  if (mode_ == 0 && !buffer_.empty()) {
    if (buffer_.size() < 8 && static_cast<unsigned char>(buffer_[0]) <= 2) return;  // wait for a whole header
    bool header = static_cast<unsigned char>(buffer_[0]) <= 2 && buffer_[1] == 0 && buffer_[2] == 0 && buffer_[3] == 0;
    mode_ = header ? 1 : 2;
  }
  std::size_t pos = 0;
  if (mode_ == 2) {
    payload(false, buffer_, out);
    pos = buffer_.size();
  } else {
    // Each frame: [stream 0|1|2][0 0 0][size uint32 big-endian] then `size` bytes of payload.
    while (buffer_.size() - pos >= 8) {
      std::uint32_t size = 0;
      for (std::size_t i = 4; i < 8; ++i) size = (size << 8) | static_cast<unsigned char>(buffer_[pos + i]);
      if (buffer_.size() - pos - 8 < size) break;
      bool is_stderr = buffer_[pos] == 2;
      std::string_view frame = std::string_view(buffer_).substr(pos + 8, size);
      if (!pending_[is_stderr ? 1 : 0].empty()) {
        // The rest of a line the engine split: drop this piece's own timestamp.
        auto sp = frame.find(' ');
        if (sp != std::string_view::npos && parse_time_ns(frame.substr(0, sp)) >= 0) frame.remove_prefix(sp + 1);
      }
      payload(is_stderr, frame, out);
      pos += 8 + size;
    }
  }
  buffer_.erase(0, pos);
}

void LogStreamDecoder::payload(bool is_stderr, std::string_view text, std::vector<LogLine>& out) {
  std::string& pending = pending_[is_stderr ? 1 : 0];
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      pending.append(text);
      return;
    }
    pending.append(text.substr(0, nl));
    emit(is_stderr, pending, out);
    text.remove_prefix(nl + 1);
  }
}

void LogStreamDecoder::emit(bool is_stderr, std::string& pending, std::vector<LogLine>& out) {
  // "<RFC 3339 timestamp> <text>"; a line split by the engine (over 16 KiB) carries a timestamp
  // per piece: the pieces after the first are joined without theirs.
  LogLine line;
  line.is_stderr = is_stderr;
  std::string_view rest(pending);
  auto sp = rest.find(' ');
  std::int64_t ts = sp == std::string_view::npos ? -1 : parse_time_ns(rest.substr(0, sp));
  if (ts >= 0) {
    line.ts_ns = ts;
    rest.remove_prefix(sp + 1);
  }
  line.text = std::string(rest);
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  out.push_back(std::move(line));
  pending.clear();
}

void LogStreamDecoder::finish(std::vector<LogLine>& out) {
  if (mode_ == 2 && !buffer_.empty()) payload(false, buffer_, out);
  buffer_.clear();
  for (int i = 0; i < 2; ++i)
    if (!pending_[i].empty()) emit(i == 1, pending_[i], out);
}

RuntimeError::Kind error_kind(int status, const std::string& message) {
  switch (status) {
    case 404: return RuntimeError::Kind::NotFound;
    case 403:  // e.g. "Pool overlaps with other one on this address space", "has active endpoints"
    case 409: return RuntimeError::Kind::Conflict;
    case 400: return RuntimeError::Kind::Invalid;
    case 502:
    case 503:
    case 504: return RuntimeError::Kind::Unavailable;
    default: break;
  }
  // A pull that fails before streaming reports an unreachable registry as a plain 500.
  if (status == 500 && pull_error_kind(message) == RuntimeError::Kind::Unavailable)
    return RuntimeError::Kind::Unavailable;
  return RuntimeError::Kind::Internal;
}

RuntimeError::Kind pull_error_kind(const std::string& message) {
  std::string m = lower(message);
  if (contains_any(m, {"not found", "manifest unknown", "pull access denied", "repository does not exist",
                       "no such image", "name unknown"}))
    return RuntimeError::Kind::NotFound;
  if (contains_any(m, {"connection refused", "no such host", "i/o timeout", "network is unreachable",
                       "dial tcp", "tls handshake timeout", "server misbehaving", "temporary failure",
                       "context deadline exceeded", "connection reset"}))
    return RuntimeError::Kind::Unavailable;
  return RuntimeError::Kind::Internal;
}

}  // namespace ecsd::runtime::docker

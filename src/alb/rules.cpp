// ALB rule matching, matchers and redirects.
#include "ecsd/alb/rules.hpp"

#include <cctype>

#include "ecsd/protocol/aws_query.hpp"

namespace ecsd::alb {

using nlohmann::json;

bool wildcard_match(std::string_view p, std::string_view s, bool ci) {
  // Iterative matcher with backtracking to the last '*': linear in practice, no recursion.
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  auto eq = [ci](char a, char b) {
    return ci ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)) : a == b;
  };
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], s[si])))) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {

std::vector<std::string> values_of(const json& cond, const char* config) {
  std::vector<std::string> out;
  const json& v = cond.contains(config) ? cond[config].value("Values", json::array()) : cond.value("Values", json::array());
  for (const auto& x : v)
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

bool any(const std::vector<std::string>& patterns, std::string_view s, bool ci) {
  for (const auto& p : patterns)
    if (wildcard_match(p, s, ci)) return true;
  return false;
}

}  // namespace

bool matches(const json& conditions, const RequestFacts& r) {
  if (!conditions.is_array()) return true;
  for (const auto& c : conditions) {
    std::string field = c.value("Field", "");
    bool ok = true;
    if (field == "path-pattern") {
      ok = any(values_of(c, "PathPatternConfig"), r.path, false);
    } else if (field == "host-header") {
      std::string host = r.host.substr(0, r.host.find(':'));
      ok = any(values_of(c, "HostHeaderConfig"), host, true);
    } else if (field == "http-request-method") {
      ok = any(values_of(c, "HttpRequestMethodConfig"), r.method, false);
    } else if (field == "http-header") {
      const json& cfg = c.value("HttpHeaderConfig", json::object());
      std::string name = cfg.value("HttpHeaderName", "");
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      auto it = r.headers.find(name);
      ok = it != r.headers.end() && any(values_of(c, "HttpHeaderConfig"), it->second, true);
    } else if (field == "query-string") {
      auto params = protocol::parse_form(r.query);
      ok = false;
      for (const auto& kv : c.value("QueryStringConfig", json::object()).value("Values", json::array())) {
        std::string key = kv.value("Key", ""), value = kv.value("Value", "");
        for (const auto& [k, v] : params)
          if ((key.empty() || wildcard_match(key, k, true)) && wildcard_match(value, v, true)) ok = true;
      }
    } else if (field == "source-ip") {
      ok = false;  // CIDR matching of the client address: loopback clients match 127.0.0.0/8 only
      for (const auto& cidr : values_of(c, "SourceIpConfig"))
        if (cidr.rfind("0.0.0.0/0", 0) == 0 || (cidr.rfind("127.", 0) == 0 && r.source_ip.rfind("127.", 0) == 0))
          ok = true;
    }
    if (!ok) return false;
  }
  return true;
}

bool status_matches(const std::string& http_code, int status) {
  std::size_t pos = 0;
  while (pos <= http_code.size()) {
    auto comma = http_code.find(',', pos);
    std::string part = http_code.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto dash = part.find('-');
    try {
      if (dash == std::string::npos) {
        if (!part.empty() && std::stoi(part) == status) return true;
      } else if (status >= std::stoi(part.substr(0, dash)) && status <= std::stoi(part.substr(dash + 1))) {
        return true;
      }
    } catch (...) {
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

std::string redirect_location(const json& rc, const RequestFacts& r, const std::string& protocol, int port) {
  auto subst = [&](std::string v) {
    auto rep = [&](const std::string& key, const std::string& val) {
      for (auto p = v.find(key); p != std::string::npos; p = v.find(key, p + val.size())) v.replace(p, key.size(), val);
    };
    std::string host = r.host.substr(0, r.host.find(':'));
    rep("#{protocol}", protocol == "HTTPS" ? "https" : "http");
    rep("#{host}", host);
    rep("#{port}", std::to_string(port));
    rep("#{path}", r.path.empty() ? "/" : r.path.substr(1));
    rep("#{query}", r.query);
    return v;
  };
  std::string proto = subst(rc.value("Protocol", "#{protocol}"));
  std::transform(proto.begin(), proto.end(), proto.begin(), ::tolower);
  std::string host = subst(rc.value("Host", "#{host}"));
  std::string p = subst(rc.value("Port", "#{port}"));
  std::string path = subst(rc.value("Path", "/#{path}"));
  std::string query = subst(rc.value("Query", "#{query}"));
  std::string loc = proto + "://" + host;
  if (!((proto == "http" && p == "80") || (proto == "https" && p == "443"))) loc += ":" + p;
  loc += path.empty() || path[0] != '/' ? "/" + path : path;
  if (!query.empty()) loc += "?" + query;
  return loc;
}

}  // namespace ecsd::alb

// Protocol-neutral HTTP request/response values passed between the HTTP layer and the
// API dispatcher, so the codecs and handlers never see Beast types.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ecsd::protocol {

struct WireRequest {
  std::string method;                          // "POST"
  std::string target;                          // request-target, e.g. "/" or "/?Action=..."
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct WireResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace ecsd::protocol

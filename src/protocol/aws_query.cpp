// awsQuery / ec2 codec, driven entirely by the service model.
#include "ecsd/protocol/aws_query.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/protocol/validator.hpp"
#include "ecsd/protocol/xml_writer.hpp"

namespace ecsd::protocol {

using model::Type;
using nlohmann::json;

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

FormParams parse_form(std::string_view body) {
  FormParams out;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) out[url_decode(pair)] = "";
    else out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
  }
  return out;
}

namespace {

struct Decoder {
  const model::Service& svc;
  const FormParams& params;
  bool ec2;
  std::vector<std::string> problems;

  // Is there any parameter at `p` or below it?
  bool present(const std::string& p) const {
    auto it = params.lower_bound(p);
    if (it == params.end()) return false;
    if (it->first == p) return true;
    return it->first.size() > p.size() && it->first.compare(0, p.size(), p) == 0 && it->first[p.size()] == '.';
  }

  std::string member_key(const model::Member& m) const {
    if (!ec2) return m.location_name.empty() ? m.name : m.location_name;
    if (!m.query_name.empty()) return m.query_name;
    if (!m.location_name.empty()) {
      std::string s = m.location_name;
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
      return s;
    }
    return m.name;
  }

  json scalar(const model::Shape& sh, const std::string& p, const std::string& raw) {
    auto bad = [&](const char* what) {
      problems.push_back("Value '" + raw + "' at '" + p + "' failed to satisfy constraint: Member must be " + what);
      return json();
    };
    switch (sh.type) {
      case Type::Integer:
      case Type::Long: {
        char* end = nullptr;
        long long v = std::strtoll(raw.c_str(), &end, 10);
        if (raw.empty() || *end) return bad("an integer");
        return v;
      }
      case Type::Double:
      case Type::Float: {
        char* end = nullptr;
        double v = std::strtod(raw.c_str(), &end);
        if (raw.empty() || *end || !std::isfinite(v)) return bad("a number");
        return v;
      }
      case Type::Boolean:
        if (raw == "true") return true;
        if (raw == "false") return false;
        return bad("a boolean");
      case Type::Timestamp: {
        double t;
        if (parse_iso8601(raw, t)) return t;
        char* end = nullptr;
        t = std::strtod(raw.c_str(), &end);
        if (raw.empty() || *end) return bad("a timestamp");
        return t;
      }
      default:
        return raw;
    }
  }

  json value(int shape_idx, const std::string& p) {
    const auto& sh = svc.shape(shape_idx);
    switch (sh.type) {
      case Type::Structure: {
        json out = json::object();
        for (const auto& m : sh.members) {
          std::string key = p.empty() ? member_key(m) : p + "." + member_key(m);
          if (present(key)) out[m.name] = value(m.shape, key);
        }
        return out;
      }
      case Type::List: {
        json out = json::array();
        std::string base = p;
        if (!ec2 && !sh.flattened) base += "." + (sh.member_location_name.empty() ? std::string("member") : sh.member_location_name);
        for (std::size_t n = 1; n <= params.size(); ++n) {
          std::string key = base + "." + std::to_string(n);
          if (!present(key)) break;
          out.push_back(value(sh.member, key));
        }
        return out;
      }
      case Type::Map: {
        json out = json::object();
        std::string base = sh.flattened || ec2 ? p : p + ".entry";
        std::string kn = sh.key_location_name.empty() ? "key" : sh.key_location_name;
        std::string vn = sh.value_location_name.empty() ? "value" : sh.value_location_name;
        for (std::size_t n = 1; n <= params.size(); ++n) {
          std::string key = base + "." + std::to_string(n);
          if (!present(key)) break;
          auto k = params.find(key + "." + kn);
          if (k == params.end()) continue;
          out[k->second] = present(key + "." + vn) ? value(sh.value, key + "." + vn) : json("");
        }
        return out;
      }
      default: {
        auto it = params.find(p);
        return it == params.end() ? json() : scalar(sh, p, it->second);
      }
    }
  }
};

struct Encoder {
  const model::Service& svc;
  bool ec2;
  XmlWriter& w;

  void scalar(const model::Shape& sh, std::string_view name, const json& v) {
    std::string text;
    if (v.is_string()) {
      text = v.get<std::string>();
      if (sh.type == Type::Timestamp) {
        double t;
        if (!parse_iso8601(text, t)) t = 0;
        text = iso8601(t);
      }
    } else if (v.is_boolean()) {
      text = v.get<bool>() ? "true" : "false";
    } else if (sh.type == Type::Timestamp && v.is_number()) {
      text = iso8601(v.get<double>());
    } else {
      text = v.dump();
    }
    w.text_element(name, text);
  }

  void value(int shape_idx, std::string_view name, const json& v) {
    const auto& sh = svc.shape(shape_idx);
    switch (sh.type) {
      case Type::Structure:
        w.open(name);
        members(sh, v);
        w.close(name);
        break;
      case Type::List: {
        if (!v.is_array()) return;
        std::string item = sh.member_location_name.empty() ? (ec2 ? "item" : "member") : sh.member_location_name;
        if (sh.flattened) {
          for (const auto& e : v) value(sh.member, name, e);
        } else {
          w.open(name);
          for (const auto& e : v) value(sh.member, item, e);
          w.close(name);
        }
        break;
      }
      case Type::Map: {
        if (!v.is_object()) return;
        std::string kn = sh.key_location_name.empty() ? "key" : sh.key_location_name;
        std::string vn = sh.value_location_name.empty() ? "value" : sh.value_location_name;
        if (!sh.flattened) w.open(name);
        for (auto it = v.begin(); it != v.end(); ++it) {
          w.open(sh.flattened ? name : std::string_view("entry"));
          w.text_element(kn, it.key());
          value(sh.value, vn, it.value());
          w.close(sh.flattened ? name : std::string_view("entry"));
        }
        if (!sh.flattened) w.close(name);
        break;
      }
      default:
        scalar(sh, name, v);
    }
  }

  void members(const model::Shape& sh, const json& v) {
    if (!v.is_object()) return;
    for (const auto& m : sh.members) {
      auto it = v.find(m.name);
      if (it == v.end() || it->is_null()) continue;
      value(m.shape, m.location_name.empty() ? m.name : m.location_name, *it);
    }
  }
};

}  // namespace

json decode_query(const model::Service& svc, const model::Operation& op, const FormParams& params,
                  const std::string& validation_code) {
  if (op.input < 0) return json::object();
  Decoder d{svc, params, svc.protocol == "ec2", {}};
  json in = d.value(op.input, "");
  if (d.problems.empty()) d.problems = validate(svc, op.input, in);
  if (!d.problems.empty()) throw ApiError(validation_code, validation_message(d.problems));
  return in;
}

std::string encode_query(const model::Service& svc, const model::Operation& op, const json& output,
                         const std::string& request_id) {
  bool ec2 = svc.protocol == "ec2";
  XmlWriter w;
  std::string root = op.name + "Response";
  w.open(root, svc.xml_namespace.empty() && ec2 ? "http://ec2.amazonaws.com/doc/" + svc.api_version + "/"
                                                : svc.xml_namespace);
  Encoder e{svc, ec2, w};
  if (ec2) {
    w.text_element("requestId", request_id);
    if (op.output >= 0) e.members(svc.shape(op.output), output);
  } else {
    if (op.output >= 0) {
      std::string wrapper = op.result_wrapper.empty() ? op.name + "Result" : op.result_wrapper;
      w.open(wrapper);
      e.members(svc.shape(op.output), output);
      w.close(wrapper);
    }
    w.open("ResponseMetadata");
    w.text_element("RequestId", request_id);
    w.close("ResponseMetadata");
  }
  w.close(root);
  return w.take();
}

std::string encode_query_error(const model::Service& svc, const std::string& code, const std::string& message,
                               bool sender_fault, const std::string& request_id) {
  XmlWriter w;
  if (svc.protocol == "ec2") {
    w.open("Response");
    w.open("Errors");
    w.open("Error");
    w.text_element("Code", code);
    w.text_element("Message", message);
    w.close("Error");
    w.close("Errors");
    w.text_element("RequestID", request_id);
    w.close("Response");
    return w.take();
  }
  w.open("ErrorResponse", svc.xml_namespace);
  w.open("Error");
  w.text_element("Type", sender_fault ? "Sender" : "Receiver");
  w.text_element("Code", code);
  w.text_element("Message", message);
  w.close("Error");
  w.text_element("RequestId", request_id);
  w.close("ErrorResponse");
  return w.take();
}

}  // namespace ecsd::protocol

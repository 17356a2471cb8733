// awsJson codec, driven entirely by the service model.
#include "ecsd/protocol/aws_json.hpp"

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/protocol/validator.hpp"

namespace ecsd::protocol {

using model::Type;
using nlohmann::json;

json decode_json(const model::Service& svc, const model::Operation& op, std::string_view body,
                 const std::string& validation_code) {
  json in = json::object();
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (!blank) {
    in = json::parse(body.begin(), body.end(), nullptr, false);
    if (in.is_discarded()) throw ApiError("SerializationException", "Start of structure or map found where not expected.");
    if (!in.is_object()) throw ApiError("SerializationException", "Start of structure or map found where not expected.");
  }
  if (op.input < 0) return in;
  if (auto p = check_json_types(svc, op.input, in); !p.path.empty())
    throw ApiError("SerializationException",
                   "Unexpected value at '" + p.path + "': expected a " + p.expected + ".");
  if (auto problems = validate(svc, op.input, in); !problems.empty())
    throw ApiError(validation_code, validation_message(problems));
  return in;
}

json shape_json(const model::Service& svc, int shape_idx, const json& v) {
  const auto& sh = svc.shape(shape_idx);
  switch (sh.type) {
    case Type::Structure: {
      json out = json::object();
      if (!v.is_object()) return out;
      for (const auto& m : sh.members) {
        auto it = v.find(m.name);
        if (it == v.end() || it->is_null()) continue;
        out[m.name] = shape_json(svc, m.shape, *it);
      }
      return out;
    }
    case Type::List: {
      json out = json::array();
      if (v.is_array())
        for (const auto& e : v) out.push_back(shape_json(svc, sh.member, e));
      return out;
    }
    case Type::Map: {
      json out = json::object();
      if (v.is_object())
        for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = shape_json(svc, sh.value, it.value());
      return out;
    }
    case Type::Timestamp: {
      if (v.is_string()) {
        double t = 0;
        if (parse_iso8601(v.get<std::string>(), t)) return t;
      }
      return v;
    }
    default:
      return v;
  }
}

std::string encode_json(const model::Service& svc, const model::Operation& op, const json& output) {
  if (op.output < 0) return "{}";
  return shape_json(svc, op.output, output).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_json_error(const std::string& code, const std::string& message) {
  return json{{"__type", code}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ecsd::protocol

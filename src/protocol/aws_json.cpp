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

namespace {

// Writes `v` through a model shape straight into a string: the same JSON that building the shaped
// document and dumping it gave (keys in byte order, as nlohmann::json's std::map keeps them;
// strings escaped and invalid UTF-8 replaced by nlohmann's serializer; numbers as it prints them),
// without the intermediate document.
class ShapedWriter {
 public:
  ShapedWriter(const model::Service& svc, std::string& out)
      : svc_(svc), out_(out), ser_(nlohmann::detail::output_adapter<char>(out), ' ', json::error_handler_t::replace) {}

  void write(int shape_idx, const json& v) {
    const auto& sh = svc_.shape(shape_idx);
    switch (sh.type) {
      case Type::Structure: {
        out_ += '{';
        if (v.is_object()) {
          // v's keys and sh.by_name are both in byte order: one merge walk finds the members.
          bool first = true;
          auto it = v.begin();
          std::size_t k = 0;
          while (it != v.end() && k < sh.by_name.size()) {
            const model::Member& m = sh.members[static_cast<std::size_t>(sh.by_name[k])];
            int c = it.key().compare(m.name);
            if (c < 0) {
              ++it;
            } else if (c > 0) {
              ++k;
            } else {
              if (!it->is_null()) {
                if (!first) out_ += ',';
                first = false;
                out_ += '"';
                out_ += m.name;  // model member names are plain identifiers: nothing to escape
                out_ += "\":";
                write(m.shape, *it);
              }
              ++it;
              ++k;
            }
          }
        }
        out_ += '}';
        return;
      }
      case Type::List: {
        out_ += '[';
        if (v.is_array()) {
          bool first = true;
          for (const auto& e : v) {
            if (!first) out_ += ',';
            first = false;
            write(sh.member, e);
          }
        }
        out_ += ']';
        return;
      }
      case Type::Map: {
        out_ += '{';
        if (v.is_object()) {
          bool first = true;
          for (auto it = v.begin(); it != v.end(); ++it) {
            if (!first) out_ += ',';
            first = false;
            scalar(json(it.key()));
            out_ += ':';
            write(sh.value, it.value());
          }
        }
        out_ += '}';
        return;
      }
      case Type::Timestamp: {
        double t = 0;
        if (v.is_string() && parse_iso8601(v.get_ref<const std::string&>(), t)) return scalar(json(t));
        return scalar(v);
      }
      default:
        return scalar(v);
    }
  }

 private:
  void scalar(const json& v) { ser_.dump(v, false, false, 0); }

  const model::Service& svc_;
  std::string& out_;
  nlohmann::detail::serializer<json> ser_;
};

}  // namespace

std::string encode_json(const model::Service& svc, const model::Operation& op, const json& output) {
  if (op.output < 0) return "{}";
  std::string out;
  out.reserve(1024);
  ShapedWriter(svc, out).write(op.output, output);
  return out;
}

std::string encode_json_error(const std::string& code, const std::string& message) {
  return json{{"__type", code}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ecsd::protocol

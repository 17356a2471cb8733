// Loads botocore service-2.json models (embedded with .incbin) into compact Shape tables.
#include "ecsd/model/model.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace ecsd::model {

// ordered_json keeps members in model order, which the XML encoders must follow.
using json = nlohmann::ordered_json;

const Member* Shape::find_member(std::string_view n) const {
  auto it = std::lower_bound(by_name.begin(), by_name.end(), n,
                             [&](int i, std::string_view key) { return members[static_cast<std::size_t>(i)].name < key; });
  if (it == by_name.end() || members[static_cast<std::size_t>(*it)].name != n) return nullptr;
  return &members[static_cast<std::size_t>(*it)];
}

struct Service::Pending {
  std::once_flag once;
  std::string_view service_json, paginators_json;
};

Service::Service() = default;
Service::Service(Service&&) noexcept = default;
Service& Service::operator=(Service&&) noexcept = default;
Service::~Service() = default;

int Service::shape_index(std::string_view n) const {
  const auto& index = body().index;
  auto it = index.find(std::string(n));
  return it == index.end() ? -1 : it->second;
}

const Operation* Service::find_operation(std::string_view n) const {
  const auto& ops = body().operations;
  auto it = ops.find(std::string(n));
  return it == ops.end() ? nullptr : &it->second;
}

const Shape* Service::find_error(std::string_view code) const {
  const Body& b = body();
  auto it = b.errors.find(std::string(code));
  return it == b.errors.end() ? nullptr : &b.shapes[static_cast<std::size_t>(it->second)];
}

bool Service::loaded() const { return body_ != nullptr; }

namespace {

Type parse_type(const std::string& t) {
  static const std::unordered_map<std::string, Type> kTypes = {
      {"structure", Type::Structure}, {"list", Type::List},       {"map", Type::Map},
      {"string", Type::String},       {"integer", Type::Integer}, {"long", Type::Long},
      {"boolean", Type::Boolean},     {"double", Type::Double},   {"float", Type::Float},
      {"timestamp", Type::Timestamp}, {"blob", Type::Blob}};
  auto it = kTypes.find(t);
  if (it == kTypes.end()) throw std::runtime_error("unknown shape type " + t);
  return it->second;
}

std::string str_or(const json& j, const char* key, std::string def = {}) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}

// Drops documentation while parsing: it is most of every model's bytes.
json parse_without_docs(std::string_view text) {
  json::parser_callback_t cb = [](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::key && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      return k != "documentation" && k != "documentationUrl" && k != "examples";
    }
    return true;
  };
  return json::parse(text.begin(), text.end(), cb);
}

}  // namespace

namespace {

void read_metadata(Service& s, const json& md) {
  s.protocol = str_or(md, "protocol");
  s.api_version = str_or(md, "apiVersion");
  s.target_prefix = str_or(md, "targetPrefix");
  s.json_version = str_or(md, "jsonVersion");
  s.endpoint_prefix = str_or(md, "endpointPrefix");
  s.signing_name = str_or(md, "signingName", s.endpoint_prefix);
  s.xml_namespace = str_or(md, "xmlNamespace");
  s.service_id = str_or(md, "serviceId");
}

// The text of the top-level "metadata" object, found without parsing the whole model (botocore
// writes it before the operations and shapes); empty when it cannot be found.
std::string_view metadata_text(std::string_view text) {
  auto key = text.find("\"metadata\"");
  if (key == std::string_view::npos) return {};
  auto open = text.find('{', key);
  if (open == std::string_view::npos) return {};
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return text.substr(open, i - open + 1);
    }
  }
  return {};
}

}  // namespace

Service Service::load(std::string name, std::string_view service_json, std::string_view paginators_json) {
  json m = parse_without_docs(service_json);
  Service s;
  s.name = std::move(name);
  read_metadata(s, m.at("metadata"));
  s.body_ = parse_body(s.name, m, paginators_json);
  return s;
}

Service Service::deferred(std::string name, std::string_view service_json, std::string_view paginators_json) {
  Service s;
  s.name = std::move(name);
  std::string_view md = metadata_text(service_json);
  if (md.empty()) return load(std::move(s.name), service_json, paginators_json);
  read_metadata(s, json::parse(md.begin(), md.end()));
  s.pending_ = std::make_unique<Pending>();
  s.pending_->service_json = service_json;
  s.pending_->paginators_json = paginators_json;
  return s;
}

const Service::Body& Service::body() const {
  if (pending_) {
    std::call_once(pending_->once, [this] {
      body_ = parse_body(name, parse_without_docs(pending_->service_json), pending_->paginators_json);
    });
  }
  static const Body kEmpty;
  return body_ ? *body_ : kEmpty;
}

std::unique_ptr<Service::Body> Service::parse_body(const std::string& name, const nlohmann::ordered_json& m,
                                                   std::string_view paginators_json) {
  auto out = std::make_unique<Body>();
  Body& s = *out;
  const json& shapes = m.at("shapes");
  s.shapes.reserve(shapes.size());
  for (auto it = shapes.begin(); it != shapes.end(); ++it) {
    s.index.emplace(it.key(), static_cast<int>(s.shapes.size()));
    s.shapes.emplace_back().name = it.key();
  }
  auto ref = [&](const json& r) {
    auto it = s.index.find(r.at("shape").get<std::string>());
    if (it == s.index.end()) throw std::runtime_error("dangling shape reference in model " + name);
    return it->second;
  };
  for (auto it = shapes.begin(); it != shapes.end(); ++it) {
    const json& j = it.value();
    Shape& sh = s.shapes[static_cast<std::size_t>(s.index.at(it.key()))];
    sh.type = parse_type(j.at("type").get<std::string>());
    if (auto mn = j.find("min"); mn != j.end() && mn->is_number()) sh.min = mn->get<double>();
    if (auto mx = j.find("max"); mx != j.end() && mx->is_number()) sh.max = mx->get<double>();
    if (auto e = j.find("enum"); e != j.end()) sh.enum_values = e->get<std::vector<std::string>>();
    sh.pattern = str_or(j, "pattern");
    sh.timestamp_format = str_or(j, "timestampFormat");
    sh.flattened = j.value("flattened", false);
    sh.exception = j.value("exception", false);
    sh.fault = j.value("fault", false);
    if (sh.exception) {
      sh.error_code = sh.name;
      sh.error_status = sh.fault ? 500 : 400;
      if (auto e = j.find("error"); e != j.end()) {
        sh.error_code = str_or(*e, "code", sh.name);
        sh.error_status = e->value("httpStatusCode", sh.error_status);
        sh.sender_fault = e->value("senderFault", !sh.fault);
      }
      s.errors.emplace(sh.error_code, s.index.at(it.key()));
    }
    if (sh.type == Type::Structure) {
      std::vector<std::string> required;
      if (auto r = j.find("required"); r != j.end()) required = r->get<std::vector<std::string>>();
      for (auto mit = j.at("members").begin(); mit != j.at("members").end(); ++mit) {
        Member mem;
        mem.name = mit.key();
        mem.shape = ref(mit.value());
        mem.location_name = str_or(mit.value(), "locationName");
        mem.query_name = str_or(mit.value(), "queryName");
        mem.idempotency_token = mit.value().value("idempotencyToken", false);
        mem.xml_attribute = mit.value().value("xmlAttribute", false);
        mem.required = std::find(required.begin(), required.end(), mem.name) != required.end();
        sh.members.push_back(std::move(mem));
      }
      sh.by_name.resize(sh.members.size());
      for (std::size_t i = 0; i < sh.by_name.size(); ++i) sh.by_name[i] = static_cast<int>(i);
      std::sort(sh.by_name.begin(), sh.by_name.end(), [&](int a, int b) {
        return sh.members[static_cast<std::size_t>(a)].name < sh.members[static_cast<std::size_t>(b)].name;
      });
    } else if (sh.type == Type::List) {
      sh.member = ref(j.at("member"));
      sh.member_location_name = str_or(j.at("member"), "locationName");
    } else if (sh.type == Type::Map) {
      sh.key = ref(j.at("key"));
      sh.value = ref(j.at("value"));
      sh.key_location_name = str_or(j.at("key"), "locationName");
      sh.value_location_name = str_or(j.at("value"), "locationName");
    }
  }
  for (auto it = m.at("operations").begin(); it != m.at("operations").end(); ++it) {
    const json& j = it.value();
    Operation op;
    op.name = it.key();
    if (auto in = j.find("input"); in != j.end()) op.input = ref(*in);
    if (auto out = j.find("output"); out != j.end()) {
      op.output = ref(*out);
      op.result_wrapper = str_or(*out, "resultWrapper");
    }
    if (auto errs = j.find("errors"); errs != j.end())
      for (const auto& e : *errs) op.errors.push_back(ref(e));
    s.operations.emplace(op.name, std::move(op));
  }
  if (!paginators_json.empty()) {
    json p = json::parse(paginators_json.begin(), paginators_json.end());
    auto as_list = [](const json& v) {
      std::vector<std::string> out;
      if (v.is_string()) out.push_back(v.get<std::string>());
      else if (v.is_array())
        for (const auto& x : v) out.push_back(x.get<std::string>());
      return out;
    };
    const json pagination = p.value("pagination", json::object());
    for (auto it = pagination.begin(); it != pagination.end(); ++it) {
      Paginator pg;
      pg.input_token = as_list(it.value().value("input_token", json()));
      pg.output_token = as_list(it.value().value("output_token", json()));
      pg.result_keys = as_list(it.value().value("result_key", json()));
      pg.limit_key = it.value().value("limit_key", "");
      s.paginators.emplace(it.key(), std::move(pg));
    }
  }
  return out;
}

// --- embedded models (see CMakeLists.txt: embedded_models.S) ---
#define X(svc)                                            \
  extern "C" const char ecsd_model_##svc##_service[];     \
  extern "C" const char ecsd_model_##svc##_service_end[]; \
  extern "C" const char ecsd_model_##svc##_paginators[];  \
  extern "C" const char ecsd_model_##svc##_paginators_end[];
#include "embedded_models.inc"
#undef X

namespace {
struct Embedded {
  const char* name;
  std::string_view service, paginators;
};

const std::vector<Embedded>& embedded() {
  static const std::vector<Embedded> kAll = {
#define X(svc)                                                                                              \
  {#svc,                                                                                                    \
   std::string_view(ecsd_model_##svc##_service,                                                             \
                    static_cast<std::size_t>(ecsd_model_##svc##_service_end - ecsd_model_##svc##_service)), \
   std::string_view(ecsd_model_##svc##_paginators,                                                          \
                    static_cast<std::size_t>(ecsd_model_##svc##_paginators_end - ecsd_model_##svc##_paginators))},
#include "embedded_models.inc"
#undef X
  };
  return kAll;
}

struct Slot {
  std::once_flag once;
  std::unique_ptr<Service> service;
};
}  // namespace

const Service& get(std::string_view name) {
  static std::unordered_map<std::string, Slot> slots = [] {
    std::unordered_map<std::string, Slot> m;
    for (const auto& e : embedded()) m[e.name];
    return m;
  }();
  auto it = slots.find(std::string(name));
  if (it == slots.end()) throw std::out_of_range("no embedded model " + std::string(name));
  std::call_once(it->second.once, [&] {
    for (const auto& e : embedded())
      if (e.name == name) it->second.service = std::make_unique<Service>(Service::deferred(e.name, e.service, e.paginators));
  });
  return *it->second.service;
}

std::vector<std::string> embedded_names() {
  std::vector<std::string> out;
  for (const auto& e : embedded()) out.emplace_back(e.name);
  return out;
}

}  // namespace ecsd::model

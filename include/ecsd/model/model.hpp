// The botocore service models compiled into ecsd, loaded into compact shape tables.
//
// A Service owns a flat vector of Shapes; members refer to shapes by index. Documentation
// is dropped while parsing, so a loaded model costs a fraction of its JSON.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace ecsd::model {

enum class Type { Structure, List, Map, String, Integer, Long, Boolean, Double, Float, Timestamp, Blob };

struct Member {
  std::string name;           // model member name (JSON key)
  int shape = -1;             // index into Service::shapes
  std::string location_name;  // wire name override (query/xml)
  std::string query_name;     // ec2 protocol queryName
  bool required = false;
  bool idempotency_token = false;
  bool xml_attribute = false;
};

struct Shape {
  std::string name;
  Type type = Type::String;
  std::vector<Member> members;        // structures, in model order
  std::vector<int> by_name;           // structures: indexes into members, sorted by name
  int member = -1;                    // lists: element shape
  std::string member_location_name;   // lists: element name in XML ("member" by default)
  int key = -1, value = -1;           // maps
  std::string key_location_name, value_location_name;
  bool flattened = false;
  std::optional<double> min, max;
  std::vector<std::string> enum_values;
  std::string pattern;
  std::string timestamp_format;       // "iso8601", "unixTimestamp", ... when the model says
  bool exception = false, fault = false;
  std::string error_code;             // wire code (error.code, else the shape name)
  int error_status = 400;
  bool sender_fault = true;

  /// @return the member named `n`, or nullptr.
  const Member* find_member(std::string_view n) const;
};

struct Operation {
  std::string name;
  int input = -1, output = -1;
  std::string result_wrapper;         // query protocol output wrapper
  std::vector<int> errors;
};

struct Paginator {
  std::vector<std::string> input_token, output_token, result_keys;
  std::string limit_key;
};

class Service {
 public:
  std::string name;             // our short name: "ecs", "sts", ...
  std::string protocol;         // "json", "query", "ec2", "rest-json"
  std::string api_version;
  std::string target_prefix;    // awsJson only
  std::string json_version;
  std::string endpoint_prefix, signing_name, xml_namespace, service_id;

  Service();
  Service(Service&&) noexcept;
  Service& operator=(Service&&) noexcept;
  ~Service();

  const Shape& shape(int i) const { return body().shapes.at(static_cast<std::size_t>(i)); }
  /// @return the index of the shape named `n`, or -1.
  int shape_index(std::string_view n) const;
  /// @return the operation named `n`, or nullptr.
  const Operation* find_operation(std::string_view n) const;
  /// @return the exception shape whose wire code is `code`, or nullptr.
  const Shape* find_error(std::string_view code) const;
  const std::vector<Shape>& shapes() const { return body().shapes; }
  const std::unordered_map<std::string, Operation>& operations() const { return body().operations; }
  const std::unordered_map<std::string, Paginator>& paginators() const { return body().paginators; }
  /// @return whether shapes and operations have been parsed (always, unless deferred and unused).
  bool loaded() const;

  /// Builds a service from model JSON text (and optional paginators JSON text), all of it now.
  static Service load(std::string name, std::string_view service_json, std::string_view paginators_json = {});
  /// Reads only the metadata now (enough to route requests); shapes, operations and paginators are
  /// parsed on first use, thread-safely. The texts must outlive the service (embedded models do).
  static Service deferred(std::string name, std::string_view service_json, std::string_view paginators_json = {});

 private:
  struct Body {
    std::vector<Shape> shapes;
    std::unordered_map<std::string, Operation> operations;
    std::unordered_map<std::string, Paginator> paginators;
    std::unordered_map<std::string, int> index;
    std::unordered_map<std::string, int> errors;
  };
  struct Pending;
  const Body& body() const;
  static std::unique_ptr<Body> parse_body(const std::string& name, const nlohmann::ordered_json& model,
                                          std::string_view paginators_json);

  mutable std::unique_ptr<Body> body_;
  std::unique_ptr<Pending> pending_;
};

/// @return the embedded model of `name` ("ecs", "sts", "elbv2", "ecr", "logs", "ec2"): its metadata
///         read on first use, its shapes and operations parsed on first use of those (thread-safe). Throws std::out_of_range for an unknown name.
const Service& get(std::string_view name);
/// @return the names of all embedded models.
std::vector<std::string> embedded_names();

}  // namespace ecsd::model

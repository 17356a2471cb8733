// Filter pattern parsing and matching (syntax in log_filter.hpp).
#include "ecsd/domain/log_filter.hpp"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <regex>
#include <variant>

#include <nlohmann/json.hpp>

namespace ecsd::domain::logs {

using nlohmann::json;

namespace {

// --- JSON expressions --------------------------------------------------------------------

struct Step {
  std::string key;  // member name, or "" for an index
  long index = -1;
};

struct Comparison {
  std::vector<Step> selector;
  std::string op;  // = != < > <= >= IS_TRUE IS_FALSE IS_NULL NOT_EXISTS
  bool numeric = false;
  double number = 0;
  std::string text;
};

struct Node {
  enum class Kind { And, Or, Leaf } kind = Kind::Leaf;
  std::unique_ptr<Node> left, right;
  Comparison leaf;
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  std::unique_ptr<Node> parse() {
    skip();
    if (!eat("{")) fail("expected '{'");
    auto n = parse_or();
    skip();
    if (!eat("}")) fail("expected '}'");
    skip();
    if (pos_ != s_.size()) fail("unexpected text after '}'");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw FilterPatternError("Invalid filter pattern: " + what + " at position " + std::to_string(pos_) + ".");
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  bool eat_word(std::string_view word) {
    skip();
    if (s_.size() - pos_ < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(s_[pos_ + i])) != word[i]) return false;
    std::size_t end = pos_ + word.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    pos_ = end;
    return true;
  }
  std::unique_ptr<Node> parse_or() {
    auto left = parse_and();
    while (eat("||")) {
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::Or;
      n->left = std::move(left);
      n->right = parse_and();
      left = std::move(n);
    }
    return left;
  }
  std::unique_ptr<Node> parse_and() {
    auto left = parse_unary();
    while (eat("&&")) {
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::And;
      n->left = std::move(left);
      n->right = parse_unary();
      left = std::move(n);
    }
    return left;
  }
  std::unique_ptr<Node> parse_unary() {
    if (eat("(")) {
      auto n = parse_or();
      if (!eat(")")) fail("expected ')'");
      return n;
    }
    auto n = std::make_unique<Node>();
    n->leaf = parse_comparison();
    return n;
  }
  Comparison parse_comparison() {
    Comparison c;
    skip();
    if (!eat("$")) fail("expected a selector starting with '$'");
    while (pos_ < s_.size()) {
      if (s_[pos_] == '.') {
        ++pos_;
        std::size_t start = pos_;
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' ||
                                    s_[pos_] == '-' || s_[pos_] == '@' || s_[pos_] == ':'))
          ++pos_;
        if (pos_ == start) fail("empty member name in selector");
        c.selector.push_back({std::string(s_.substr(start, pos_ - start)), -1});
      } else if (s_[pos_] == '[') {
        ++pos_;
        std::size_t start = pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        if (pos_ == start || pos_ >= s_.size() || s_[pos_] != ']') fail("expected an array index");
        c.selector.push_back({"", std::strtol(std::string(s_.substr(start, pos_ - start)).c_str(), nullptr, 10)});
        ++pos_;
      } else {
        break;
      }
    }
    if (eat_word("IS")) {
      if (eat_word("TRUE")) c.op = "IS_TRUE";
      else if (eat_word("FALSE")) c.op = "IS_FALSE";
      else if (eat_word("NULL")) c.op = "IS_NULL";
      else fail("expected TRUE, FALSE or NULL after IS");
      return c;
    }
    if (eat_word("NOT")) {
      if (!eat_word("EXISTS")) fail("expected EXISTS after NOT");
      c.op = "NOT_EXISTS";
      return c;
    }
    for (const char* op : {"!=", "<=", ">=", "=", "<", ">"})
      if (eat(op)) {
        c.op = op;
        break;
      }
    if (c.op.empty()) fail("expected a comparison operator");
    skip();
    if (pos_ < s_.size() && s_[pos_] == '"') {
      c.text = quoted();
    } else {
      std::size_t start = pos_;
      while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) && s_[pos_] != ')' &&
             s_[pos_] != '}' && s_[pos_] != '&' && s_[pos_] != '|')
        ++pos_;
      if (pos_ == start) fail("expected a value");
      c.text = std::string(s_.substr(start, pos_ - start));
      char* end = nullptr;
      double v = std::strtod(c.text.c_str(), &end);
      if (end && !*end) {
        c.numeric = true;
        c.number = v;
      }
    }
    if (!c.numeric && c.op != "=" && c.op != "!=") fail("operator " + c.op + " needs a number");
    return c;
  }
  std::string quoted() {
    ++pos_;  // opening quote
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) fail("unterminated quoted string");
    ++pos_;
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

const json* select(const json& doc, const std::vector<Step>& path) {
  const json* cur = &doc;
  for (const auto& step : path) {
    if (step.index >= 0) {
      if (!cur->is_array() || static_cast<std::size_t>(step.index) >= cur->size()) return nullptr;
      cur = &(*cur)[static_cast<std::size_t>(step.index)];
    } else {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(step.key);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    }
  }
  return cur;
}

bool eval_leaf(const Comparison& c, const json& doc) {
  const json* v = select(doc, c.selector);
  if (c.op == "NOT_EXISTS") return v == nullptr;
  if (!v) return false;
  if (c.op == "IS_TRUE") return v->is_boolean() && v->get<bool>();
  if (c.op == "IS_FALSE") return v->is_boolean() && !v->get<bool>();
  if (c.op == "IS_NULL") return v->is_null();
  if (c.numeric && v->is_number()) {
    double x = v->get<double>();
    if (c.op == "=") return x == c.number;
    if (c.op == "!=") return x != c.number;
    if (c.op == "<") return x < c.number;
    if (c.op == ">") return x > c.number;
    if (c.op == "<=") return x <= c.number;
    if (c.op == ">=") return x >= c.number;
    return false;
  }
  if (c.op != "=" && c.op != "!=") return false;
  std::string actual;
  if (v->is_string()) actual = v->get<std::string>();
  else if (v->is_boolean() || v->is_number()) actual = v->dump();
  else return false;
  bool eq = glob_match(c.text, actual);
  return c.op == "=" ? eq : !eq;
}

bool eval(const Node& n, const json& doc) {
  switch (n.kind) {
    case Node::Kind::And: return eval(*n.left, doc) && eval(*n.right, doc);
    case Node::Kind::Or: return eval(*n.left, doc) || eval(*n.right, doc);
    case Node::Kind::Leaf: return eval_leaf(n.leaf, doc);
  }
  return false;
}

// --- term lists ---------------------------------------------------------------------------

struct Terms {
  std::vector<std::string> required, optional, excluded;
};

Terms parse_terms(std::string_view s) {
  Terms t;
  std::size_t pos = 0;
  while (true) {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos >= s.size()) break;
    char kind = 0;
    if (s[pos] == '-' || s[pos] == '?') kind = s[pos++];
    std::string term;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      while (pos < s.size() && s[pos] != '"') {
        if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
        term += s[pos++];
      }
      if (pos >= s.size()) throw FilterPatternError("Invalid filter pattern: unterminated quoted term.");
      ++pos;
    } else {
      while (pos < s.size() && !std::isspace(static_cast<unsigned char>(s[pos]))) term += s[pos++];
    }
    if (term.empty()) {
      if (kind) throw FilterPatternError("Invalid filter pattern: an empty term follows '" + std::string(1, kind) + "'.");
      continue;
    }
    (kind == '-' ? t.excluded : kind == '?' ? t.optional : t.required).push_back(std::move(term));
  }
  return t;
}

}  // namespace

struct FilterPattern::Impl {
  enum class Kind { All, Terms, Json, Regex } kind = Kind::All;
  Terms terms;
  std::unique_ptr<Node> json_expr;
  std::optional<std::regex> regex;
};

FilterPattern::FilterPattern(std::string_view pattern) : impl_(std::make_unique<Impl>()) {
  while (!pattern.empty() && std::isspace(static_cast<unsigned char>(pattern.front()))) pattern.remove_prefix(1);
  while (!pattern.empty() && std::isspace(static_cast<unsigned char>(pattern.back()))) pattern.remove_suffix(1);
  if (pattern.empty()) return;
  if (pattern.front() == '{') {
    impl_->kind = Impl::Kind::Json;
    impl_->json_expr = JsonParser(pattern).parse();
  } else if (pattern.front() == '[') {
    throw FilterPatternError("Invalid filter pattern: space-delimited [field, ...] patterns are not supported by ecsd.");
  } else if (pattern.size() >= 2 && pattern.front() == '%' && pattern.back() == '%') {
    impl_->kind = Impl::Kind::Regex;
    try {
      impl_->regex.emplace(std::string(pattern.substr(1, pattern.size() - 2)), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw FilterPatternError(std::string("Invalid filter pattern: bad regular expression: ") + e.what());
    }
  } else {
    impl_->kind = Impl::Kind::Terms;
    impl_->terms = parse_terms(pattern);
    if (impl_->terms.required.empty() && impl_->terms.optional.empty() && impl_->terms.excluded.empty())
      impl_->kind = Impl::Kind::All;
  }
}

FilterPattern::~FilterPattern() = default;
FilterPattern::FilterPattern(FilterPattern&&) noexcept = default;
FilterPattern& FilterPattern::operator=(FilterPattern&&) noexcept = default;

bool FilterPattern::matches_all() const { return impl_->kind == Impl::Kind::All; }

bool FilterPattern::matches(std::string_view message) const {
  switch (impl_->kind) {
    case Impl::Kind::All: return true;
    case Impl::Kind::Regex: return std::regex_search(message.begin(), message.end(), *impl_->regex);
    case Impl::Kind::Json: {
      // Cheap rejection before parsing: a JSON object message starts with '{'.
      std::size_t i = 0;
      while (i < message.size() && std::isspace(static_cast<unsigned char>(message[i]))) ++i;
      if (i >= message.size() || message[i] != '{') return false;
      json doc = json::parse(message, nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) return false;
      return eval(*impl_->json_expr, doc);
    }
    case Impl::Kind::Terms: {
      const Terms& t = impl_->terms;
      for (const auto& term : t.required)
        if (message.find(term) == std::string_view::npos) return false;
      for (const auto& term : t.excluded)
        if (message.find(term) != std::string_view::npos) return false;
      if (t.optional.empty()) return true;
      for (const auto& term : t.optional)
        if (message.find(term) != std::string_view::npos) return true;
      return false;
    }
  }
  return false;
}

bool glob_match(std::string_view glob, std::string_view text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t g = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (g < glob.size() && glob[g] == text[t]) {
      ++g;
      ++t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

}  // namespace ecsd::domain::logs

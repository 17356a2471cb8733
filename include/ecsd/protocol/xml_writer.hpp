// A minimal streaming XML writer with escaping, for the awsQuery and ec2 encoders.
#pragma once
#include <string>
#include <string_view>

namespace ecsd::protocol {

class XmlWriter {
 public:
  XmlWriter() { out_.reserve(1024); out_ = R"(<?xml version="1.0" encoding="UTF-8"?>)" "\n"; }
  /// Opens <name> (with an xmlns attribute when `ns` is given).
  void open(std::string_view name, std::string_view ns = {});
  void close(std::string_view name);
  /// Writes <name>escaped text</name>.
  void text_element(std::string_view name, std::string_view text);
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }
  static void escape(std::string& out, std::string_view text);

 private:
  std::string out_;
};

}  // namespace ecsd::protocol

// Minimal XML writer.
#include "ecsd/protocol/xml_writer.hpp"

namespace ecsd::protocol {

void XmlWriter::escape(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#xD;"; break;
      default: out += c;
    }
  }
}

void XmlWriter::open(std::string_view name, std::string_view ns) {
  out_ += '<';
  out_ += name;
  if (!ns.empty()) {
    out_ += " xmlns=\"";
    escape(out_, ns);
    out_ += '"';
  }
  out_ += '>';
}

void XmlWriter::close(std::string_view name) {
  out_ += "</";
  out_ += name;
  out_ += '>';
}

void XmlWriter::text_element(std::string_view name, std::string_view text) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  escape(out_, text);
  close(name);
}

}  // namespace ecsd::protocol

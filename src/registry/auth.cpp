// Registry tokens (HMAC-SHA256 under a store-kept secret) and region addresses.
#include "ecsd/registry/auth.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace ecsd::registry {

namespace {
const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += {kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    const char* p = std::strchr(kB64, c);
    if (!p || !c) return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xff));
    }
  }
  if (pad > 2 || (in.size() % 4) != 0) return std::nullopt;
  return out;
}

std::string TokenAuthority::mac(std::string_view payload) const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

std::string TokenAuthority::issue(std::string_view account, std::string_view region, double expires_at) const {
  std::string payload = std::string(account) + "." + std::string(region) + "." +
                        std::to_string(static_cast<long long>(expires_at));
  return "ecsd1." + payload + "." + mac(payload);
}

bool TokenAuthority::verify(std::string_view password, std::string_view account, std::string_view region,
                            double now) const {
  if (password.substr(0, 6) != "ecsd1.") return false;
  std::string_view rest = password.substr(6);
  auto last = rest.rfind('.');
  if (last == std::string_view::npos) return false;
  std::string_view payload = rest.substr(0, last), sig = rest.substr(last + 1);
  std::string expected = mac(payload);
  // Constant-time comparison of the MACs.
  if (sig.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < sig.size(); ++i) diff |= static_cast<unsigned char>(sig[i] ^ expected[i]);
  if (diff) return false;
  std::string prefix = std::string(account) + "." + std::string(region) + ".";
  if (payload.substr(0, prefix.size()) != prefix) return false;
  std::string_view exp = payload.substr(prefix.size());
  if (exp.empty() || exp.find_first_not_of("0123456789") != std::string_view::npos || exp.size() > 15) return false;
  return static_cast<double>(std::stoll(std::string(exp))) > now;
}

const std::vector<std::string>& regions() {
  static const std::vector<std::string> kRegions = {
      "us-east-1",      "us-east-2",      "us-west-1",      "us-west-2",      "af-south-1",     "ap-east-1",
      "ap-south-1",     "ap-south-2",     "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
      "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1",   "ca-west-1",      "eu-central-1",
      "eu-central-2",   "eu-west-1",      "eu-west-2",      "eu-west-3",      "eu-south-1",     "eu-south-2",
      "eu-north-1",     "il-central-1",   "me-south-1",     "me-central-1",   "sa-east-1",      "us-gov-east-1",
      "us-gov-west-1",  "cn-north-1",     "cn-northwest-1", "ap-southeast-5", "mx-central-1",   "ap-southeast-7",
  };
  return kRegions;
}

std::string region_address(std::string_view region) {
  const auto& r = regions();
  for (std::size_t i = 0; i < r.size(); ++i)
    if (r[i] == region) return "127.0." + std::to_string(i + 1) + ".1";
  return "";
}

std::optional<std::string> address_region(std::string_view address) {
  const auto& r = regions();
  for (std::size_t i = 0; i < r.size(); ++i)
    if (address == "127.0." + std::to_string(i + 1) + ".1") return r[i];
  return std::nullopt;
}

}  // namespace ecsd::registry

// Self-signed certificate for HTTPS/TLS listeners (OpenSSL 3).
#include "ecsd/alb/tls_cert.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace ecsd::alb {

namespace {

const char* const kRegions[] = {
    "us-east-1",      "us-east-2",      "us-west-1",      "us-west-2",      "af-south-1",   "ap-east-1",
    "ap-south-1",     "ap-south-2",     "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ca-central-1",   "ca-west-1",    "eu-central-1",
    "eu-central-2",   "eu-west-1",      "eu-west-2",      "eu-west-3",      "eu-north-1",   "eu-south-1",
    "eu-south-2",     "il-central-1",   "me-central-1",   "me-south-1",     "sa-east-1"};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("tls certificate: ") + what + " failed");
}

TlsMaterial generate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  check(key != nullptr, "key generation");
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  check(x != nullptr, "X509_new");
  X509_set_version(x.get(), 2);
  unsigned char serial[8];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial, sizeof serial, nullptr), BN_free);
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x.get()));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3650L * 86400);
  check(X509_set_pubkey(x.get(), key.get()) == 1, "set_pubkey");
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ecsd"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("*.elb.localhost"), -1,
                             -1, 0);
  X509_set_issuer_name(x.get(), name);
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.elb.localhost";
  for (const char* r : kRegions) san += std::string(",DNS:*.") + r + ".elb.localhost";
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("CA:FALSE")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "extension");
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  check(X509_sign(x.get(), key.get(), EVP_sha256()) > 0, "sign");
  TlsMaterial out;
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new(BIO_s_mem()), BIO_free), kb(BIO_new(BIO_s_mem()), BIO_free);
  check(PEM_write_bio_X509(cb.get(), x.get()) == 1, "PEM certificate");
  check(PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM key");
  out.certificate_pem = bio_text(cb.get());
  out.private_key_pem = bio_text(kb.get());
  return out;
}

}  // namespace

TlsMaterial self_signed_certificate(const std::string& dir) {
  if (dir.empty()) return generate();
  namespace fs = std::filesystem;
  fs::path cert = fs::path(dir) / "cert.pem", key = fs::path(dir) / "key.pem";
  if (fs::exists(cert) && fs::exists(key)) {
    TlsMaterial m{slurp(cert), slurp(key)};
    if (!m.certificate_pem.empty() && !m.private_key_pem.empty()) return m;
  }
  TlsMaterial m = generate();
  fs::create_directories(dir);
  {
    std::ofstream k(key, std::ios::binary | std::ios::trunc);
    k << m.private_key_pem;
  }
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  std::ofstream c(cert, std::ios::binary | std::ios::trunc);
  c << m.certificate_pem;
  return m;
}

}  // namespace ecsd::alb

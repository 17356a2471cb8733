// The certificate HTTPS and TLS listeners serve: a self-signed one standing in for the ACM
// certificate a listener names. Generated with OpenSSL on first use (EC P-256, SHA-256, ten years)
// and kept under the data dir, so clients can pin it across restarts.
#pragma once
#include <string>

namespace ecsd::alb {

struct TlsMaterial {
  std::string certificate_pem, private_key_pem;
};

/// @return the certificate and key in `dir` (cert.pem, key.pem), creating them there first when
///         missing; with an empty `dir`, a fresh pair that is not stored.
///         Subject CN *.elb.localhost; SANs localhost, 127.0.0.1, ::1 and *.<region>.elb.localhost
///         for the AWS regions, so the load balancers' DNS names verify against it.
TlsMaterial self_signed_certificate(const std::string& dir);

}  // namespace ecsd::alb

#pragma once
// A certificate authority made by the test with the openssl CLI, and what it signs: a server
// certificate for "localhost" (DNS name only, so verify-full against 127.0.0.1 fails) and a
// client certificate whose CN is a PostgreSQL role (pg_hba `cert`). Plus a second CA that signs
// nothing, for "a certificate from another CA is refused".
#include <filesystem>
#include <string>

namespace pg2ch::test::security {

struct TestCertificates {
  std::filesystem::path ca_crt;
  std::filesystem::path server_crt, server_key;
  std::filesystem::path client_crt, client_key;
  std::filesystem::path other_ca_crt;
};

// Writes everything into `dir` (created). Throws std::runtime_error with openssl's output.
TestCertificates make_test_certificates(const std::filesystem::path& dir, const std::string& client_cn);

// A directory for a test's own servers under $TMPDIR, traversable by the postgres user.
std::filesystem::path make_server_dir(const std::string& prefix);

}  // namespace pg2ch::test::security

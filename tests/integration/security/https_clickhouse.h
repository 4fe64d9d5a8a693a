#pragma once
// A ClickHouse 18.16 server of a security test's own, started with scripts/ch-local.sh in its own
// directory plus two drop-in files the server merges: config.d/https.xml (an https_port with the
// test CA's server certificate) and users.d/limited.xml (a user that needs a password and may
// use one database only: least privilege for the target). Optionally HTTPS asks clients for a
// certificate of the test CA.
#include <filesystem>
#include <optional>
#include <string>

#include "clickhouse/http_client.h"
#include "security/test_certificates.h"
#include "support/exit_guardian.h"
#include "support/local_server.h"

namespace pg2ch::test::security {

class HttpsClickHouse {
 public:
  static constexpr const char* kLimitedUser = "pg2ch_limited";
  static constexpr const char* kLimitedPassword = "Lim1ted-CH-secret";

  // `limited_database`: the only database kLimitedUser may use. `require_client_certificate`:
  // HTTPS clients must present a certificate signed by the test CA (verificationMode strict).
  explicit HttpsClickHouse(const std::string& limited_database, bool require_client_certificate = false);
  ~HttpsClickHouse();
  HttpsClickHouse(const HttpsClickHouse&) = delete;
  HttpsClickHouse& operator=(const HttpsClickHouse&) = delete;

  int https_port() const { return https_port_; }
  int http_port() const { return http_port_; }
  const TestCertificates& certs() const { return certs_; }
  const std::filesystem::path& dir() const { return dir_; }
  // `default` user over plain HTTP (administration by the test).
  clickhouse::HttpClient admin(const std::string& database = "default") const;

 private:
  std::filesystem::path dir_;
  TestCertificates certs_;
  std::optional<LocalServer> server_;
  ExitGuardian guardian_;
  int http_port_ = 0;
  int https_port_ = 0;
};

}  // namespace pg2ch::test::security

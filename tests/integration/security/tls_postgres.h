#pragma once
// A PostgreSQL 15 of a security test's own (the shared fixture stays as every other test needs
// it): started with scripts/pg-local.sh in its own directory, then switched to TLS only —
// ssl = on with the test CA's server certificate, and a pg_hba.conf that accepts TCP connections
// only over TLS: role kCertRole by client certificate (`cert`), every other role by
// scram-sha-256 password. Unix-socket connections (the test's superuser) stay trusted.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "pg/connection.h"
#include "security/test_certificates.h"
#include "support/exit_guardian.h"
#include "support/local_server.h"

namespace pg2ch::test::security {

class TlsPostgres {
 public:
  // The role pg_hba authenticates by client certificate (the client certificate's CN).
  static constexpr const char* kCertRole = "pg2ch_cert";

  TlsPostgres();   // starts; throws std::runtime_error when anything fails
  ~TlsPostgres();  // stops
  TlsPostgres(const TlsPostgres&) = delete;
  TlsPostgres& operator=(const TlsPostgres&) = delete;

  int port() const { return port_; }
  const TestCertificates& certs() const { return certs_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Superuser session over the Unix socket (no TLS needed there), commits synchronous.
  pg::Connection superuser(const std::string& database = "postgres") const;
  // Creates `name` afresh (dropping a leftover one).
  void create_database(const std::string& name) const;

 private:
  std::filesystem::path dir_;
  TestCertificates certs_;
  std::optional<LocalServer> server_;
  ExitGuardian guardian_;
  int port_ = 0;
};

}  // namespace pg2ch::test::security

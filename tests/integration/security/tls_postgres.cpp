#include "security/tls_postgres.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/command.h"

namespace pg2ch::test::security {
namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

void give_to_postgres(const std::filesystem::path& path) {
  const auto r = run_command({"/usr/bin/chown", "postgres:", path.string()});
  if (r.exit_code != 0) throw std::runtime_error("chown postgres " + path.string() + ": " + r.output);
}

}  // namespace

TlsPostgres::TlsPostgres() : dir_(make_server_dir("pg2ch-tls-pg")) {
  certs_ = make_test_certificates(dir_ / "certs", kCertRole);
  // The server reads its key as postgres and refuses a key others may read.
  give_to_postgres(certs_.server_key);
  server_.emplace("pg-local.sh", dir_ / "pg");
  guardian_ = ExitGuardian({server_->stop_command()}, dir_ / "exit-guardian.log");
  port_ = std::stoi(server_->start().at("PG_PORT"));

  const auto data = dir_ / "pg" / "data";
  {
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << fmt::format("ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_ca_file = '{}'\n",
                        certs_.server_crt.string(), certs_.server_key.string(), certs_.ca_crt.string());
  }
  {
    // No hostnossl or `host` rows: a TCP connection without TLS finds no entry and is refused.
    std::ofstream hba(data / "pg_hba.conf", std::ios::trunc);
    hba << "local   all         all                        trust\n"
           "local   replication all                        trust\n"
        << fmt::format("hostssl all         {0}  127.0.0.1/32 cert\n"
                       "hostssl replication {0}  127.0.0.1/32 cert\n",
                       kCertRole)
        << "hostssl all         all         127.0.0.1/32 scram-sha-256\n"
           "hostssl replication all         127.0.0.1/32 scram-sha-256\n";
  }
  give_to_postgres(data / "pg_hba.conf");
  const auto reload = run_command(
      {"/usr/sbin/runuser", "-u", "postgres", "--", std::string(kPgBin) + "/pg_ctl", "-D", data.string(), "reload"});
  if (reload.exit_code != 0) throw std::runtime_error("pg_ctl reload: " + reload.output);
  for (int i = 0; i < 100; ++i) {
    if (superuser().query("SHOW ssl").text(0, 0) == "on") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("PostgreSQL in " + dir_.string() + " did not turn ssl on (see its postgres.log)");
}

TlsPostgres::~TlsPostgres() {
  if (server_) server_->stop();
  guardian_ = ExitGuardian();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

pg::Connection TlsPostgres::superuser(const std::string& database) const {
  return pg::Connection::connect(
      // pg-local.sh turns synchronous_commit off; a test's changes must be in the WAL pg2ch's
      // `run --until-caught-up` reads up to (pg_current_wal_lsn) once the statement returns.
      fmt::format("host={} port={} user=postgres dbname={} options='-c synchronous_commit=on'",
                  (dir_ / "pg" / "socket").string(), port_, database),
      "TLS test PostgreSQL (socket)");
}

void TlsPostgres::create_database(const std::string& name) const {
  auto conn = superuser();
  conn.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name));
  conn.exec(fmt::format("CREATE DATABASE {}", name));
}

}  // namespace pg2ch::test::security

#include "security/https_clickhouse.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/command.h"
#include "support/free_port.h"

namespace pg2ch::test::security {

HttpsClickHouse::HttpsClickHouse(const std::string& limited_database, bool require_client_certificate)
    : dir_(make_server_dir("pg2ch-tls-ch")) {
  certs_ = make_test_certificates(dir_ / "certs", "pg2ch");
  const auto ch = dir_ / "ch";
  std::filesystem::create_directories(ch / "config.d");
  std::filesystem::create_directories(ch / "users.d");
  https_port_ = free_loopback_port();
  std::ofstream(ch / "config.d" / "https.xml") << fmt::format(
      R"(<?xml version="1.0"?>
<yandex>
    <https_port>{}</https_port>
    <openSSL>
        <server>
            <certificateFile>{}</certificateFile>
            <privateKeyFile>{}</privateKeyFile>
            <verificationMode>{}</verificationMode>
            <caConfig>{}</caConfig>
            <loadDefaultCAFile>false</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
    </openSSL>
</yandex>
)",
      https_port_, certs_.server_crt.string(), certs_.server_key.string(), require_client_certificate ? "strict" : "none",
      certs_.ca_crt.string());
  std::ofstream(ch / "users.d" / "limited.xml") << fmt::format(
      R"(<?xml version="1.0"?>
<yandex>
    <users>
        <{0}>
            <password>{1}</password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
            <allow_databases><database>{2}</database></allow_databases>
        </{0}>
    </users>
</yandex>
)",
      kLimitedUser, kLimitedPassword, limited_database);

  server_.emplace("ch-local.sh", ch);
  guardian_ = ExitGuardian({server_->stop_command()}, dir_ / "exit-guardian.log");
  http_port_ = std::stoi(server_->start().at("CH_PORT"));
  // The HTTPS listener comes up with the HTTP one; wait until it answers with the test CA.
  const std::string url = fmt::format("https://localhost:{}/?query=SELECT%201", https_port_);
  for (int i = 0; i < 100; ++i) {
    const auto r = run_command({"/usr/bin/curl", "-sf", "--max-time", "2", "--cacert", certs_.ca_crt.string(), "--cert",
                                certs_.client_crt.string(), "--key", certs_.client_key.string(), url});
    if (r.exit_code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("ClickHouse in " + ch.string() + " does not answer HTTPS on port " +
                           std::to_string(https_port_) + " (see its log/ directory)");
}

HttpsClickHouse::~HttpsClickHouse() {
  if (server_) server_->stop();
  guardian_ = ExitGuardian();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

clickhouse::HttpClient HttpsClickHouse::admin(const std::string& database) const {
  clickhouse::Endpoint e;
  e.port = http_port_;
  e.database = database;
  e.timeout_s = 60;
  return clickhouse::HttpClient(e);
}

}  // namespace pg2ch::test::security

#include "security/test_certificates.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "support/command.h"

namespace pg2ch::test::security {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    throw std::runtime_error(line + "failed:\n" + r.output);
  }
}

void self_signed_ca(const std::filesystem::path& crt, const std::filesystem::path& key, const std::string& name) {
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.string(), "-out", crt.string(), "-days",
           "2", "-subj", "/CN=" + name});
}

// A key and a certificate signed by the CA with the given extensions.
void signed_pair(const std::filesystem::path& dir, const std::string& name, const std::string& cn,
                 const std::string& extensions) {
  const auto base = dir / name;
  const auto ext = dir / (name + ".ext");
  std::ofstream(ext) << extensions;
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", base.string() + ".key", "-out", base.string() + ".csr",
           "-subj", "/CN=" + cn});
  openssl({"x509", "-req", "-in", base.string() + ".csr", "-CA", (dir / "ca.crt").string(), "-CAkey",
           (dir / "ca.key").string(), "-CAcreateserial", "-out", base.string() + ".crt", "-days", "2", "-extfile",
           ext.string()});
  std::filesystem::permissions(base.string() + ".key", std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_write);
}

}  // namespace

TestCertificates make_test_certificates(const std::filesystem::path& dir, const std::string& client_cn) {
  std::filesystem::create_directories(dir);
  self_signed_ca(dir / "ca.crt", dir / "ca.key", "pg2ch test CA");
  self_signed_ca(dir / "other-ca.crt", dir / "other-ca.key", "pg2ch other test CA");
  signed_pair(dir, "server", "localhost",
              "subjectAltName = DNS:localhost\nbasicConstraints = CA:FALSE\n"
              "keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n");
  signed_pair(dir, "client", client_cn,
              "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n"
              "extendedKeyUsage = clientAuth\n");
  TestCertificates c;
  c.ca_crt = dir / "ca.crt";
  c.server_crt = dir / "server.crt";
  c.server_key = dir / "server.key";
  c.client_crt = dir / "client.crt";
  c.client_key = dir / "client.key";
  c.other_ca_crt = dir / "other-ca.crt";
  return c;
}

std::filesystem::path make_server_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a directory like " + pattern);
  using p = std::filesystem::perms;
  std::filesystem::permissions(pattern, p::owner_all | p::group_exec | p::others_exec);
  return pattern;
}

}  // namespace pg2ch::test::security

#include "service/exit_codes.h"

#include <gtest/gtest.h>

namespace pg2ch::service {
namespace {

int code(ErrorKind kind, bool retriable = false) { return static_cast<int>(exit_code_for(Error(kind, "x", "", retriable))); }

// The numbers are a contract with packaging/systemd (RestartPreventExitStatus=) and scripts.
TEST(ExitCodes, EachOperatorClassHasItsDocumentedCode) {
  EXPECT_EQ(code(ErrorKind::Config), 2);
  EXPECT_EQ(code(ErrorKind::Auth), 4);
  EXPECT_EQ(code(ErrorKind::Permission), 4);
  EXPECT_EQ(code(ErrorKind::Schema), 5);
  EXPECT_EQ(code(ErrorKind::Data), 6);
  EXPECT_EQ(code(ErrorKind::Internal), 1);
  EXPECT_EQ(code(ErrorKind::Protocol), 1);
  EXPECT_EQ(code(ErrorKind::Server), 1);
  EXPECT_EQ(static_cast<int>(ExitCode::NeedsAttention), 3);
}

TEST(ExitCodes, OtherExceptionsAreInternal) {
  EXPECT_EQ(exit_code_for(std::make_exception_ptr(std::runtime_error("boom"))), ExitCode::Internal);
  EXPECT_EQ(exit_code_for(std::make_exception_ptr(Error(ErrorKind::Data, "bad value"))), ExitCode::Data);
}

TEST(ExitCodes, ConnectionTroubleAndRetriableServerErrorsAreTransient) {
  EXPECT_TRUE(is_transient(Error(ErrorKind::Connection, "refused", "", true)));
  EXPECT_TRUE(is_transient(Error(ErrorKind::Connection, "Kafka gave up on a message")));
  EXPECT_TRUE(is_transient(Error(ErrorKind::Server, "too many parts", "", true)));
  EXPECT_FALSE(is_transient(Error(ErrorKind::Server, "syntax error")));
  EXPECT_FALSE(is_transient(Error(ErrorKind::Auth, "password authentication failed")));
  EXPECT_FALSE(is_transient(Error(ErrorKind::Config, "bad port")));
}

}  // namespace
}  // namespace pg2ch::service

#pragma once
// BEGIN on construction, ROLLBACK on destruction unless commit() ran: an exception anywhere in a
// drain (ClickHouse down, a bad value) releases the claimed events for the next attempt instead of
// leaving a transaction open on a connection that is reused.
#include "pg/connection.h"

namespace pg2ch::capture::outbox {

class SourceTransaction {
 public:
  explicit SourceTransaction(pg::Connection& conn) : conn_(conn) { conn_.exec("BEGIN"); }
  SourceTransaction(const SourceTransaction&) = delete;
  SourceTransaction& operator=(const SourceTransaction&) = delete;
  ~SourceTransaction() {
    if (open_) rollback();
  }

  void commit() {
    open_ = false;
    conn_.exec("COMMIT");
  }
  // Never throws: on a dead connection there is nothing left to roll back.
  void rollback() noexcept {
    open_ = false;
    try {
      conn_.try_query("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): the server aborts the transaction with the connection
    }
  }

 private:
  pg::Connection& conn_;
  bool open_ = true;
};

}  // namespace pg2ch::capture::outbox

#pragma once
// The read side of `COPY ... TO STDOUT` once PQexec has put the connection in COPY_OUT state:
// every CopyData message goes to `on_chunk`; at the end of the data `on_end` runs (a parser checks
// it saw the trailer), then the command's final result is checked. Shared by
// the snapshot copies (into ClickHouse, and through the ChangeSink).
//
// A template so the per-chunk call (PostgreSQL sends one row per CopyData message) inlines. An
// exception from `on_chunk` abandons the COPY; the connection is then unusable for other work.
#include <libpq-fe.h>

#include <memory>
#include <string_view>

#include "pg/connection.h"

namespace pg2ch::pg {

template <class OnChunk, class OnEnd>
void read_copy_out(PGconn* conn, std::string_view context, OnChunk&& on_chunk, OnEnd&& on_end) {
  for (;;) {
    char* data = nullptr;
    const int n = PQgetCopyData(conn, &data, 0);
    if (n > 0) {
      std::unique_ptr<char, decltype(&PQfreemem)> owned(data, &PQfreemem);
      on_chunk(std::string_view(data, static_cast<std::size_t>(n)));
    } else if (n == -1) {
      on_end();
      Result end(PQgetResult(conn));
      if (!end.ok()) throw error_from_result(end, context);
      while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
      return;
    } else {
      throw error_from_connection(conn, context);
    }
  }
}

}  // namespace pg2ch::pg

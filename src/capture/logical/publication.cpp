#include "capture/logical/publication.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace pg2ch::capture::logical {

namespace {

// publish_via_partition_root: a partitioned table's changes arrive under its own Relation, from
// every partition at any depth, also those created or attached later (a partition named on its
// own publishes as itself when no table above it is in the publication).
constexpr const char* kPublicationOptions =
    "publish = 'insert, update, delete, truncate', publish_via_partition_root = true";

}  // namespace

void ensure_publication(pg::Connection& conn, const std::string& publication, const std::vector<pg::TableRef>& tables) {
  std::string list;
  for (const auto& t : tables) {
    if (!list.empty()) list += ", ";
    list += conn.quote_identifier(t.schema) + "." + conn.quote_identifier(t.name);
  }
  const std::string pub = conn.quote_identifier(publication);
  pg::Result exists = conn.query(
      "SELECT pubinsert AND pubupdate AND pubdelete AND pubtruncate AND NOT puballtables FROM pg_publication "
      "WHERE pubname = $1",
      {publication});
  if (exists.rows() == 1 && exists.text(0, 0) == "t") {
    std::set<std::uint32_t> wanted;
    for (const auto& t : tables) wanted.insert(t.oid);
    // Already right: nothing to alter. A role that does not own the tables (least privilege:
    // REPLICATION + SELECT, the publication created by their owner) gets this far only here.
    if (published_tables(conn, publication) == wanted) {
      spdlog::info("publication {} covers the {} table(s) already", publication, tables.size());
      return;
    }
  }
  try {
    if (exists.rows() == 0) {
      conn.exec(fmt::format("CREATE PUBLICATION {} FOR TABLE {} WITH ({})", pub, list, kPublicationOptions));
      spdlog::info("created publication {} for {} table(s)", publication, tables.size());
    } else {
      conn.exec(fmt::format("ALTER PUBLICATION {} SET TABLE {}", pub, list));
      conn.exec(fmt::format("ALTER PUBLICATION {} SET ({})", pub, kPublicationOptions));
      spdlog::info("publication {} now covers {} table(s)", publication, tables.size());
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Permission) {
      throw Error(ErrorKind::Permission, fmt::format("cannot create or alter publication {}: {}", publication, e.what()),
                  "publications need ownership of the tables (or superuser); run `pg2ch setup` as the "
                  "table owner once, or create the publication yourself: CREATE PUBLICATION " + pub +
                      " FOR TABLE " + list + " WITH (" + kPublicationOptions + ")");
    }
    rethrow_with_context(e, "creating publication " + publication);
  }
}

void add_to_publication(pg::Connection& conn, const std::string& publication, const pg::TableRef& table) {
  const auto published = published_tables(conn, publication);
  if (published && published->contains(table.oid)) return;
  const std::string name = conn.quote_identifier(table.schema) + "." + conn.quote_identifier(table.name);
  try {
    conn.exec(fmt::format("ALTER PUBLICATION {} ADD TABLE {}", conn.quote_identifier(publication), name));
  } catch (const Error& e) {
    rethrow_with_context(e, fmt::format("adding {} to publication {}", table.qualified(), publication));
  }
  spdlog::info("publication {} now covers {} too", publication, table.qualified());
}

std::optional<std::set<std::uint32_t>> published_tables(pg::Connection& conn, const std::string& publication) {
  pg::Result r = conn.query(
      "SELECT p.oid, r.prrelid FROM pg_publication p LEFT JOIN pg_publication_rel r ON r.prpubid = p.oid "
      "WHERE p.pubname = $1",
      {publication});
  if (r.rows() == 0) return std::nullopt;
  std::set<std::uint32_t> out;
  for (int i = 0; i < r.rows(); ++i) {
    if (!r.is_null(i, 1)) out.insert(static_cast<std::uint32_t>(r.int64(i, 1)));
  }
  return out;
}

void drop_publication(pg::Connection& conn, const std::string& publication) {
  conn.exec(fmt::format("DROP PUBLICATION IF EXISTS {}", conn.quote_identifier(publication)));
}

}  // namespace pg2ch::capture::logical

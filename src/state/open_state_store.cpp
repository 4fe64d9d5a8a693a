#include "state/open_state_store.h"

#include "common/error.h"
#include "state/file_state_store.h"
#include "state/pg_state_store.h"

namespace pg2ch::state {

std::unique_ptr<StateStore> open_state_store(const config::Config& cfg) {
  if (cfg.state.store == "file") return std::make_unique<FileStateStore>(cfg.state.path);
  if (cfg.state.store == "postgres") return std::make_unique<PgStateStore>(cfg);
  throw Error(ErrorKind::Config, "state.store = \"" + cfg.state.store + "\" is not available in this build yet",
              "use state.store = \"file\" or \"postgres\"");
}

}  // namespace pg2ch::state

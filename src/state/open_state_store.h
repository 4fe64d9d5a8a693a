#pragma once
// The state store the config asks for (state.store = file | postgres).
#include <memory>

#include "config/config.h"
#include "state/state_store.h"

namespace pg2ch::state {

std::unique_ptr<StateStore> open_state_store(const config::Config& cfg);

}  // namespace pg2ch::state

#pragma once
// The sink the config asks for (sink = clickhouse | kafka | both), owning its connections.
// Capture modes build their sink here and never name a destination themselves.
#include <memory>

#include "config/config.h"
#include "pipeline/change_sink.h"
#include "pipeline/owned_row.h"

namespace pg2ch::pipeline {

// `toast_fetcher` fills unchanged TOAST values (logical capture); modes that always read whole
// rows pass nullptr. It must outlive the sink.
std::unique_ptr<ChangeSink> make_change_sink(const config::Config& cfg, CurrentRowFetcher* toast_fetcher);

}  // namespace pg2ch::pipeline

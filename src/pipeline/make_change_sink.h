#pragma once
// The sink the config asks for (sink = clickhouse | kafka | both), owning its connections.
// Capture modes build their sink here and never name a destination themselves.
#include <memory>

#include "config/config.h"
#include "pipeline/change_sink.h"
#include "pipeline/owned_row.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::pipeline {

// `toast_fetcher` fills unchanged TOAST values (logical capture); modes that always read whole
// rows pass nullptr. `observer` (RunOptions::observer; may be null) hears about every change and
// every write. Both must outlive the sink.
std::unique_ptr<ChangeSink> make_change_sink(const config::Config& cfg, CurrentRowFetcher* toast_fetcher,
                                             PipelineObserver* observer = nullptr);

}  // namespace pg2ch::pipeline

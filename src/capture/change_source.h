#pragma once
// What a capture mode gives the pipeline loop (service/pipeline_loop.h): an opened source that
// reads changes into its sink and acknowledges what the sink made durable, one turn at a time.
//
// The loop owns everything around the turns: start-up order, readiness, the watchdog, the
// periodic summary and metrics, the stop and the caught-up check, the error policy. A source
// owns only what differs between modes: how to read (replication stream, watermark pages,
// LISTEN, outbox claims, Kafka fetches), how long it may block on its input, and how it
// acknowledges (slot LSN, checkpoint, outbox delete, Kafka offset).
//
// Errors: exceptions (pg2ch::Error) with table, position and cause, as everywhere at start-up
// and in the loop; service/run_driver.h decides which are retried.
#include <atomic>
#include <chrono>
#include <string>

#include "pipeline/change_sink.h"
#include "pipeline/pipeline_observer.h"

namespace pg2ch::capture {

enum class Turn {
  More,      // go on
  CaughtUp,  // RunOptions::stop_when_caught_up and everything due is durable: the loop ends
};

class ChangeSource {
 public:
  virtual ~ChangeSource() = default;

  // Reads what the source has ready and hands it to the sink; when nothing is ready, waits for
  // input at most `max_wait` (less when the sink's next flush is due sooner). Acknowledges what
  // the sink made durable. Returns promptly once `stop` is set.
  virtual Turn turn(std::chrono::milliseconds max_wait, const std::atomic<bool>& stop) = 0;

  // Orderly stop: the sink writes what it holds, the source learns what became durable.
  virtual void finish() = 0;

  virtual pipeline::ChangeSink& sink() = 0;

  // How far behind the destination is, measured at the source (queries the server: the loop
  // calls it every few seconds, not every turn). Empty fields: not measurable in this mode.
  virtual pipeline::LagSample lag() { return {}; }

  // The mode's own counters for the log line at stop and the periodic summary, e.g.
  // "12 transactions, 40 changes; confirmed 0/16B3F00".
  virtual std::string progress() const = 0;
};

}  // namespace pg2ch::capture

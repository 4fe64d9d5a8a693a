#include "capture/capture_mode.h"

#include "capture/kafka_consumer/kafka_consumer_pipeline.h"
#include "capture/logical/logical_pipeline.h"
#include "capture/notify/notify_pipeline.h"
#include "capture/poll/poll_pipeline.h"
#include "capture/poll/watermark_source.h"
#include "capture/outbox/outbox_pipeline.h"
#include "common/error.h"

namespace pg2ch::capture {

const CaptureMode& capture_mode(const std::string& mode) {
  // pgoutput leaves generated columns out of its Relation and row messages (PostgreSQL 18 can
  // send them with publish_generated_columns = stored, which pg2ch does not ask for).
  static const CaptureMode logical_mode{logical::setup, logical::open, logical::status, logical::teardown,
                                        "logical replication does not carry it before PostgreSQL 18", logical::resync,
                                        /*partitioned_tables=*/true, logical::as_written};
  if (mode == "logical") return logical_mode;
  // A poll reads the partitioned table itself: every partition, those created later included.
  static const CaptureMode poll_mode{poll::setup,  poll::open, poll::status, poll::teardown, {}, poll::request_resync,
                                     /*partitioned_tables=*/true};
  if (mode == "poll") return poll_mode;
  // The same reads as poll; the trigger is cloned to every partition (notify_triggers.h).
  static const CaptureMode notify_mode{notify::setup, notify::open, notify::status, notify::teardown, {},
                                       poll::request_resync, /*partitioned_tables=*/true};
  if (mode == "notify") return notify_mode;
  // Row triggers on a partitioned table are cloned to its partitions (outbox_sql.h, level_for).
  static const CaptureMode outbox_mode{outbox::setup,    outbox::open,
                                       outbox::status,   outbox::teardown,
                                       "mode outbox does not replicate generated columns yet", outbox::resync,
                                       /*partitioned_tables=*/true};
  if (mode == "outbox") return outbox_mode;
  // The consumer cannot know whether its producer read them (a logical one did not). A producer
  // publishes a partitioned table under its own name, in every mode: one table here too.
  static const CaptureMode kafka_mode{kafka_consumer::setup,    kafka_consumer::open,
                                      kafka_consumer::status,   kafka_consumer::teardown,
                                      "mode kafka cannot rely on its producer having sent it", nullptr,
                                      /*partitioned_tables=*/true};
  if (mode == "kafka") return kafka_mode;
  throw Error(ErrorKind::Config, "mode = \"" + mode + "\" is not known",
              "use mode = \"logical\", \"poll\", \"notify\", \"outbox\" or \"kafka\"");
}

}  // namespace pg2ch::capture

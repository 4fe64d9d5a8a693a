#pragma once
// `pg2ch dev kafka`: a TEST Kafka broker in the foreground, for trying the Kafka route on a
// machine without Kafka. In memory only (librdkafka's mock cluster): no persistence, no
// security, everything is gone when it stops. Never point production pipelines at it.
#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

namespace pg2ch::kafka {

struct DevBrokerOptions {
  int port = 0;                      // 0: the broker's own free port
  int partitions = 1;                // for the topics created up front
  std::vector<std::string> topics;   // created at start; others are auto-created on first use
};

// Prints the bootstrap address to `out`, then runs until `stop` is set.
void run_dev_broker(const DevBrokerOptions& options, const std::atomic<bool>& stop, std::ostream& out);

}  // namespace pg2ch::kafka

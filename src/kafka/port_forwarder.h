#pragma once
// Relays TCP connections from a chosen loopback port to another address, on one thread.
//
// Why: librdkafka's mock cluster always listens on a port of its own choosing, but
// `pg2ch dev kafka --port 9092` should answer on the port the user asked for. Kafka clients
// use the bootstrap address only for their first metadata request and then connect to the
// brokers the metadata advertises (the mock's own port, also on loopback), so relaying the
// bootstrap port is enough.
#include <atomic>
#include <string>
#include <thread>

namespace pg2ch::kafka {

class PortForwarder {
 public:
  // Listens on 127.0.0.1:`port` and relays each connection to 127.0.0.1:`target_port`.
  // Throws Error(Config) when the port cannot be bound (in use, privileged).
  PortForwarder(int port, int target_port);
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;
  ~PortForwarder();

 private:
  void loop();

  int listen_fd_ = -1;
  int target_port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pg2ch::kafka

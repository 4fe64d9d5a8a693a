#include "kafka/dev_broker.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <thread>

#include "common/error.h"
#include "kafka/mock_cluster.h"
#include "kafka/port_forwarder.h"

namespace pg2ch::kafka {

void run_dev_broker(const DevBrokerOptions& options, const std::atomic<bool>& stop, std::ostream& out) {
  if (options.partitions < 1) throw Error(ErrorKind::Config, "--partitions must be at least 1");
  if (options.port < 0 || options.port > 65535) throw Error(ErrorKind::Config, "--port must be 0..65535");
  MockCluster cluster(1);
  for (const auto& t : options.topics) {
    if (!t.empty()) cluster.create_topic(t, options.partitions);
  }
  std::string bootstrap = cluster.bootstrap();
  std::unique_ptr<PortForwarder> forwarder;
  if (options.port != 0) {
    const int own_port = std::stoi(bootstrap.substr(bootstrap.rfind(':') + 1));
    forwarder = std::make_unique<PortForwarder>(options.port, own_port);
    bootstrap = fmt::format("127.0.0.1:{}", options.port);
  }
  out << "pg2ch dev kafka: TEST broker (librdkafka mock cluster) - in memory, no persistence, no security; "
         "NOT for production\n";
  out << "bootstrap " << bootstrap << "\n";
  for (const auto& t : options.topics) out << fmt::format("topic {} ({} partitions)\n", t, options.partitions);
  out << "other topics are created on first use; Ctrl-C stops the broker and discards every message\n";
  out.flush();
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace pg2ch::kafka

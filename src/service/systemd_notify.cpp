#include "service/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace pg2ch::service {
namespace {

void send(const std::string& state) {
  // Negative: the socket was there but the datagram could not be sent. Nothing to do about it
  // here; systemd's start timeout reports a READY=1 that never arrived.
  (void)sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready(std::string_view status) { send("READY=1\nSTATUS=" + std::string(status)); }

void notify_status(std::string_view status) { send("STATUS=" + std::string(status)); }

void notify_stopping() { send("STOPPING=1\nSTATUS=stopping: flushing and acknowledging what was written"); }

}  // namespace pg2ch::service

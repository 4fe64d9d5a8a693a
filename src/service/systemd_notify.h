#pragma once
// The systemd notify protocol (sd_notify(3), libsystemd): READY=1 once the pipeline streams
// (after its initial snapshot), STATUS= lines for `systemctl status`, STOPPING=1 on an orderly
// stop. Every call is a no-op when the process was not started with NOTIFY_SOCKET (a terminal,
// a test, Type=simple), so callers never check.
#include <string_view>

namespace pg2ch::service {

void notify_ready(std::string_view status);
void notify_status(std::string_view status);
void notify_stopping();

}  // namespace pg2ch::service

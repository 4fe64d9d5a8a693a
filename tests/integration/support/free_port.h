#pragma once
// A loopback TCP port nobody listens on right now: the kernel's choice for a socket bound to port
// 0, released again. For a server a test starts later on a port it knows in advance (a relay, a
// broker), or for "nothing answers here".
namespace pg2ch::test {

int free_loopback_port();

}  // namespace pg2ch::test

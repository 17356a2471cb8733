// A listening socket inside a container's network namespace, so a task can reach ecsd at the
// link-local address real ECS uses (169.254.170.2) without any change to the host's network.
#pragma once
#include <string>

namespace ecsd::metadata {

/// Adds `ip`/32 to the loopback interface of the network namespace of process `pid` (unless it is
/// there already) and creates a TCP socket listening on ip:port in that namespace. Works from a
/// short-lived thread, since setns() changes only the calling thread. Needs CAP_SYS_ADMIN and
/// CAP_NET_ADMIN (ecsd as root).
/// @return the listening socket's fd, or -1 with `error` set.
int listen_in_netns(int pid, const std::string& ip, unsigned short port, std::string& error);

}  // namespace ecsd::metadata

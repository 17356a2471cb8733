// listen_in_netns(): setns into the container's network namespace, add the address with one
// rtnetlink request, bind, and go back. Linux only.
#include "ecsd/metadata/netns_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace ecsd::metadata {

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// RTM_NEWADDR ip/32 on interface `ifindex`; an address that is already there is fine.
bool add_address(in_addr addr, int ifindex, std::string& error) {
  int nl = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) {
    error = errno_text("netlink socket");
    return false;
  }
  struct {
    nlmsghdr nh;
    ifaddrmsg ifa;
    char attrs[64];
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.nh.nlmsg_seq = 1;
  req.ifa.ifa_family = AF_INET;
  req.ifa.ifa_prefixlen = 32;
  req.ifa.ifa_scope = RT_SCOPE_HOST;
  req.ifa.ifa_index = static_cast<unsigned>(ifindex);
  for (unsigned short type : {static_cast<unsigned short>(IFA_LOCAL), static_cast<unsigned short>(IFA_ADDRESS)}) {
    auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(sizeof(addr));
    std::memcpy(RTA_DATA(rta), &addr, sizeof(addr));
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  bool ok = ::sendto(nl, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) >= 0;
  if (!ok) error = errno_text("netlink send");
  char reply[512];
  if (ok) {
    ssize_t n = ::recv(nl, reply, sizeof reply, 0);
    auto* nh = reinterpret_cast<nlmsghdr*>(reply);
    if (n < static_cast<ssize_t>(sizeof(nlmsghdr)) || nh->nlmsg_type != NLMSG_ERROR) {
      ok = false;
      error = "netlink: unexpected reply";
    } else {
      int code = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(nh))->error;
      if (code != 0 && code != EEXIST) {
        ok = false;
        error = std::string("adding the address: ") + std::strerror(code);
      }
    }
  }
  ::close(nl);
  return ok;
}

int listen_here(const std::string& ip, unsigned short port, std::string& error) {
  in_addr addr{};
  if (::inet_pton(AF_INET, ip.c_str(), &addr) != 1) {
    error = "not an IPv4 address: " + ip;
    return -1;
  }
  int lo = static_cast<int>(::if_nametoindex("lo"));
  if (lo == 0) {
    error = errno_text("no loopback interface");
    return -1;
  }
  if (!add_address(addr, lo, error)) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket");
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr = addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    error = errno_text("bind/listen");
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int listen_in_netns(int pid, const std::string& ip, unsigned short port, std::string& error) {
  int result = -1;
  std::thread worker([&] {
    int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = ::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    if (self < 0 || target < 0) {
      error = errno_text("opening network namespaces");
    } else if (::setns(target, CLONE_NEWNET) != 0) {
      error = errno_text("setns");
    } else {
      result = listen_here(ip, port, error);
      // A thread that cannot return to ecsd's namespace must not run anything else: it ends here
      // either way, and sockets keep the namespace they were created in.
      if (::setns(self, CLONE_NEWNET) != 0 && error.empty()) error = errno_text("setns back");
    }
    if (self >= 0) ::close(self);
    if (target >= 0) ::close(target);
  });
  worker.join();
  return result;
}

}  // namespace ecsd::metadata

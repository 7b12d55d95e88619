/*
 * tsnetlink: a container endpoint's links, addresses and routes over rtnetlink, in one process, so an
 * endpoint costs one exec instead of `ip -batch` on the host side plus `nsenter ip -batch` inside.
 *
 *   tsnetlink veth HOSTIF BRIDGE NETNS IFNAME MAC ADDR/PREFIX GATEWAY|- MTU|0
 *       Creates the veth pair HOSTIF <-> IFNAME with the peer born inside NETNS (a path: /proc/PID/ns/net,
 *       /run/netns/NAME, a bind-mounted file) with its final name and MAC, plugs HOSTIF into BRIDGE and
 *       brings it up; then, inside NETNS, adds ADDR/PREFIX to IFNAME, brings IFNAME and lo up and, unless
 *       GATEWAY is "-", replaces the default route with one via GATEWAY on IFNAME. On any failure after
 *       the pair exists, HOSTIF is deleted (which takes the peer with it): nothing is left half-made.
 *   tsnetlink del NAME
 *       Deletes link NAME; a link that does not exist is not an error.
 *
 * Option (first): --host-netns PATH runs the host side in that namespace instead of our own (tests).
 * Exit 0 on success; otherwise one line on stderr naming the step, the link and the kernel's answer
 * ("netlink error" with errno and, where the kernel gives one, its extended-ack message), exit 1.
 * Usage errors exit 2. The TypeScript caller validates names and addresses; this program only executes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

__attribute__((noreturn, format(printf, 2, 3))) static void die(int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "tsnetlink: %s\n", msg);
  exit(code);
}

/* ---------------------------------------------------------------- messages */

struct msg {
  union {
    struct nlmsghdr h;
    char bytes[4096];
  } u;
};

static uint32_t seq;

static struct nlmsghdr *msg_init(struct msg *m, uint16_t type, uint16_t flags, const void *body, size_t len) {
  memset(m, 0, sizeof *m);
  m->u.h.nlmsg_type = type;
  m->u.h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  m->u.h.nlmsg_seq = ++seq;
  m->u.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
  memcpy(NLMSG_DATA(&m->u.h), body, len);
  m->u.h.nlmsg_len = NLMSG_ALIGN(m->u.h.nlmsg_len);
  return &m->u.h;
}

/* Appends raw bytes at the (aligned) end of the message. */
static void *put_raw(struct nlmsghdr *h, const void *data, size_t len) {
  if (NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(len) > sizeof(struct msg)) die(1, "netlink message too long");
  char *at = (char *)h + NLMSG_ALIGN(h->nlmsg_len);
  memcpy(at, data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + (uint32_t)RTA_ALIGN(len);
  return at;
}

static struct rtattr *put_attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len) {
  struct rtattr a = {(unsigned short)RTA_LENGTH(len), type};
  if (NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) > sizeof(struct msg)) die(1, "netlink message too long");
  struct rtattr *at = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  memcpy(at, &a, sizeof a);
  if (len) memcpy(RTA_DATA(at), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + (uint32_t)RTA_SPACE(len);
  return at;
}

static void put_str(struct nlmsghdr *h, uint16_t type, const char *s) { put_attr(h, type, s, strlen(s) + 1); }
static void put_u32(struct nlmsghdr *h, uint16_t type, uint32_t v) { put_attr(h, type, &v, sizeof v); }
static struct rtattr *nest_start(struct nlmsghdr *h, uint16_t type) { return put_attr(h, type, NULL, 0); }
static void nest_end(struct nlmsghdr *h, struct rtattr *a) { a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a); }

/* ---------------------------------------------------------------- talking */

static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die(1, "open a NETLINK_ROUTE socket: %s", strerror(errno));
  int one = 1;
  /* The kernel's own words for a refusal ("Master device not found"...), and acks without the echo. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die(1, "bind a NETLINK_ROUTE socket: %s", strerror(errno));
  return fd;
}

/* Sends a request and waits for its ack: 0, or the negative errno, with the extended-ack text in why. */
static int nl_call(int fd, struct nlmsghdr *h, char *why, size_t whylen) {
  why[0] = 0;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do n = sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  static char buf[16384] __attribute__((aligned(4)));
  for (;;) {
    do n = recv(fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)n); r = NLMSG_NEXT(r, n)) {
      if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR) continue;
      struct nlmsgerr *e = NLMSG_DATA(r);
      if (e->error && (r->nlmsg_flags & NLM_F_ACK_TLVS)) {
        /* With NETLINK_CAP_ACK the echoed request is only its header. */
        size_t off = NLMSG_ALIGN(sizeof *e);
        struct rtattr *a = (struct rtattr *)((char *)e + off);
        int left = (int)r->nlmsg_len - (int)NLMSG_HDRLEN - (int)off;
        for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
          if (a->rta_type == NLMSGERR_ATTR_MSG) snprintf(why, whylen, "%.*s", (int)RTA_PAYLOAD(a), (char *)RTA_DATA(a));
      }
      return e->error;
    }
  }
}

/* "File exists (netlink error 17: ...)"-style text for a failed call. */
static const char *explain(int err, const char *why) {
  static char out[600];
  size_t n = strlen(why);
  while (n && why[n - 1] == '\n') n--;
  if (n) snprintf(out, sizeof out, "%s (netlink error %d: %.*s)", strerror(-err), -err, (int)n, why);
  else snprintf(out, sizeof out, "%s (netlink error %d)", strerror(-err), -err);
  return out;
}

/* ---------------------------------------------------------------- operations */

static int link_index(const char *name) { return (int)if_nametoindex(name); }

static int del_link(int fd, int index, char *why, size_t whylen) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  struct msg m;
  return nl_call(fd, msg_init(&m, RTM_DELLINK, 0, &ifi, sizeof ifi), why, whylen);
}

static int set_up(int fd, int index, int master, char *why, size_t whylen) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct msg m;
  struct nlmsghdr *h = msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (master > 0) put_u32(h, IFLA_MASTER, (uint32_t)master);
  return nl_call(fd, h, why, whylen);
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  char end;
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6) return -1;
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  return 0;
}

/* An address of either family: its family and length, or -1. */
static int parse_ip(const char *s, unsigned char out[16], int *family) {
  if (inet_pton(AF_INET, s, out) == 1) {
    *family = AF_INET;
    return 4;
  }
  if (inet_pton(AF_INET6, s, out) == 1) {
    *family = AF_INET6;
    return 16;
  }
  return -1;
}

static void enter_netns(const char *path, const char *what) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(1, "%s: open netns %s: %s", what, path, strerror(errno));
  if (setns(fd, CLONE_NEWNET) < 0) die(1, "%s: enter netns %s: %s", what, path, strerror(errno));
  close(fd);
}

static int cmd_veth(char **a) {
  const char *hostif = a[0], *bridge = a[1], *nspath = a[2], *ifname = a[3], *macs = a[4], *cidr = a[5], *gws = a[6];
  unsigned mtu = (unsigned)strtoul(a[7], NULL, 10);
  unsigned char mac[6], addr[16], gw[16];
  int family = 0, gwfamily = 0, alen, prefix;
  char ip[64];
  if (parse_mac(macs, mac) < 0) die(2, "invalid MAC %s", macs);
  const char *slash = strchr(cidr, '/');
  if (!slash || (size_t)(slash - cidr) >= sizeof ip) die(2, "invalid address %s: expected ADDR/PREFIX", cidr);
  memcpy(ip, cidr, (size_t)(slash - cidr));
  ip[slash - cidr] = 0;
  prefix = atoi(slash + 1);
  if ((alen = parse_ip(ip, addr, &family)) < 0 || prefix < 0 || prefix > alen * 8) die(2, "invalid address %s", cidr);
  int has_gw = strcmp(gws, "-") != 0;
  if (has_gw && (parse_ip(gws, gw, &gwfamily) < 0 || gwfamily != family)) die(2, "invalid gateway %s for %s", gws, cidr);

  char why[512];
  int host = nl_open();
  int br = link_index(bridge);
  if (!br) die(1, "link %s: bridge %s: no such device", hostif, bridge);
  int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) die(1, "link %s: open netns %s: %s", hostif, nspath, strerror(errno));

  /* The peer is born inside the container's namespace with its final name and MAC: no rename step,
   * and no moment where a half-made device sits in the host's namespace. */
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct msg m;
  struct nlmsghdr *h = msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  put_str(h, IFLA_IFNAME, hostif);
  if (mtu) put_u32(h, IFLA_MTU, mtu);
  struct rtattr *info = nest_start(h, IFLA_LINKINFO);
  put_str(h, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest_start(h, IFLA_INFO_DATA);
  struct rtattr *peer = nest_start(h, VETH_INFO_PEER);
  put_raw(h, &ifi, sizeof ifi);
  put_str(h, IFLA_IFNAME, ifname);
  put_attr(h, IFLA_ADDRESS, mac, 6);
  if (mtu) put_u32(h, IFLA_MTU, mtu);
  put_u32(h, IFLA_NET_NS_FD, (uint32_t)nsfd);
  nest_end(h, peer);
  nest_end(h, data);
  nest_end(h, info);
  int err = nl_call(host, h, why, sizeof why);
  /* Nothing was made: the name may belong to someone else, so there is nothing of ours to undo. */
  if (err) die(1, "create veth %s (peer %s in %s): %s", hostif, ifname, nspath, explain(err, why));

  int hidx = link_index(hostif);
  const char *step = NULL, *link = hostif;
  if (!hidx) err = -ENODEV, step = "find", why[0] = 0;
  else if ((err = set_up(host, hidx, br, why, sizeof why))) step = "plug into bridge and bring up";

  if (!step) {
    if (setns(nsfd, CLONE_NEWNET) < 0) err = -errno, step = "enter the netns of", why[0] = 0;
  }
  if (!step) {
    /* A socket belongs to the namespace it was opened in: this one talks to the container's. */
    int ctr = nl_open();
    int idx = link_index(ifname), lo = link_index("lo");
    link = ifname;
    if (!idx) {
      err = -ENODEV, step = "find", why[0] = 0;
    } else {
      struct ifaddrmsg ifa = {.ifa_family = (unsigned char)family, .ifa_prefixlen = (unsigned char)prefix, .ifa_index = (unsigned)idx};
      h = msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
      put_attr(h, IFA_LOCAL, addr, (size_t)alen);
      put_attr(h, IFA_ADDRESS, addr, (size_t)alen);
      if ((err = nl_call(ctr, h, why, sizeof why))) step = "add address to";
      else if ((err = set_up(ctr, idx, 0, why, sizeof why))) step = "bring up";
      else if (lo && (err = set_up(ctr, lo, 0, why, sizeof why))) step = "bring up", link = "lo";
      else if (has_gw) {
        struct rtmsg rt = {.rtm_family = (unsigned char)family, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
        h = msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
        put_attr(h, RTA_GATEWAY, gw, (size_t)alen);
        put_u32(h, RTA_OIF, (uint32_t)idx);
        if ((err = nl_call(ctr, h, why, sizeof why))) step = "set the default route via the gateway on";
      }
    }
    close(ctr);
  }
  if (!step) return 0;
  /* Roll back through the host's socket, whichever namespace we are in now: deleting the host end
   * takes the peer inside the container with it. */
  char msg[700];
  snprintf(msg, sizeof msg, "%s %s%s%s: %s", step, link, strcmp(link, hostif) ? " in " : "", strcmp(link, hostif) ? nspath : "", explain(err, why));
  char why2[512];
  int derr = hidx ? del_link(host, hidx, why2, sizeof why2) : 0;
  if (derr && derr != -ENODEV) die(1, "%s; and the rollback failed: delete %s: %s", msg, hostif, explain(derr, why2));
  die(1, "%s", msg);
}

static int cmd_del(const char *name) {
  int fd = nl_open();
  int idx = link_index(name);
  if (!idx) return 0;
  char why[512];
  int err = del_link(fd, idx, why, sizeof why);
  if (err && err != -ENODEV) die(1, "delete %s: %s", name, explain(err, why));
  return 0;
}

int main(int argc, char **argv) {
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "--host-netns")) {
    enter_netns(argv[i + 1], "host side");
    i += 2;
  }
  if (i < argc && !strcmp(argv[i], "veth") && argc - i - 1 == 8) return cmd_veth(argv + i + 1);
  if (i < argc && !strcmp(argv[i], "del") && argc - i - 1 == 1) return cmd_del(argv[i + 1]);
  die(2, "usage: tsnetlink [--host-netns PATH] veth HOSTIF BRIDGE NETNS IFNAME MAC ADDR/PREFIX GATEWAY|- MTU|0 | del NAME");
}

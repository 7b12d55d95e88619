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
 *   tsnetlink release NAME
 *       An endpoint's host end going away: takes NAME off its bridge and down at once, then deletes it
 *       in a forked child that nobody waits for (serve), since the kernel's unregister waits for RCU
 *       grace periods (~20 ms here) and the next container's endpoint should not queue behind that.
 *       Run once (not serve), it deletes in the foreground as del does.
 *
 *   tsnetlink serve
 *       Reads requests, one a line, each the arguments of one of the commands above separated by tabs,
 *       and answers each with one line: "ok", or "err MESSAGE". Between requests it is back in the
 *       network namespace it started in. The daemon keeps one of these, so an endpoint costs no process
 *       at all (a fork of a large Node process alone takes milliseconds).
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
#include <signal.h>
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

/* The failure of the current request: its message, and the exit code of a one-shot run (2: usage). */
static char errmsg[1200];
static int errcode;

__attribute__((format(printf, 2, 3))) static int failf(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  errcode = code;
  return -1;
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

/* Messages hold a handful of short attributes: running out of room is a bug here, not bad input. */
__attribute__((noreturn)) static void overflow(void) {
  fprintf(stderr, "tsnetlink: netlink message too long\n");
  abort();
}

/* Appends raw bytes at the (aligned) end of the message. */
static void *put_raw(struct nlmsghdr *h, const void *data, size_t len) {
  if (NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(len) > sizeof(struct msg)) overflow();
  char *at = (char *)h + NLMSG_ALIGN(h->nlmsg_len);
  memcpy(at, data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + (uint32_t)RTA_ALIGN(len);
  return at;
}

static struct rtattr *put_attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len) {
  struct rtattr a = {(unsigned short)RTA_LENGTH(len), type};
  if (NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) > sizeof(struct msg)) overflow();
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

/* A NETLINK_ROUTE socket of the current network namespace, or -1 (errmsg set). */
static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return failf(1, "open a NETLINK_ROUTE socket: %s", strerror(errno));
  int one = 1;
  /* The kernel's own words for a refusal ("Master device not found"...), and acks without the echo. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return failf(1, "bind a NETLINK_ROUTE socket: %s", strerror(e));
  }
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

static int enter_netns(const char *path, const char *what) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failf(1, "%s: open netns %s: %s", what, path, strerror(errno));
  int r = setns(fd, CLONE_NEWNET);
  int e = errno;
  close(fd);
  if (r < 0) return failf(1, "%s: enter netns %s: %s", what, path, strerror(e));
  return 0;
}

/* The container-side steps, in the container's namespace; 0, or -1 with step/link/err set. */
struct failure {
  const char *step, *link;
  int err;
  char why[512];
};

static int container_side(const char *ifname, int family, const unsigned char *addr, int alen, int prefix, int has_gw, const unsigned char *gw, struct failure *f) {
  /* A socket belongs to the namespace it was opened in: this one talks to the container's. */
  int ctr = nl_open();
  if (ctr < 0) {
    f->step = "open netlink in the netns of", f->err = -EIO, snprintf(f->why, sizeof f->why, "%.500s", errmsg);
    return -1;
  }
  int idx = link_index(ifname), lo = link_index("lo");
  struct msg m;
  struct nlmsghdr *h;
  f->link = ifname;
  f->why[0] = 0;
  if (!idx) {
    f->err = -ENODEV, f->step = "find";
  } else {
    struct ifaddrmsg ifa = {.ifa_family = (unsigned char)family, .ifa_prefixlen = (unsigned char)prefix, .ifa_index = (unsigned)idx};
    h = msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
    put_attr(h, IFA_LOCAL, addr, (size_t)alen);
    put_attr(h, IFA_ADDRESS, addr, (size_t)alen);
    if ((f->err = nl_call(ctr, h, f->why, sizeof f->why))) f->step = "add address to";
    else if ((f->err = set_up(ctr, idx, 0, f->why, sizeof f->why))) f->step = "bring up";
    else if (lo && (f->err = set_up(ctr, lo, 0, f->why, sizeof f->why))) f->step = "bring up", f->link = "lo";
    else if (has_gw) {
      struct rtmsg rt = {.rtm_family = (unsigned char)family, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
      h = msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
      put_attr(h, RTA_GATEWAY, gw, (size_t)alen);
      put_u32(h, RTA_OIF, (uint32_t)idx);
      if ((f->err = nl_call(ctr, h, f->why, sizeof f->why))) f->step = "set the default route via the gateway on";
    }
  }
  close(ctr);
  return f->step ? -1 : 0;
}

/* Everything the command opened, closed on every path. */
static int cmd_veth(char **a, int home) {
  const char *hostif = a[0], *bridge = a[1], *nspath = a[2], *ifname = a[3], *macs = a[4], *cidr = a[5], *gws = a[6];
  unsigned mtu = (unsigned)strtoul(a[7], NULL, 10);
  unsigned char mac[6], addr[16], gw[16];
  int family = 0, gwfamily = 0, alen, prefix;
  char ip[64];
  if (parse_mac(macs, mac) < 0) return failf(2, "invalid MAC %s", macs);
  const char *slash = strchr(cidr, '/');
  if (!slash || (size_t)(slash - cidr) >= sizeof ip) return failf(2, "invalid address %s: expected ADDR/PREFIX", cidr);
  memcpy(ip, cidr, (size_t)(slash - cidr));
  ip[slash - cidr] = 0;
  prefix = atoi(slash + 1);
  if ((alen = parse_ip(ip, addr, &family)) < 0 || prefix < 0 || prefix > alen * 8) return failf(2, "invalid address %s", cidr);
  int has_gw = strcmp(gws, "-") != 0;
  if (has_gw && (parse_ip(gws, gw, &gwfamily) < 0 || gwfamily != family)) return failf(2, "invalid gateway %s for %s", gws, cidr);

  char why[512];
  int br = link_index(bridge);
  if (!br) return failf(1, "link %s: bridge %s: no such device", hostif, bridge);
  int host = nl_open();
  if (host < 0) return -1;
  int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    int e = errno;
    close(host);
    return failf(1, "link %s: open netns %s: %s", hostif, nspath, strerror(e));
  }

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
  if (err) {
    /* Nothing was made: the name may belong to someone else, so there is nothing of ours to undo. */
    close(nsfd);
    close(host);
    return failf(1, "create veth %s (peer %s in %s): %s", hostif, ifname, nspath, explain(err, why));
  }

  struct failure f = {NULL, hostif, 0, ""};
  int hidx = link_index(hostif);
  if (!hidx) f.err = -ENODEV, f.step = "find";
  else if ((f.err = set_up(host, hidx, br, f.why, sizeof f.why))) f.step = "plug into bridge and bring up";
  else if (setns(nsfd, CLONE_NEWNET) < 0) f.err = -errno, f.step = "enter the netns of";
  else {
    container_side(ifname, family, addr, alen, prefix, has_gw, gw, &f);
    /* Back home for the next request (serve), whatever happened in there. */
    if (home >= 0 && setns(home, CLONE_NEWNET) < 0) {
      fprintf(stderr, "tsnetlink: cannot return to its own network namespace: %s\n", strerror(errno));
      abort();
    }
  }
  close(nsfd);
  if (!f.step) {
    close(host);
    return 0;
  }
  /* Roll back through the host's socket, whichever namespace we are in now: deleting the host end
   * takes the peer inside the container with it. */
  char msg[700];
  int inside = strcmp(f.link, hostif) != 0;
  snprintf(msg, sizeof msg, "%s %s%s%s: %s", f.step, f.link, inside ? " in " : "", inside ? nspath : "", explain(f.err, f.why));
  char why2[512];
  int derr = hidx ? del_link(host, hidx, why2, sizeof why2) : 0;
  close(host);
  if (derr && derr != -ENODEV) return failf(1, "%s; and the rollback failed: delete %s: %s", msg, hostif, explain(derr, why2));
  return failf(1, "%s", msg);
}

/* Off the bridge and down now; the delete itself in a child, or here when `background` is 0. */
static int cmd_release(const char *name, int background) {
  int idx = link_index(name);
  if (!idx) return 0;
  int fd = nl_open();
  if (fd < 0) return -1;
  char why[512];
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = idx, .ifi_flags = 0, .ifi_change = IFF_UP};
  struct msg m;
  struct nlmsghdr *h = msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  put_u32(h, IFLA_MASTER, 0);
  int err = nl_call(fd, h, why, sizeof why);
  if (err == -ENODEV) {
    close(fd);
    return 0;
  }
  if (err) {
    close(fd);
    return failf(1, "take %s off its bridge: %s", name, explain(err, why));
  }
  pid_t child = background ? fork() : 0;
  if (child == 0) {
    err = del_link(fd, idx, why, sizeof why);
    if (err && err != -ENODEV) {
      if (!background) {
        close(fd);
        return failf(1, "delete %s: %s", name, explain(err, why));
      }
      fprintf(stderr, "tsnetlink: delete %s (in the background): %s\n", name, explain(err, why));
    }
    if (background) _exit(0);
  }
  /* A failed fork leaves the link down and off the bridge; the delete is then done here. */
  if (child < 0 && (err = del_link(fd, idx, why, sizeof why)) && err != -ENODEV) {
    close(fd);
    return failf(1, "delete %s: %s", name, explain(err, why));
  }
  close(fd);
  return 0;
}

static int cmd_del(const char *name) {
  int idx = link_index(name);
  if (!idx) return 0;
  int fd = nl_open();
  if (fd < 0) return -1;
  char why[512];
  int err = del_link(fd, idx, why, sizeof why);
  close(fd);
  if (err && err != -ENODEV) return failf(1, "delete %s: %s", name, explain(err, why));
  return 0;
}

#define USAGE "usage: tsnetlink [--host-netns PATH] veth HOSTIF BRIDGE NETNS IFNAME MAC ADDR/PREFIX GATEWAY|- MTU|0 | del NAME | release NAME | serve"

/* One command's arguments (after the program name); `home` is the namespace to return to, or -1. */
static int dispatch(int argc, char **argv, int home) {
  int i = 0;
  if (i + 1 < argc && !strcmp(argv[i], "--host-netns")) {
    if (enter_netns(argv[i + 1], "host side") < 0) return -1;
    i += 2;
  }
  int r;
  if (i < argc && !strcmp(argv[i], "veth") && argc - i - 1 == 8) r = cmd_veth(argv + i + 1, home);
  else if (i < argc && !strcmp(argv[i], "del") && argc - i - 1 == 1) r = cmd_del(argv[i + 1]);
  else if (i < argc && !strcmp(argv[i], "release") && argc - i - 1 == 1) r = cmd_release(argv[i + 1], home >= 0);
  else r = failf(2, USAGE);
  if (i && home >= 0 && setns(home, CLONE_NEWNET) < 0) {
    fprintf(stderr, "tsnetlink: cannot return to its own network namespace: %s\n", strerror(errno));
    abort();
  }
  return r;
}

/* Requests on stdin until EOF; answers on stdout, one line each, flushed. */
static int serve(void) {
  /* Background deletes are reaped by the kernel: no zombies, nobody waits for them. */
  signal(SIGCHLD, SIG_IGN);
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    fprintf(stderr, "tsnetlink: open /proc/self/ns/net: %s\n", strerror(errno));
    return 1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    if (n && line[n - 1] == '\n') line[--n] = 0;
    char *args[16];
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, "\t", &save); tok && argc < 16; tok = strtok_r(NULL, "\t", &save)) args[argc++] = tok;
    if (dispatch(argc, args, home) == 0) fputs("ok\n", stdout);
    else {
      for (char *c = errmsg; *c; c++)
        if (*c == '\n') *c = ' ';
      fprintf(stdout, "err %s\n", errmsg);
    }
    fflush(stdout);
  }
  free(line);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "serve")) return serve();
  if (dispatch(argc - 1, argv + 1, -1) == 0) return 0;
  fprintf(stderr, "tsnetlink: %s\n", errmsg);
  return errcode ? errcode : 1;
}

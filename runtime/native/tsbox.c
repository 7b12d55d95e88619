/*
 * tsbox: the steps between clone and exec, which a multi-threaded Node process cannot do itself.
 *
 *   tsbox create PLANFD REPORTFD [EXITFD]
 *       Reads a plan (NUL-separated directives, see runtime/plan.ts) from PLANFD, double-forks a
 *       detached monitor, which clones the container init. The init sets up namespaces, root and
 *       mounts, then reports ready and blocks on <statedir>/exec.fifo until `start` writes a byte.
 *       The monitor writes "ok PID MONITORPID\n" or "err CODE MESSAGE\n" to REPORTFD, then owns the container's
 *       stdout/stderr (log mode), writes <statedir>/exit when the init ends, and a copy to EXITFD.
 *   tsbox exec PLANFD [REPORTFD [RESIZEFD]]
 *       Joins the namespaces and cgroup of a running container and runs a process; exits with its
 *       status. Errors before exec go to REPORTFD as "CODE MESSAGE" and the exit code is 126/127.
 *       With "terminal 1" the process gets a pty of the container's devpts as its controlling
 *       terminal; tsbox copies its fd 0 to the pty and the pty to its fd 1, and applies "ROWS COLS\n"
 *       lines read from RESIZEFD as window sizes.
 *
 * Attach socket (plan "attach PATH", create only): the monitor listens on a unix stream socket; any
 * number of clients may connect. Both directions use Docker's stream framing, an 8-byte header
 * (type, 0, 0, 0, payload size big-endian) then the payload. Monitor to client: 1 stdout, 2 stderr
 * (a terminal's output is 1), copied to every client (and the log) as it is read; the monitor closes
 * the connections once the container has exited and its output is drained. Client to monitor:
 * 0 data for the container's stdin (the pty, or the stdin pipe of "stdin monitor"), 4 resize
 * (payload: rows, cols as 16-bit big-endian), 5 close stdin (a terminal gets its EOF character).
 * With "stdinonce 1", stdin is closed when the first client that wrote to it disconnects.
 *
 * Console socket (plan "console PATH", create with "terminal 1"): as runc's --console-socket, the
 * monitor connects to the unix socket PATH before the container exists and, once the init has its pty,
 * sends the pty master there (SCM_RIGHTS, one byte of payload) and keeps no copy: whoever listens owns
 * the terminal, and the monitor only records the exit.
 *
 * No JSON parsing here: the TypeScript driver decides everything and this program only executes.
 */
#define _GNU_SOURCE
/* Messages and paths are bounded on purpose; a truncated error message is fine. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* ---------------------------------------------------------------- errors */

/* strerror in Go's style ("no such file or directory"), as runc's messages read. */
static const char *serr(int e) {
  static char bufs[4][128];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, sizeof bufs[0], "%s", strerror(e));
  if (b[0] >= 'A' && b[0] <= 'Z' && !(b[1] >= 'A' && b[1] <= 'Z')) b[0] = (char)(b[0] - 'A' + 'a');
  return b;
}

/* Where a failing step reports: -1 = stderr. In the container init this is the error pipe to the
 * monitor until the init reports ready; in the monitor it is the report fd. */
static int err_fd = -1;
static int err_is_report; /* monitor: "err CODE MSG\n"; init/exec child: "CODE MSG" */

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int code, const char *fmt, ...) {
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char out[4200];
  int n;
  if (err_fd < 0) {
    n = snprintf(out, sizeof out, "tsbox: %s\n", msg);
    write_all(2, out, (size_t)n);
  } else if (err_is_report) {
    n = snprintf(out, sizeof out, "err %d %s\n", code, msg);
    write_all(err_fd, out, (size_t)n);
  } else {
    n = snprintf(out, sizeof out, "E%d %s", code, msg);
    write_all(err_fd, out, (size_t)n);
  }
  _exit(code);
}

#define CHECK(expr, ...)                                                    \
  do {                                                                      \
    if ((expr) < 0) {                                                       \
      int e_ = errno;                                                       \
      char w_[2048];                                                        \
      snprintf(w_, sizeof w_, __VA_ARGS__);                                 \
      fail(1, "%s: %s", w_, serr(e_));                                  \
    }                                                                       \
  } while (0)

/* ---------------------------------------------------------------- plan */

struct op {
  char kind; /* 'm' mount, 'd' device, 's' symlink */
  char **a;
};

struct nsent {
  const char *type;
  const char *path;
  int fd;
};

struct config {
  const char *id, *statedir, *rootfs, *ov_lower, *ov_upper, *ov_work, *hostname, *domainname, *cwd,
      *logpath;
  struct nsent ns[16];
  int nns;
  char uidmap[4096], gidmap[4096];
  const char *cgproc[32];
  int ncgproc;
  unsigned long rootprop;
  struct op *ops;
  int nops;
  const char **masks, **rdonly, **sysctl_k, **sysctl_v, **env, **argv;
  int nmasks, nrdonly, nsysctl, nenv, nargv;
  struct {
    int res;
    rlim_t soft, hard;
  } rl[32];
  int nrl;
  uint64_t cap_b, cap_e, cap_p, cap_i, cap_a;
  int have_caps, readonly, nnp, init, stdio_log, lo, have_oom, oomscore;
  int stdin_fd; /* -1: /dev/null, 0: keep ours, N: this inherited fd, -2: a pipe held by the monitor */
  int terminal, stdinonce;
  struct sock_filter *seccomp; /* compiled by runtime/seccomp/bpf.ts; NULL = none */
  unsigned short nseccomp;
  unsigned int seccomp_flags;
  int seccomp_done;
  unsigned short rows, cols;
  const char *attach; /* attach socket path */
  const char *console; /* console socket path: the terminal's master is sent there, as runc does */
  uid_t uid;
  gid_t gid;
  gid_t addgid[256];
  int naddgid;
  mode_t umask;
  pid_t pid;
};

static const struct {
  const char *key;
  int n;
} ARITY[] = {
    {"version", 1}, {"id", 1},      {"statedir", 1}, {"ns", 2},       {"uidmap", 3},     {"gidmap", 3},
    {"cgproc", 1},  {"rootfs", 1},  {"overlay", 3},  {"rootprop", 1}, {"mount", 6},      {"device", 8},
    {"symlink", 2}, {"mask", 1},    {"rdonly", 1},   {"readonly", 1}, {"hostname", 1},   {"domainname", 1},
    {"sysctl", 2},  {"rlimit", 3},  {"cap", 2},      {"nnp", 1},      {"uid", 1},        {"gid", 1},
    {"addgid", 1},  {"umask", 1},   {"cwd", 1},      {"env", 1},      {"arg", 1},        {"oomscore", 1},
    {"init", 1},    {"stdio", 1},   {"stdin", 1},    {"log", 1},      {"lo", 1},         {"pid", 1},
    {"terminal", 1}, {"winsize", 2}, {"attach", 1},  {"stdinonce", 1}, {"seccomp", 2},
    {"console", 1},
};

static char *read_fd(int fd, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) fail(1, "plan: out of memory");
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
      if (!buf) fail(1, "plan: out of memory");
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(1, "plan: read: %s", serr(errno));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

static long long num(const char *key, const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s) fail(1, "plan: %s: not a number: %s", key, s);
  return v;
}

static rlim_t rlim(const char *s) {
  return strcmp(s, "-1") == 0 ? RLIM_INFINITY : (rlim_t)strtoull(s, NULL, 10);
}

static int hexval(char ch) {
  return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The plan carries the sock_filter array as hex: the plan format is NUL-separated text. */
static void parse_seccomp(struct config *c, const char *flags, const char *hex) {
  size_t n = strlen(hex);
  if (n == 0 || n % (2 * sizeof(struct sock_filter)) || n / 2 / sizeof(struct sock_filter) > BPF_MAXINSNS)
    fail(1, "plan: seccomp: program of %zu hex digits is not whole instructions (or too long)", n);
  unsigned char *buf = malloc(n / 2);
  if (!buf) fail(1, "plan: seccomp: out of memory");
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) fail(1, "plan: seccomp: not hex at %zu", 2 * i);
    buf[i] = (unsigned char)(hi << 4 | lo);
  }
  c->seccomp = (struct sock_filter *)buf;
  c->nseccomp = (unsigned short)(n / 2 / sizeof(struct sock_filter));
  c->seccomp_flags = (unsigned int)num("seccomp", flags);
}

static void append_map(char *map, size_t size, char **a) {
  size_t len = strlen(map);
  snprintf(map + len, size - len, "%s %s %s\n", a[0], a[1], a[2]);
}

static void parse_plan(int fd, struct config *c) {
  size_t len;
  char *buf = read_fd(fd, &len);
  close(fd);
  /* Tokens: every NUL-terminated string. At most len/1 tokens; size the arrays by that. */
  size_t ntok = 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == 0) ntok++;
  char **tok = calloc(ntok + 1, sizeof *tok);
  size_t t = 0;
  for (size_t i = 0, start = 0; i < len; i++)
    if (buf[i] == 0) {
      tok[t++] = buf + start;
      start = i + 1;
    }
  memset(c, 0, sizeof *c);
  c->ops = calloc(ntok + 1, sizeof *c->ops);
  c->masks = calloc(ntok + 1, sizeof(char *));
  c->rdonly = calloc(ntok + 1, sizeof(char *));
  c->sysctl_k = calloc(ntok + 1, sizeof(char *));
  c->sysctl_v = calloc(ntok + 1, sizeof(char *));
  c->env = calloc(ntok + 2, sizeof(char *)); /* + HOME */
  c->argv = calloc(ntok + 1, sizeof(char *));
  c->umask = 022;
  c->stdin_fd = -1;
  c->cwd = "/";
  for (size_t i = 0; i < ntok;) {
    const char *k = tok[i];
    int n = -1;
    for (size_t j = 0; j < sizeof ARITY / sizeof ARITY[0]; j++)
      if (strcmp(ARITY[j].key, k) == 0) n = ARITY[j].n;
    if (n < 0) fail(1, "plan: unknown key \"%s\" (driver and tsbox out of step?)", k);
    if (i + 1 + (size_t)n > ntok) fail(1, "plan: %s: missing arguments", k);
    char **a = &tok[i + 1];
    i += 1 + (size_t)n;
    if (!strcmp(k, "version")) {
      if (strcmp(a[0], "1")) fail(1, "plan: version %s not supported", a[0]);
    } else if (!strcmp(k, "id")) c->id = a[0];
    else if (!strcmp(k, "statedir")) c->statedir = a[0];
    else if (!strcmp(k, "ns")) {
      if (c->nns == 16) fail(1, "plan: too many namespaces");
      c->ns[c->nns].type = a[0];
      c->ns[c->nns].path = a[1];
      c->ns[c->nns].fd = -1;
      c->nns++;
    } else if (!strcmp(k, "uidmap")) append_map(c->uidmap, sizeof c->uidmap, a);
    else if (!strcmp(k, "gidmap")) append_map(c->gidmap, sizeof c->gidmap, a);
    else if (!strcmp(k, "cgproc")) {
      if (c->ncgproc == 32) fail(1, "plan: too many cgroup files");
      c->cgproc[c->ncgproc++] = a[0];
    } else if (!strcmp(k, "rootfs")) c->rootfs = a[0];
    else if (!strcmp(k, "overlay")) {
      c->ov_lower = a[0];
      c->ov_upper = a[1];
      c->ov_work = a[2];
    } else if (!strcmp(k, "rootprop")) c->rootprop = (unsigned long)num(k, a[0]);
    else if (!strcmp(k, "mount")) c->ops[c->nops++] = (struct op){'m', a};
    else if (!strcmp(k, "device")) c->ops[c->nops++] = (struct op){'d', a};
    else if (!strcmp(k, "symlink")) c->ops[c->nops++] = (struct op){'s', a};
    else if (!strcmp(k, "mask")) c->masks[c->nmasks++] = a[0];
    else if (!strcmp(k, "rdonly")) c->rdonly[c->nrdonly++] = a[0];
    else if (!strcmp(k, "readonly")) c->readonly = a[0][0] == '1';
    else if (!strcmp(k, "hostname")) c->hostname = a[0];
    else if (!strcmp(k, "domainname")) c->domainname = a[0];
    else if (!strcmp(k, "sysctl")) {
      c->sysctl_k[c->nsysctl] = a[0];
      c->sysctl_v[c->nsysctl++] = a[1];
    } else if (!strcmp(k, "rlimit")) {
      if (c->nrl == 32) fail(1, "plan: too many rlimits");
      c->rl[c->nrl].res = (int)num(k, a[0]);
      c->rl[c->nrl].soft = rlim(a[1]);
      c->rl[c->nrl].hard = rlim(a[2]);
      c->nrl++;
    } else if (!strcmp(k, "cap")) {
      uint64_t m = strtoull(a[1], NULL, 16);
      c->have_caps = 1;
      switch (a[0][0]) {
        case 'b': c->cap_b = m; break;
        case 'e': c->cap_e = m; break;
        case 'p': c->cap_p = m; break;
        case 'i': c->cap_i = m; break;
        case 'a': c->cap_a = m; break;
        default: fail(1, "plan: cap: unknown set %s", a[0]);
      }
    } else if (!strcmp(k, "nnp")) c->nnp = a[0][0] == '1';
    else if (!strcmp(k, "uid")) c->uid = (uid_t)num(k, a[0]);
    else if (!strcmp(k, "gid")) c->gid = (gid_t)num(k, a[0]);
    else if (!strcmp(k, "addgid")) {
      if (c->naddgid == 256) fail(1, "plan: too many groups");
      c->addgid[c->naddgid++] = (gid_t)num(k, a[0]);
    } else if (!strcmp(k, "umask")) c->umask = (mode_t)num(k, a[0]);
    else if (!strcmp(k, "cwd")) c->cwd = a[0];
    else if (!strcmp(k, "env")) c->env[c->nenv++] = a[0];
    else if (!strcmp(k, "arg")) c->argv[c->nargv++] = a[0];
    else if (!strcmp(k, "oomscore")) {
      c->have_oom = 1;
      c->oomscore = (int)num(k, a[0]);
    } else if (!strcmp(k, "init")) c->init = a[0][0] == '1';
    else if (!strcmp(k, "stdio")) c->stdio_log = !strcmp(a[0], "log");
    else if (!strcmp(k, "stdin"))
      c->stdin_fd = !strcmp(a[0], "null") ? -1 : !strcmp(a[0], "inherit") ? 0 : !strcmp(a[0], "monitor") ? -2 : (int)num(k, a[0]);
    else if (!strcmp(k, "terminal")) c->terminal = a[0][0] == '1';
    else if (!strcmp(k, "winsize")) {
      c->rows = (unsigned short)num(k, a[0]);
      c->cols = (unsigned short)num(k, a[1]);
    } else if (!strcmp(k, "attach")) c->attach = a[0];
    else if (!strcmp(k, "console")) c->console = a[0];
    else if (!strcmp(k, "stdinonce")) c->stdinonce = a[0][0] == '1';
    else if (!strcmp(k, "seccomp")) parse_seccomp(c, a[0], a[1]);
    else if (!strcmp(k, "log")) c->logpath = a[0];
    else if (!strcmp(k, "lo")) c->lo = a[0][0] == '1';
    else if (!strcmp(k, "pid")) c->pid = (pid_t)num(k, a[0]);
  }
  if (c->nargv == 0) fail(1, "plan: no process arguments");
}

/* ---------------------------------------------------------------- small helpers */

static void write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(1, "open %s: %s", path, serr(errno));
  ssize_t n = write(fd, data, strlen(data));
  if (n < 0) {
    int e = errno;
    close(fd);
    fail(1, "write %s to %s: %s", data, path, serr(e));
  }
  close(fd);
}

static int ns_flag(const char *type) {
  if (!strcmp(type, "pid")) return CLONE_NEWPID;
  if (!strcmp(type, "mnt")) return CLONE_NEWNS;
  if (!strcmp(type, "uts")) return CLONE_NEWUTS;
  if (!strcmp(type, "ipc")) return CLONE_NEWIPC;
  if (!strcmp(type, "net")) return CLONE_NEWNET;
  if (!strcmp(type, "user")) return CLONE_NEWUSER;
  if (!strcmp(type, "cgroup")) return CLONE_NEWCGROUP;
  fail(1, "plan: unknown namespace type %s", type);
}

/* Joining our own namespace again (user ns: EINVAL) is pointless; detect it by inode. */
static int same_ns(int fd, const char *type) {
  char self[64];
  struct stat a, b;
  snprintf(self, sizeof self, "/proc/self/ns/%s", type);
  if (fstat(fd, &a) < 0 || stat(self, &b) < 0) return 0;
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void open_ns(struct config *c) {
  for (int i = 0; i < c->nns; i++) {
    if (!c->ns[i].path[0]) continue;
    c->ns[i].fd = open(c->ns[i].path, O_RDONLY | O_CLOEXEC);
    if (c->ns[i].fd < 0) fail(1, "%s namespace %s: %s", c->ns[i].type, c->ns[i].path, serr(errno));
  }
}

static void join_ns(struct config *c, const char *only) {
  for (int i = 0; i < c->nns; i++) {
    struct nsent *n = &c->ns[i];
    if (n->fd < 0 || strcmp(n->type, only)) continue;
    if (!same_ns(n->fd, n->type)) CHECK(setns(n->fd, ns_flag(n->type)), "join %s namespace %s", n->type, n->path);
    close(n->fd);
    n->fd = -1;
  }
}

static int has_new_ns(struct config *c, const char *type) {
  for (int i = 0; i < c->nns; i++)
    if (!strcmp(c->ns[i].type, type) && !c->ns[i].path[0]) return 1;
  return 0;
}

/* Any mount namespace, new or joined: without one the runtime-spec says we stay in our own, so the
 * root file system is not set up at all (as runc); the plan refuses mounts in that case. */
static int has_ns(struct config *c, const char *type) {
  for (int i = 0; i < c->nns; i++)
    if (!strcmp(c->ns[i].type, type)) return 1;
  return 0;
}

static void join_cgroups(struct config *c, pid_t pid) {
  char s[32];
  snprintf(s, sizeof s, "%d", pid);
  for (int i = 0; i < c->ncgproc; i++) write_file(c->cgproc[i], s);
}

/* ---------------------------------------------------------------- paths inside the root */

/* Resolves `unsafe` inside `root` like filepath-securejoin: symlinks are followed as if root were
 * "/", and ".." never climbs above it, so a hostile image cannot make us mount over host paths. */
static void securejoin(const char *root, const char *unsafe, char *out, size_t outsz) {
  char rest[PATH_MAX * 2], cur[PATH_MAX] = "";
  int links = 0;
  snprintf(rest, sizeof rest, "%s", unsafe);
  char *p = rest;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    char comp[NAME_MAX + 1];
    if (len > NAME_MAX) fail(1, "path %s: component too long", unsafe);
    memcpy(comp, p, len);
    comp[len] = 0;
    p += len;
    if (!strcmp(comp, ".")) continue;
    if (!strcmp(comp, "..")) {
      char *last = strrchr(cur, '/');
      if (last) *last = 0;
      continue;
    }
    char cand[PATH_MAX * 2];
    snprintf(cand, sizeof cand, "%s%s/%s", root, cur, comp);
    struct stat st;
    if (lstat(cand, &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++links > 255) fail(1, "path %s: too many levels of symbolic links", unsafe);
      char target[PATH_MAX];
      ssize_t n = readlink(cand, target, sizeof target - 1);
      if (n < 0) fail(1, "readlink %s: %s", cand, serr(errno));
      target[n] = 0;
      if (target[0] == '/') cur[0] = 0;
      char next[PATH_MAX * 2];
      snprintf(next, sizeof next, "%s/%s", target, p);
      snprintf(rest, sizeof rest, "%s", next);
      p = rest;
      continue;
    }
    size_t cl = strlen(cur);
    if (cl + 1 + len >= sizeof cur) fail(1, "path %s: too long", unsafe);
    cur[cl] = '/';
    memcpy(cur + cl + 1, comp, len + 1);
  }
  snprintf(out, outsz, "%s%s", root, cur[0] ? cur : "");
}

static void mkdir_p(const char *path, mode_t mode) {
  /* Usually the directory, or all but its last part, exists already. */
  if (mkdir(path, mode) == 0 || errno == EEXIST) return;
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(tmp, mode) < 0 && errno != EEXIST) fail(1, "mkdir %s: %s", tmp, serr(errno));
    *p = '/';
  }
  if (mkdir(tmp, mode) < 0 && errno != EEXIST) fail(1, "mkdir %s: %s", tmp, serr(errno));
}

static void parent_dir(const char *path, char *out, size_t sz) {
  snprintf(out, sz, "%s", path);
  char *s = strrchr(out, '/');
  if (s && s != out) *s = 0;
}

static void ensure_file(const char *path) {
  char dir[PATH_MAX];
  parent_dir(path, dir, sizeof dir);
  mkdir_p(dir, 0755);
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 && errno != EISDIR) fail(1, "create %s: %s", path, serr(errno));
  if (fd >= 0) close(fd);
}

/* Mount flags the kernel refuses to clear on remount in a user namespace ("locked"); keep them. */
static unsigned long locked_flags(const char *path) {
  struct statvfs s;
  unsigned long f = 0;
  if (statvfs(path, &s) < 0) return 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* keep: also keep the mount's current flags (read-only paths, like runc), not only when the kernel
 * insists on it (EPERM for locked flags in a user namespace). */
static int remount_bind(const char *path, unsigned long flags, int keep) {
  if (keep) flags |= locked_flags(path);
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags | locked_flags(path), NULL);
}

/* ---------------------------------------------------------------- the container's root */

static void do_mount(struct config *c, char **a) {
  const char *src = a[0], *dst = a[1], *type = a[2], *data = a[5];
  unsigned long flags = (unsigned long)num("mount", a[3]), prop = (unsigned long)num("mount", a[4]);
  char target[PATH_MAX];
  securejoin(c->rootfs, dst, target, sizeof target);
  if (!type[0]) { /* a remount of something mounted earlier */
    CHECK(mount(NULL, target, NULL, flags, NULL), "remount %s", dst);
    return;
  }
  if (!strcmp(type, "bind")) {
    struct stat st;
    if (stat(src, &st) < 0) fail(1, "bind mount source %s: %s", src, serr(errno));
    if (S_ISDIR(st.st_mode)) mkdir_p(target, 0755);
    else ensure_file(target);
    CHECK(mount(src, target, NULL, MS_BIND | (flags & MS_REC), NULL), "bind mount %s on %s", src, dst);
    unsigned long rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (rest) CHECK(remount_bind(target, rest, 0), "remount %s with its options", dst);
  } else {
    mkdir_p(target, 0755);
    if (mount(src, target, type, flags, data[0] ? data : NULL) < 0) {
      int e = errno;
      /* Without owning the network namespace sysfs cannot be mounted; use the host's, read-only. */
      if (!strcmp(type, "sysfs") && (e == EPERM || e == EBUSY)) {
        CHECK(mount("/sys", target, NULL, MS_BIND | MS_REC, NULL), "bind /sys on %s", dst);
        CHECK(remount_bind(target, flags | MS_RDONLY, 0), "remount %s read-only", dst);
      } else {
        fail(1, "mount %s on %s (type %s, options \"%s\"): %s", src, dst, type, data, serr(e));
      }
    }
  }
  if (prop) CHECK(mount(NULL, target, NULL, prop, NULL), "set propagation of %s", dst);
}

static void do_device(struct config *c, char **a) {
  char target[PATH_MAX], dir[PATH_MAX];
  const char *path = a[0];
  char type = a[1][0];
  unsigned maj = (unsigned)num("device", a[2]), min = (unsigned)num("device", a[3]);
  mode_t mode = (mode_t)num("device", a[4]);
  uid_t uid = (uid_t)num("device", a[5]);
  gid_t gid = (gid_t)num("device", a[6]);
  int bind = a[7][0] == '1';
  securejoin(c->rootfs, path, target, sizeof target);
  parent_dir(target, dir, sizeof dir);
  mkdir_p(dir, 0755);
  if (bind) { /* mknod is not allowed in a user namespace: bind the host's node instead */
    ensure_file(target);
    CHECK(mount(path, target, NULL, MS_BIND, NULL), "bind device %s", path);
    return;
  }
  mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  unlink(target);
  CHECK(mknod(target, fmt | (mode & 07777), makedev(maj, min)), "mknod %s", path);
  CHECK(chmod(target, mode & 07777), "chmod %s", path);
  CHECK(chown(target, uid, gid), "chown %s", path);
}

static void do_symlink(struct config *c, char **a) {
  char dir[PATH_MAX], rdir[PATH_MAX], target[PATH_MAX + NAME_MAX + 2];
  parent_dir(a[1], dir, sizeof dir);
  securejoin(c->rootfs, dir, rdir, sizeof rdir);
  const char *base = strrchr(a[1], '/');
  base = base ? base + 1 : a[1];
  snprintf(target, sizeof target, "%s/%s", rdir, base);
  mkdir_p(rdir, 0755);
  if (symlink(a[0], target) < 0) {
    if (errno != EEXIST) fail(1, "symlink %s -> %s: %s", a[1], a[0], serr(errno));
    unlink(target);
    CHECK(symlink(a[0], target), "symlink %s -> %s", a[1], a[0]);
  }
}

static void pivot_into(const char *rootfs) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  CHECK(oldroot, "open /");
  int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  CHECK(newroot, "open %s", rootfs);
  CHECK(fchdir(newroot), "chdir %s", rootfs);
  /* runc's trick: pivot "." onto ".", then detach the old root stacked underneath. */
  CHECK(syscall(SYS_pivot_root, ".", "."), "pivot_root %s", rootfs);
  CHECK(fchdir(oldroot), "chdir old root");
  CHECK(mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL), "make old root slave");
  CHECK(umount2(".", MNT_DETACH), "unmount old root");
  CHECK(chdir("/"), "chdir /");
  close(oldroot);
  close(newroot);
}

static void mask_path(const char *p) {
  struct stat st;
  if (stat(p, &st) < 0) return;
  if (S_ISDIR(st.st_mode)) {
    CHECK(mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL), "mask %s", p);
  } else {
    CHECK(mount("/dev/null", p, NULL, MS_BIND, NULL), "mask %s", p);
  }
}

static void readonly_path(const char *p) {
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    fail(1, "bind %s read-only: %s", p, serr(errno));
  }
  CHECK(remount_bind(p, MS_RDONLY | MS_REC, 1), "remount %s read-only", p);
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(s, "socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  CHECK(ioctl(s, SIOCGIFFLAGS, &ifr), "get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  CHECK(ioctl(s, SIOCSIFFLAGS, &ifr), "bring lo up");
  close(s);
}

/* ---------------------------------------------------------------- process identity */

static int cap_last(void) {
  int last = 40;
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char b[16] = {0};
    if (read(fd, b, sizeof b - 1) > 0) last = atoi(b);
    close(fd);
  }
  return last;
}

/* Without no_new_privs the kernel wants CAP_SYS_ADMIN, so set_identity installs the filter before it
 * drops capabilities (the filter then also sees setuid/capset, as under runc); with no_new_privs it is
 * installed last, just before execve, so it filters as little of our own set-up as possible. */
static void install_seccomp(struct config *c) {
  if (!c->seccomp || c->seccomp_done) return;
  struct sock_fprog prog = {c->nseccomp, c->seccomp};
  CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c->seccomp_flags, &prog), "seccomp: install the filter");
  c->seccomp_done = 1;
}

static void set_identity(struct config *c) {
  if (!c->nnp) install_seccomp(c);
  int last = cap_last();
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  uint64_t have = ~0ULL;
  /* Ask only for what we hold ourselves (e.g. "privileged" on a host that lacks a capability). */
  if (syscall(SYS_capget, &h, d) == 0) have = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
  CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "keep capabilities");
  if (c->have_caps)
    for (int i = 0; i <= last; i++)
      if (!(c->cap_b & (1ULL << i))) CHECK(prctl(PR_CAPBSET_DROP, i, 0, 0, 0), "drop capability %d from bounding set", i);
  CHECK(setgroups((size_t)c->naddgid, c->addgid), "setgroups");
  CHECK(setresgid(c->gid, c->gid, c->gid), "setgid %u", c->gid);
  CHECK(setresuid(c->uid, c->uid, c->uid), "setuid %u", c->uid);
  if (c->have_caps) {
    uint64_t e = c->cap_e & have, p = c->cap_p & have, in = c->cap_i & have;
    memset(d, 0, sizeof d);
    d[0].effective = (uint32_t)e;
    d[1].effective = (uint32_t)(e >> 32);
    d[0].permitted = (uint32_t)p;
    d[1].permitted = (uint32_t)(p >> 32);
    d[0].inheritable = (uint32_t)in;
    d[1].inheritable = (uint32_t)(in >> 32);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = 0;
    CHECK(syscall(SYS_capset, &h, d), "capset");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int i = 0; i <= last; i++)
      if ((c->cap_a & have) & (1ULL << i)) CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0), "raise ambient capability %d", i);
  }
  CHECK(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "reset keep capabilities");
  if (c->nnp) CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs");
}

static void set_rlimits(struct config *c) {
  for (int i = 0; i < c->nrl; i++) {
    struct rlimit r = {c->rl[i].soft, c->rl[i].hard};
    CHECK(setrlimit(c->rl[i].res, &r), "setrlimit %d", c->rl[i].res);
  }
}

static const char *env_get(struct config *c, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < c->nenv; i++)
    if (!strncmp(c->env[i], name, n) && c->env[i][n] == '=') return c->env[i] + n + 1;
  return NULL;
}

/* Like runc: without HOME in the environment, use the user's home from the container's
 * /etc/passwd, or "/". */
static void add_home(struct config *c) {
  if (env_get(c, "HOME")) return;
  static char home[PATH_MAX + 8];
  snprintf(home, sizeof home, "HOME=/");
  FILE *f = fopen("/etc/passwd", "re");
  if (f) {
    char line[1024];
    while (fgets(line, sizeof line, f)) {
      char *fields[7] = {0};
      int n = 0;
      for (char *p = line, *tok; n < 7 && (tok = strsep(&p, ":")); ) fields[n++] = tok;
      if (n < 6 || !fields[2][0] || (uid_t)strtoul(fields[2], NULL, 10) != c->uid) continue;
      snprintf(home, sizeof home, "HOME=%s", fields[5]);
      break;
    }
    fclose(f);
  }
  c->env[c->nenv++] = home;
}

/* ---------------------------------------------------------------- terminals */

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Passes fd over a unix socket (SCM_RIGHTS): the pty master is opened inside the container's devpts
 * and goes to the monitor (or the exec bridge), which lives in the host's mount namespace. */
/* One byte of payload plus room for one fd: the message both ends of an fd pass use. */
struct fd_msg {
  char byte;
  struct iovec iov;
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr m;
};

static void fd_msg_init(struct fd_msg *f) {
  memset(f, 0, sizeof *f);
  f->byte = 'T';
  f->iov.iov_base = &f->byte;
  f->iov.iov_len = 1;
  f->m.msg_iov = &f->iov;
  f->m.msg_iovlen = 1;
  f->m.msg_control = f->u.buf;
  f->m.msg_controllen = sizeof f->u.buf;
}

/* 0, or -1 with errno set. */
static int send_fd_checked(int sock, int fd) {
  struct fd_msg f;
  fd_msg_init(&f);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&f.m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  while (sendmsg(sock, &f.m, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) return -1;
  return 0;
}

static void send_fd(int sock, int fd) {
  if (send_fd_checked(sock, fd) < 0) fail(1, "terminal: pass the pty on: %s", serr(errno));
}

/* Returns the fd sent by send_fd, or -1 when the peer closed without sending one. */
static int recv_fd(int sock) {
  struct fd_msg f;
  fd_msg_init(&f);
  ssize_t n;
  do n = recvmsg(sock, &f.m, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&f.m);
  if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

static void set_winsize(int fd, unsigned rows, unsigned cols) {
  if (!rows || !cols || rows > 65535 || cols > 65535) return;
  struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
  ioctl(fd, TIOCSWINSZ, &ws);
}

/* In the container's mount namespace, so /dev/ptmx is the container's own devpts and the process
 * sees /dev/pts/N of its own: a new pty whose slave becomes our controlling terminal and fds 0-2.
 * The master goes to `sock`. The caller leads its session (setsid). */
static void take_terminal(struct config *c, int sock) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) fail(1, "terminal: open /dev/ptmx: %s (a devpts must be mounted on /dev/pts)", serr(errno));
  int unlock = 0;
  CHECK(ioctl(m, TIOCSPTLCK, &unlock), "terminal: unlock the pty");
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  CHECK(s, "terminal: open the pty's slave");
  set_winsize(m, c->rows, c->cols);
  /* Owned by the process's user, as under runc, so it may change its own terminal's modes. */
  if (fchown(s, c->uid, (gid_t)-1) < 0) {
    /* Not fatal: a user namespace may not map the uid; the open fds work regardless. */
  }
  CHECK(ioctl(s, TIOCSCTTY, 0), "terminal: make the pty the controlling terminal");
  for (int i = 0; i < 3; i++) CHECK(dup2(s, i), "terminal: dup2");
  if (s > 2) close(s);
  send_fd(sock, m);
  close(m);
}

static int exec_code(int e) { return e == ENOENT || e == ENOTDIR || e == ELOOP ? 127 : 126; }

/* Finds the program like execvp would, in the container's PATH, so a missing one fails before
 * `start` with the message and exit code runc gives. */
static void resolve_program(struct config *c, char *out, size_t sz) {
  const char *prog = c->argv[0];
  if (strchr(prog, '/')) {
    snprintf(out, sz, "%s", prog);
  } else {
    const char *path = env_get(c, "PATH");
    if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int found = 0, last_err = ENOENT;
    const char *p = path;
    while (!found) {
      const char *colon = strchr(p, ':');
      size_t len = colon ? (size_t)(colon - p) : strlen(p);
      snprintf(out, sz, "%.*s%s%s", (int)len, len ? p : ".", "/", prog);
      struct stat st;
      if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        if (access(out, X_OK) == 0) found = 1;
        else last_err = errno;
      }
      if (!colon) break;
      p = colon + 1;
    }
    if (!found) {
      if (last_err == ENOENT) fail(127, "exec: \"%s\": executable file not found in $PATH", prog);
      fail(exec_code(last_err), "exec: %s: %s", prog, serr(last_err));
    }
    return;
  }
  struct stat st;
  if (stat(out, &st) < 0) fail(exec_code(errno), "exec: %s: %s", prog, serr(errno));
  if (S_ISDIR(st.st_mode)) fail(126, "exec: %s: is a directory", prog);
  if (access(out, X_OK) < 0) fail(exec_code(errno), "exec: %s: %s", prog, serr(errno));
}

static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

__attribute__((noreturn)) static void exec_program(struct config *c, const char *path) {
  c->argv[c->nargv] = NULL;
  c->env[c->nenv] = NULL;
  install_seccomp(c);
  execve(path, (char **)c->argv, (char **)c->env);
  fail(exec_code(errno), "exec: %s: %s", c->argv[0], serr(errno));
}

/* PID 1 when the spec asks for an init: reaps every zombie, forwards signals to the program, and
 * exits with its status. The program is forked here (its path is resolved and the fds are set up
 * already); the init itself then re-executes tsbox from init_exe_fd, so that `ps` in the container
 * reads "/sbin/tsswarm-init -- CMD..." like Docker's "/sbin/docker-init -- CMD..." instead of the
 * host path of this helper (PR_SET_MM_ARG_START is refused without CAP_SYS_RESOURCE in the init
 * user namespace). The child's pid travels on a pipe at INIT_PID_FD, not in argv or the environment,
 * so /proc/1/cmdline and /proc/1/environ read like Docker's. */
#define INIT_ARGV0 "/sbin/tsswarm-init"
#define INIT_PID_FD 3
/* Written (or closed) by the init once it has re-executed: the program waits for it, so it never
 * sees the helper's command line in /proc/1/cmdline. */
#define INIT_GO_FD 4
static int init_exe_fd = -1;

__attribute__((noreturn)) static void init_loop(pid_t child) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  /* Named before the fds close: closing INIT_GO_FD releases the program, which may read /proc/1/comm. */
  prctl(PR_SET_NAME, "tsswarm-init", 0, 0, 0);
  for (int i = 3; i < 1024; i++) close(i);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
      if (p != child) continue;
      /* A PID 1 cannot die of its own signal, so a signal death becomes 128+n, as with tini. */
      _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
  }
}

__attribute__((noreturn)) static void run_init(struct config *c, const char *path) {
  sigset_t all;
  sigfillset(&all);
  /* Blocked from before the fork to the end: the mask survives the exec, so no signal (and no
   * SIGCHLD of a quick program) is lost while the init re-executes. */
  sigprocmask(SIG_BLOCK, &all, NULL);
  int gp[2] = {-1, -1};
  if (init_exe_fd >= 0 && pipe2(gp, O_CLOEXEC) != 0) gp[0] = gp[1] = -1;
  pid_t child = fork();
  if (child < 0) fail(1, "init: fork: %s", serr(errno));
  if (child == 0) {
    if (init_exe_fd >= 0) close(init_exe_fd);
    if (gp[0] >= 0) {
      char b;
      close(gp[1]);
      /* A byte or end-of-file: either way PID 1 is done re-executing (or gave up). */
      while (read(gp[0], &b, 1) < 0 && errno == EINTR) {
      }
      close(gp[0]);
    }
    reset_signals();
    exec_program(c, path);
  }
  if (gp[0] >= 0) close(gp[0]);
  if (init_exe_fd >= 0) {
    /* Keep the exe fd and the go pipe out of the way, then hand the pid over on a pipe at
     * INIT_PID_FD and the go pipe at INIT_GO_FD. */
    int exe = fcntl(init_exe_fd, F_DUPFD_CLOEXEC, 100);
    int go = gp[1] >= 0 ? fcntl(gp[1], F_DUPFD_CLOEXEC, 101) : -1;
    for (int i = 3; i < 1024; i++)
      if (i != exe && i != go) close(i);
    int p[2];
    if (exe >= 0 && pipe(p) == 0) {
      char num[16];
      int n = snprintf(num, sizeof num, "%d", (int)child);
      if (write(p[1], num, (size_t)n) == n && (p[0] == INIT_PID_FD || dup2(p[0], INIT_PID_FD) == INIT_PID_FD)) {
        close(p[1]);
        if (p[0] != INIT_PID_FD) close(p[0]);
        /* dup2 clears close-on-exec, so the go pipe survives the exec (and only it). */
        if (go >= 0 && dup2(go, INIT_GO_FD) == INIT_GO_FD) close(go);
        const char **argv = calloc((size_t)c->nargv + 3, sizeof *argv);
        if (argv) {
          argv[0] = INIT_ARGV0;
          argv[1] = "--";
          for (int i = 0; i < c->nargv; i++) argv[i + 2] = c->argv[i];
          c->env[c->nenv] = NULL;
          syscall(SYS_execveat, exe, "", (char *const *)argv, (char *const *)c->env, AT_EMPTY_PATH);
        }
      }
    }
    /* The re-exec failed: stay the init in this process, only the command line differs. */
  }
  init_loop(child);
}

/* `tsbox` started as INIT_ARGV0 by run_init: read the program's pid and be the init. */
__attribute__((noreturn)) static void init_main(void) {
  char num[16] = {0};
  ssize_t n = read(INIT_PID_FD, num, sizeof num - 1);
  close(INIT_PID_FD);
  /* The program may go on now: our command line is the one it should see. */
  if (write(INIT_GO_FD, "g", 1) < 0) {
    /* No go pipe (older caller) or the program is gone: nothing waits on it. */
  }
  close(INIT_GO_FD);
  pid_t child = n > 0 ? (pid_t)atoi(num) : 0;
  /* Without a pid there is no one to forward to; kill(0, ...) would hit our own group. */
  if (child <= 0) _exit(1);
  init_loop(child);
}

/* ---------------------------------------------------------------- container init (clone child) */

struct child_fds {
  int go_r, ready_w, fifo, out_w, err_w, devnull, in_r, cons;
};

__attribute__((noreturn)) static void container_init(struct config *c, struct child_fds *f) {
  err_fd = f->ready_w;
  err_is_report = 0;
  char b;
  /* Wait for the monitor to put us in our cgroup and write the id maps. */
  if (read(f->go_r, &b, 1) != 1) _exit(1);
  close(f->go_r);
  /* Opened before pivot_root, while our own binary is still reachable, for run_init's re-exec.
   * O_RDONLY rather than O_PATH, since execveat needs a file it can read. */
  if (c->init) init_exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  umask(0);

  int newuser = has_new_ns(c, "user");
  join_ns(c, "user");
  if (newuser) {
    /* Become root of the new user namespace, so files we create are owned by a mapped id. */
    CHECK(setresgid(0, 0, 0), "setgid 0 in the user namespace");
    CHECK(setresuid(0, 0, 0), "setuid 0 in the user namespace");
  }
  int unshare_flags = 0;
  const char *types[] = {"mnt", "uts", "ipc", "net"};
  for (int i = 0; i < 4; i++)
    if (has_new_ns(c, types[i])) unshare_flags |= ns_flag(types[i]);
  if (unshare_flags) CHECK(unshare(unshare_flags), "unshare namespaces");
  join_ns(c, "ipc");
  join_ns(c, "uts");
  join_ns(c, "net");
  join_ns(c, "cgroup");
  join_ns(c, "mnt");
  /* After joining the cgroup: the new cgroup namespace is rooted at the container's own group. */
  if (has_new_ns(c, "cgroup")) CHECK(unshare(CLONE_NEWCGROUP), "unshare cgroup namespace");
  setsid();
  if (c->lo) loopback_up();

  if (has_ns(c, "mnt")) {
    CHECK(mount(NULL, "/", NULL, c->rootprop, NULL), "set propagation of /");
    if (c->ov_lower) {
      char data[4096];
      snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", c->ov_lower, c->ov_upper, c->ov_work);
      CHECK(mount("overlay", c->rootfs, "overlay", 0, data), "mount overlay on %s", c->rootfs);
    } else {
      CHECK(mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL), "bind rootfs %s", c->rootfs);
    }
    for (int i = 0; i < c->nops; i++) {
      struct op *o = &c->ops[i];
      if (o->kind == 'm') do_mount(c, o->a);
      else if (o->kind == 'd') do_device(c, o->a);
      else do_symlink(c, o->a);
    }
    pivot_into(c->rootfs);
    for (int i = 0; i < c->nrdonly; i++) readonly_path(c->rdonly[i]);
    for (int i = 0; i < c->nmasks; i++) mask_path(c->masks[i]);
    if (c->readonly) CHECK(remount_bind("/", MS_RDONLY, 1), "remount / read-only");
  }
  if (c->hostname) CHECK(sethostname(c->hostname, strlen(c->hostname)), "sethostname %s", c->hostname);
  if (c->domainname) CHECK(setdomainname(c->domainname, strlen(c->domainname)), "setdomainname %s", c->domainname);
  for (int i = 0; i < c->nsysctl; i++) {
    char p[PATH_MAX] = "/proc/sys/";
    size_t l = strlen(p);
    for (const char *k = c->sysctl_k[i]; *k && l < sizeof p - 1; k++) p[l++] = *k == '.' ? '/' : *k;
    p[l] = 0;
    write_file(p, c->sysctl_v[i]);
  }
  if (c->have_oom) {
    char s[16];
    snprintf(s, sizeof s, "%d", c->oomscore);
    write_file("/proc/self/oom_score_adj", s);
  }
  set_rlimits(c);

  if (c->terminal) {
    take_terminal(c, f->cons);
    close(f->cons);
  } else {
    if (c->stdin_fd == -2) {
      CHECK(dup2(f->in_r, 0), "stdin from the monitor's pipe");
      close(f->in_r);
    } else if (c->stdin_fd < 0) dup2(f->devnull, 0);
    else if (c->stdin_fd > 0) {
      CHECK(dup2(c->stdin_fd, 0), "stdin from fd %d", c->stdin_fd);
      if (c->stdin_fd > 2) close(c->stdin_fd);
    }
    if (c->stdio_log) {
      dup2(f->out_w, 1);
      dup2(f->err_w, 2);
      close(f->out_w);
      close(f->err_w);
    }
  }
  close(f->devnull);

  if (chdir(c->cwd) < 0) {
    /* Docker creates a missing working directory; an unreadable one is tried again as the user. */
    if (errno == ENOENT) {
      mkdir_p(c->cwd, 0755);
      CHECK(chdir(c->cwd), "chdir %s", c->cwd);
    } else if (errno != EACCES) {
      fail(1, "chdir %s: %s", c->cwd, serr(errno));
    }
  }
  add_home(c);
  set_identity(c);
  CHECK(chdir(c->cwd), "chdir %s", c->cwd);
  umask(c->umask);
  char path[PATH_MAX];
  resolve_program(c, path, sizeof path);

  /* Ready: from here on errors go to the container's stderr, as the monitor stops listening. */
  write_all(err_fd, "R", 1);
  close(err_fd);
  err_fd = -1;
  if (read(f->fifo, &b, 1) != 1) _exit(1);
  close(f->fifo);
  if (c->init) run_init(c, path);
  reset_signals();
  exec_program(c, path);
}

/* ---------------------------------------------------------------- monitor */

struct logbuf {
  int fd;
  const char *stream;
  int streamno; /* 1 stdout, 2 stderr: the attach frame type */
  char buf[16384];
  size_t len;
};

static void timestamp(char *out, size_t sz) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(out, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

/* One json-file line, like Docker's: {"log":"…","stream":"stdout","time":"…"}. */
static void log_line(int logfd, const char *stream, const char *s, size_t n) {
  static char out[16384 * 6 + 256];
  size_t o = 0;
  char ts[40];
  timestamp(ts, sizeof ts);
  o += (size_t)snprintf(out, sizeof out, "{\"log\":\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (ch) {
      case '"': out[o++] = '\\'; out[o++] = '"'; break;
      case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
      case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
      case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
      case '\t': out[o++] = '\\'; out[o++] = 't'; break;
      default:
        if (ch < 0x20 || ch == 0x7f) o += (size_t)snprintf(out + o, 7, "\\u%04x", ch);
        else out[o++] = (char)ch;
    }
  }
  o += (size_t)snprintf(out + o, sizeof out - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
  write_all(logfd, out, o);
}

/* --- attach clients. Single-threaded: everything below runs from the monitor's poll loop. */

#define MAX_CLIENTS 64
/* A client this far behind is dropped rather than let it stall the container's output. */
#define CLIENT_OUT_MAX (8u << 20)
/* Client input waiting for the container; past this the monitor stops reading clients. */
#define IN_HIGH (256u << 10)
#define FRAME_MAX 65536

enum { F_STDIN = 0, F_STDOUT = 1, F_STDERR = 2, F_RESIZE = 4, F_CLOSE_STDIN = 5 };

struct client {
  int fd;
  char *out;
  size_t olen, ocap;
  unsigned char in[8 + FRAME_MAX];
  size_t ilen;
  int wrote_stdin;
};

static struct {
  struct config *c;
  int lfd;            /* listening attach socket, or -1 */
  int target;         /* where stdin data goes: the pty master or the stdin pipe; -1: nowhere */
  int tty;            /* target is a pty master (also the output) */
  int close_after;    /* close the stdin pipe once `pend` is written */
  int once_done;      /* stdinonce has closed stdin */
  char *pend;         /* stdin data not yet written */
  size_t plen, pcap;
  struct client *cl[MAX_CLIENTS];
  int ncl;
} M = {NULL, -1, -1, 0, 0, 0, NULL, 0, 0, {0}, 0};

static int grow(char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 4096;
  while (n < need) n *= 2;
  char *b = realloc(*buf, n);
  if (!b) return -1;
  *buf = b;
  *cap = n;
  return 0;
}

static void stdin_flush(void) {
  while (M.plen > 0 && M.target >= 0) {
    ssize_t n = write(M.target, M.pend, M.plen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { /* the reader is gone (EPIPE, EIO): nothing more can be delivered */
      M.plen = 0;
      break;
    }
    memmove(M.pend, M.pend + n, M.plen - (size_t)n);
    M.plen -= (size_t)n;
  }
  if (M.plen == 0 && M.close_after && !M.tty && M.target >= 0) {
    close(M.target);
    M.target = -1;
  }
}

static void stdin_push(const void *d, size_t n) {
  if (M.target < 0 || M.close_after || n == 0) return;
  if (grow(&M.pend, &M.pcap, M.plen + n) < 0) return;
  memcpy(M.pend + M.plen, d, n);
  M.plen += n;
  stdin_flush();
}

/* EOF for the container's stdin: the pipe is closed; a terminal gets its EOF character, as if typed. */
static void stdin_close(void) {
  if (M.tty) {
    struct termios t;
    char eof = tcgetattr(M.target, &t) == 0 && t.c_cc[VEOF] ? (char)t.c_cc[VEOF] : 4;
    stdin_push(&eof, 1);
    return;
  }
  M.close_after = 1;
  stdin_flush();
}

/* Writes what the client can take now; -1 when it is gone. */
static int client_flush(struct client *k) {
  while (k->olen > 0) {
    ssize_t n = send(k->fd, k->out, k->olen, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n <= 0) return -1;
    memmove(k->out, k->out + n, k->olen - (size_t)n);
    k->olen -= (size_t)n;
  }
  return 0;
}

static void client_drop(int i) {
  struct client *k = M.cl[i];
  int was_stdin = k->wrote_stdin;
  close(k->fd);
  free(k->out);
  free(k);
  M.cl[i] = M.cl[--M.ncl];
  /* StdinOnce (not for terminals, as in Docker): the first writer going away closes stdin. */
  if (was_stdin && M.c->stdinonce && !M.tty && !M.once_done) {
    M.once_done = 1;
    stdin_close();
  }
}

static void broadcast(int stream, const char *d, size_t n) {
  unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
  for (int i = M.ncl - 1; i >= 0; i--) {
    struct client *k = M.cl[i];
    if (k->olen + 8 + n > CLIENT_OUT_MAX || grow(&k->out, &k->ocap, k->olen + 8 + n) < 0) {
      client_drop(i);
      continue;
    }
    memcpy(k->out + k->olen, h, 8);
    memcpy(k->out + k->olen + 8, d, n);
    k->olen += 8 + n;
    if (client_flush(k) < 0) client_drop(i);
  }
}

static void client_accept(void) {
  for (;;) {
    int fd = accept4(M.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    struct client *k = M.ncl < MAX_CLIENTS ? calloc(1, sizeof *k) : NULL;
    if (!k) {
      close(fd);
      continue;
    }
    k->fd = fd;
    M.cl[M.ncl++] = k;
  }
}

static void client_frame(struct client *k, int type, const unsigned char *p, size_t n) {
  if (type == F_STDIN) {
    k->wrote_stdin = 1;
    stdin_push(p, n);
  } else if (type == F_RESIZE && n >= 4 && M.tty) {
    set_winsize(M.target, (unsigned)(p[0] << 8 | p[1]), (unsigned)(p[2] << 8 | p[3]));
  } else if (type == F_CLOSE_STDIN) {
    stdin_close();
  }
}

/* Reads and acts on a client's frames; returns -1 when it has gone (or broke the protocol). */
static int client_read(struct client *k) {
  ssize_t n = read(k->fd, k->in + k->ilen, sizeof k->in - k->ilen);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) return -1;
  k->ilen += (size_t)n;
  size_t off = 0;
  while (k->ilen - off >= 8) {
    unsigned char *h = k->in + off;
    size_t size = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
    if (size > FRAME_MAX) return -1;
    if (k->ilen - off < 8 + size) break;
    client_frame(k, h[0], h + 8, size);
    off += 8 + size;
  }
  memmove(k->in, k->in + off, k->ilen - off);
  k->ilen -= off;
  return 0;
}

/* The listening socket; a long state dir path is reached through /proc/self/fd (sun_path is short). */
static int attach_listen(const char *path) {
  char dir[PATH_MAX], p[sizeof(((struct sockaddr_un *)0)->sun_path)];
  parent_dir(path, dir, sizeof dir);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(1, "attach socket: open %s: %s", dir, serr(errno));
  int n = snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, base);
  if (n < 0 || (size_t)n >= sizeof p) fail(1, "attach socket: name %s too long", base);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  CHECK(fd, "attach socket");
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, p, (size_t)n + 1);
  unlink(path);
  /* Only root (the daemon) may attach: what is typed goes to the container as its stdin. */
  mode_t old = umask(077);
  int r = bind(fd, (struct sockaddr *)&a, sizeof a);
  int e = errno;
  umask(old);
  close(dfd);
  if (r < 0) fail(1, "attach socket: bind %s: %s", path, serr(e));
  CHECK(listen(fd, 16), "attach socket: listen on %s", path);
  return fd;
}

/* Connects to the console socket, through /proc/self/fd for a long path as attach_listen does. */
static int console_connect(const char *path) {
  char dir[PATH_MAX], p[sizeof(((struct sockaddr_un *)0)->sun_path)];
  parent_dir(path, dir, sizeof dir);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(1, "console socket %s: open %s: %s", path, dir, serr(errno));
  int n = snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, base);
  if (n < 0 || (size_t)n >= sizeof p) fail(1, "console socket %s: name %s too long", path, base);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd, "console socket: socket");
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, p, (size_t)n + 1);
  int r;
  do r = connect(fd, (struct sockaddr *)&a, sizeof a);
  while (r < 0 && errno == EINTR);
  int e = errno;
  close(dfd);
  if (r < 0) fail(1, "console socket %s: connect: %s (a unix stream socket must be listening there)", path, serr(e));
  return fd;
}

/* Returns 0 at EOF. Bytes go to the attached clients at once; complete lines are logged with their
 * "\n", and a full buffer is logged as a partial. */
static int pump(struct logbuf *b, int logfd) {
  ssize_t n = read(b->fd, b->buf + b->len, sizeof b->buf - b->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) { /* EOF, or EIO from a pty master once no slave is left */
    if (b->len) log_line(logfd, b->stream, b->buf, b->len);
    b->len = 0;
    return 0;
  }
  broadcast(b->streamno, b->buf + b->len, (size_t)n);
  b->len += (size_t)n;
  size_t start = 0;
  for (size_t i = 0; i < b->len; i++)
    if (b->buf[i] == '\n') {
      log_line(logfd, b->stream, b->buf + start, i + 1 - start);
      start = i + 1;
    }
  memmove(b->buf, b->buf + start, b->len - start);
  b->len -= start;
  if (b->len == sizeof b->buf) {
    log_line(logfd, b->stream, b->buf, b->len);
    b->len = 0;
  }
  return 1;
}

/* At the end: give clients up to 2 s to take what is queued for them, then hang up on them all. */
static void clients_finish(void) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    struct pollfd p[MAX_CLIENTS];
    int np = 0;
    for (int i = M.ncl - 1; i >= 0; i--) {
      if (client_flush(M.cl[i]) < 0) client_drop(i);
    }
    for (int i = 0; i < M.ncl; i++)
      if (M.cl[i]->olen) p[np++] = (struct pollfd){M.cl[i]->fd, POLLOUT, 0};
    clock_gettime(CLOCK_MONOTONIC, &t);
    long left = 2000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
    if (np == 0 || left <= 0) break;
    poll(p, (nfds_t)np, (int)left);
  }
  while (M.ncl > 0) {
    M.cl[M.ncl - 1]->wrote_stdin = 0;
    client_drop(M.ncl - 1);
  }
}

static void record_exit(struct config *c, int status, int exitfd) {
  int code = 0, sig = 0;
  if (WIFEXITED(status)) code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) {
    sig = WTERMSIG(status);
    code = 128 + sig;
  }
  char ts[40], line[256], tmp[PATH_MAX], final[PATH_MAX];
  timestamp(ts, sizeof ts);
  int n = snprintf(line, sizeof line, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", code, sig, ts);
  snprintf(tmp, sizeof tmp, "%s/exit.tmp", c->statedir);
  snprintf(final, sizeof final, "%s/exit", c->statedir);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, line, (size_t)n);
    close(fd);
    rename(tmp, final);
  }
  if (exitfd >= 0) write_all(exitfd, line, (size_t)n);
}

static int fd_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) >= 0; }

/* The pipe keeper, a child of the monitor: it holds the read ends of the container's stdout and
 * stderr pipes (or, for a terminal, a copy of the pty master as `out` and no `err`) and nothing else.
 * While the monitor lives it only waits; if the monitor dies (kill -9), the pipes stay open because
 * the keeper still has them, so the container's next write does not die of SIGPIPE (nor a terminal
 * hang up with SIGHUP when its master's last holder goes), and the keeper goes on writing the json log
 * until the container closes its ends (a pty master then reads EIO). The exit status stays lost with
 * the monitor (it was the init's parent): the runtime records 255. */
__attribute__((noreturn)) static void pipe_keeper(int alive, int out, int err, int logfd) {
  prctl(PR_SET_NAME, "tsbox-keeper", 0, 0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_IGN);
  for (int fd = 3; fd < 65536; fd++)
    if (fd != alive && fd != out && fd != err && fd != logfd) close(fd);
  /* The monitor holds the only write end: POLLHUP when it is gone, however it went. */
  struct pollfd a = {alive, POLLIN, 0};
  while (poll(&a, 1, -1) < 0 && errno == EINTR) {
  }
  static char buf[2][16384];
  size_t len[2] = {0, 0};
  int fds[2] = {out, err};
  const char *names[2] = {"stdout", "stderr"};
  while (fds[0] >= 0 || fds[1] >= 0) {
    struct pollfd p[2];
    int idx[2], n = 0;
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0) {
        p[n].fd = fds[i];
        p[n].events = POLLIN;
        p[n].revents = 0;
        idx[n++] = i;
      }
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < n; k++) {
      if (!p[k].revents) continue;
      int i = idx[k];
      ssize_t r = read(fds[i], buf[i] + len[i], sizeof buf[i] - len[i]);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (len[i]) log_line(logfd, names[i], buf[i], len[i]);
        len[i] = 0;
        close(fds[i]);
        fds[i] = -1;
        continue;
      }
      len[i] += (size_t)r;
      size_t start = 0;
      for (size_t j = 0; j < len[i]; j++)
        if (buf[i][j] == '\n') {
          log_line(logfd, names[i], buf[i] + start, j + 1 - start);
          start = j + 1;
        }
      /* A line longer than the buffer is written in pieces, as Docker's 16K split does. */
      if (start == 0 && len[i] == sizeof buf[i]) start = len[i], log_line(logfd, names[i], buf[i], len[i]);
      memmove(buf[i], buf[i] + start, len[i] - start);
      len[i] -= start;
    }
  }
  _exit(0);
}

/* Forks the keeper; alive[1] stays open (and unused) in the monitor for as long as it lives. */
static void start_keeper(int alive[2], int out, int err, int logfd) {
  if (pipe2(alive, O_CLOEXEC) < 0) return; /* no keeper: the container still runs, as before one existed */
  pid_t k = fork();
  if (k == 0) pipe_keeper(alive[0], out, err, logfd);
  close(alive[0]);
}

__attribute__((noreturn)) static void monitor(struct config *c, int reportfd, int exitfd) {
  err_fd = reportfd;
  err_is_report = 1;
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  prctl(PR_SET_NAME, "tsbox-monitor", 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  M.c = c;

  int gop[2], readyp[2], outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1}, consp[2] = {-1, -1}, logfd = -1;
  CHECK(pipe2(gop, O_CLOEXEC), "pipe");
  CHECK(pipe2(readyp, O_CLOEXEC), "pipe");
  if (c->stdio_log) {
    logfd = open(c->logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (logfd < 0) fail(1, "open log %s: %s", c->logpath, serr(errno));
    if (!c->terminal) {
      CHECK(pipe2(outp, O_CLOEXEC), "pipe");
      CHECK(pipe2(errp, O_CLOEXEC), "pipe");
    }
  }
  if (c->terminal && (c->stdio_log || c->console)) CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, consp), "socketpair");
  /* Before the clone, as runc does: a console socket nobody listens on fails the create at once. */
  int consolefd = c->terminal && c->console ? console_connect(c->console) : -1;
  if (c->stdin_fd == -2 && !c->terminal) CHECK(pipe2(inp, O_CLOEXEC), "pipe");
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  CHECK(devnull, "open /dev/null");
  char fifo[PATH_MAX];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", c->statedir);
  /* Before the clone: a client may attach as soon as create has answered, and see all output. */
  if (c->attach) M.lfd = attach_listen(c->attach);
  CHECK(mkfifo(fifo, 0600), "mkfifo %s", fifo);
  /* O_RDWR never blocks on a fifo; the init holds the only reader, so `start` fails fast with
   * ENXIO once the init is gone. */
  int fifofd = open(fifo, O_RDWR | O_CLOEXEC);
  if (fifofd < 0) {
    int e = errno;
    unlink(fifo);
    fail(1, "open %s: %s", fifo, serr(e));
  }
  open_ns(c);
  join_ns(c, "pid"); /* applies to the child we are about to clone */

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  CHECK(sfd, "signalfd");

  int flags = SIGCHLD;
  if (has_new_ns(c, "pid")) flags |= CLONE_NEWPID;
  if (has_new_ns(c, "user")) flags |= CLONE_NEWUSER;
  pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    int e = errno;
    unlink(fifo);
    fail(1, "clone: %s", serr(e));
  }
  if (pid == 0) {
    close(reportfd);
    if (exitfd >= 0) close(exitfd);
    close(sfd);
    if (logfd >= 0) close(logfd);
    if (M.lfd >= 0) close(M.lfd);
    close(gop[1]);
    close(readyp[0]);
    if (outp[0] >= 0) close(outp[0]);
    if (errp[0] >= 0) close(errp[0]);
    if (inp[1] >= 0) close(inp[1]);
    if (consp[0] >= 0) close(consp[0]);
    if (consolefd >= 0) close(consolefd);
    struct child_fds f = {gop[0], readyp[1], fifofd, outp[1], errp[1], devnull, inp[0], consp[1]};
    container_init(c, &f);
  }
  close(gop[0]);
  close(readyp[1]);
  close(fifofd);
  if (c->stdin_fd > 2) close(c->stdin_fd);
  if (outp[1] >= 0) close(outp[1]);
  if (errp[1] >= 0) close(errp[1]);
  if (inp[0] >= 0) close(inp[0]);
  if (consp[1] >= 0) close(consp[1]);
  for (int i = 0; i < c->nns; i++)
    if (c->ns[i].fd >= 0) close(c->ns[i].fd);
  /* The keeper is forked now: the init has the write ends, we (and it) only the read ends. */
  int alivep[2] = {-1, -1};
  if (outp[0] >= 0) start_keeper(alivep, outp[0], errp[0], logfd);

  /* Set up the child from outside: id maps, then its cgroup, then let it go. */
  char path[PATH_MAX];
  const char *step = NULL;
  char why[512] = "";
  if (c->uidmap[0]) {
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, c->uidmap, strlen(c->uidmap)) < 0) step = "write uid_map";
    if (fd >= 0) close(fd);
  }
  if (!step && c->gidmap[0]) {
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, c->gidmap, strlen(c->gidmap)) < 0) step = "write gid_map";
    if (fd >= 0) close(fd);
  }
  if (step) snprintf(why, sizeof why, "%s: %s", step, serr(errno));
  char spid[32];
  snprintf(spid, sizeof spid, "%d", pid);
  for (int i = 0; !why[0] && i < c->ncgproc; i++) {
    int fd = open(c->cgproc[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, spid, strlen(spid)) < 0)
      snprintf(why, sizeof why, "join cgroup %s: %s", c->cgproc[i], serr(errno));
    if (fd >= 0) close(fd);
  }
  if (why[0]) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(fifo);
    if (c->attach) unlink(c->attach);
    fail(1, "%s", why);
  }
  write_all(gop[1], "G", 1);
  close(gop[1]);

  /* Wait for "R" (ready) or "E<code> <message>" then EOF (failed before exec). */
  char msg[4200];
  size_t mlen = 0;
  for (;;) {
    ssize_t n = read(readyp[0], msg + mlen, sizeof msg - 1 - mlen);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    mlen += (size_t)n;
    if (msg[0] == 'R') break;
  }
  msg[mlen] = 0;
  close(readyp[0]);
  /* The init sends the pty master before it reports ready. */
  int master = -1;
  if (mlen > 0 && msg[0] == 'R' && consp[0] >= 0) {
    master = recv_fd(consp[0]);
    if (master < 0) snprintf(msg, sizeof msg, "E1 terminal: the container init did not pass its pty");
    mlen = strlen(msg);
  }
  if (consp[0] >= 0) close(consp[0]);
  if (master >= 0 && consolefd >= 0) {
    /* The listener owns the terminal from now on; no copy stays here (runc keeps none either). */
    if (send_fd_checked(consolefd, master) < 0) snprintf(msg, sizeof msg, "E1 console socket %s: send the pty master: %s", c->console, serr(errno));
    mlen = strlen(msg);
    close(master);
    master = -1;
  }
  if (consolefd >= 0) close(consolefd);
  /* A terminal's keeper holds a copy of the master, forked only now that there is one. */
  if (master >= 0 && logfd >= 0 && msg[0] == 'R') start_keeper(alivep, master, -1, logfd);
  if (mlen == 0 || msg[0] != 'R') {
    int status = 0;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    unlink(fifo);
    if (c->attach) unlink(c->attach);
    if (mlen > 1 && msg[0] == 'E') {
      char *sp = strchr(msg, ' ');
      int code = atoi(msg + 1);
      char out[4400];
      int n = snprintf(out, sizeof out, "err %d %s\n", code ? code : 1, sp ? sp + 1 : "failed");
      write_all(reportfd, out, (size_t)n);
      _exit(1);
    }
    fail(1, "container init exited during set-up (status %d)", status);
  }
  char ok[64];
  int n = snprintf(ok, sizeof ok, "ok %d %d\n", pid, getpid());
  write_all(reportfd, ok, (size_t)n);
  close(reportfd);
  err_fd = -1;
  /* Let go of whatever the starter gave us, so it sees EOF and can go away. */
  dup2(devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);
  close(devnull);

  struct logbuf out = {outp[0], "stdout", F_STDOUT, {0}, 0}, err = {errp[0], "stderr", F_STDERR, {0}, 0};
  if (master >= 0) {
    out.fd = master;
    M.target = master;
    M.tty = 1;
  } else if (inp[1] >= 0) {
    M.target = inp[1];
  }
  if (M.target >= 0) fcntl(M.target, F_SETFL, fcntl(M.target, F_GETFL) | O_NONBLOCK);
  int status = 0, exited = 0, open_out = c->stdio_log, open_err = c->stdio_log && master < 0;
  for (;;) {
    struct pollfd p[6 + MAX_CLIENTS];
    int np = 0;
    p[np++] = (struct pollfd){sfd, POLLIN, 0};
    if (open_out) p[np++] = (struct pollfd){out.fd, POLLIN, 0};
    if (open_err) p[np++] = (struct pollfd){err.fd, POLLIN, 0};
    if (M.lfd >= 0) p[np++] = (struct pollfd){M.lfd, POLLIN, 0};
    if (M.plen && M.target >= 0) p[np++] = (struct pollfd){M.target, POLLOUT, 0};
    int first_client = np;
    for (int i = 0; i < M.ncl; i++) {
      short ev = (short)((M.plen < IN_HIGH ? POLLIN : 0) | (M.cl[i]->olen ? POLLOUT : 0));
      p[np++] = (struct pollfd){M.cl[i]->fd, ev, 0};
    }
    if (exited && !open_out && !open_err) break;
    /* Once the init is gone its pid namespace is too; a descendant elsewhere that kept a copy of the
     * pipes must not keep us (and `wait`) hanging, so give the drain a bounded time. */
    int r = poll(p, (nfds_t)np, exited ? 2000 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) break;
    /* New clients first: one that connected before this output was read must get it. */
    for (int i = 0; i < first_client; i++)
      if (p[i].fd == M.lfd && p[i].revents) client_accept();
    for (int i = 0; i < first_client; i++) {
      if (!p[i].revents) continue;
      if (p[i].fd == sfd) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0) {
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
          if (w == pid) {
            status = st;
            exited = 1;
          }
      } else if (p[i].fd == M.lfd) {
        /* accepted above */
      } else if (p[i].events == POLLOUT) {
        stdin_flush();
      } else if (open_out && p[i].fd == out.fd) {
        open_out = pump(&out, logfd);
      } else if (open_err && p[i].fd == err.fd) {
        open_err = pump(&err, logfd);
      }
    }
    /* Clients by fd: the list may have changed (broadcast drops laggards). */
    for (int i = first_client; i < np; i++) {
      if (!p[i].revents) continue;
      int k = -1;
      for (int j = 0; j < M.ncl; j++)
        if (M.cl[j]->fd == p[i].fd) k = j;
      if (k < 0) continue;
      int gone = 0;
      if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) gone = client_read(M.cl[k]) < 0;
      if (!gone && (p[i].revents & POLLOUT)) gone = client_flush(M.cl[k]) < 0;
      if (gone) client_drop(k);
    }
  }
  if (M.lfd >= 0) {
    close(M.lfd);
    unlink(c->attach);
  }
  clients_finish();
  if (M.target >= 0) close(M.target);
  record_exit(c, status, fd_open(exitfd) ? exitfd : -1);
  _exit(0);
}

static int cmd_create(int argc, char **argv) {
  if (argc < 4) fail(2, "usage: tsbox create PLANFD REPORTFD [EXITFD]");
  int planfd = atoi(argv[2]), reportfd = atoi(argv[3]), exitfd = argc > 4 ? atoi(argv[4]) : -1;
  err_fd = reportfd;
  err_is_report = 1;
  struct config c;
  parse_plan(planfd, &c);
  if (!c.statedir || !c.rootfs) fail(1, "plan: statedir and rootfs are required");
  if (c.stdio_log && !c.logpath) fail(1, "plan: stdio log needs a log path");
  fcntl(reportfd, F_SETFD, FD_CLOEXEC);
  if (exitfd >= 0) fcntl(exitfd, F_SETFD, FD_CLOEXEC);
  pid_t a = fork();
  if (a < 0) fail(1, "fork: %s", serr(errno));
  if (a > 0) {
    int st;
    waitpid(a, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
  /* Detach from the starter: new session, and the monitor's parent exits so init (or the nearest
   * subreaper) adopts it. */
  setsid();
  pid_t m = fork();
  if (m < 0) fail(1, "fork: %s", serr(errno));
  if (m > 0) _exit(0);
  monitor(&c, reportfd, exitfd);
}

/* ---------------------------------------------------------------- exec */

static pid_t exec_child = -1;
static void forward(int sig) {
  if (exec_child > 0) kill(exec_child, sig);
}

/* exec with a terminal: copies fd 0 to the pty master and the master to fd 1, applies "ROWS COLS\n"
 * lines from resizefd, until the process has exited and its output is drained. Returns its status. */
static int bridge(int master, int resizefd, pid_t child, int sfd) {
  signal(SIGPIPE, SIG_IGN);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  char buf[16384], pend[16384], rl[128];
  size_t plen = 0, rlen = 0;
  int in_open = 1, m_open = 1, exited = 0, st = 0;
  for (;;) {
    if (exited && !m_open) break;
    struct pollfd p[4];
    int np = 0;
    p[np++] = (struct pollfd){sfd, POLLIN, 0};
    if (m_open) p[np++] = (struct pollfd){master, (short)(POLLIN | (plen ? POLLOUT : 0)), 0};
    if (in_open && !plen) p[np++] = (struct pollfd){0, POLLIN, 0};
    if (resizefd >= 0) p[np++] = (struct pollfd){resizefd, POLLIN, 0};
    /* After the exit, output still buffered in the pty gets a bounded time (a leftover background
     * process may hold the slave open). */
    int r = poll(p, (nfds_t)np, exited ? 2000 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) break;
    for (int i = 0; i < np; i++) {
      if (!p[i].revents) continue;
      if (p[i].fd == sfd) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0) {
        }
        int s2;
        if (waitpid(child, &s2, WNOHANG) == child) {
          st = s2;
          exited = 1;
        }
      } else if (p[i].fd == master) {
        if (p[i].revents & POLLOUT) {
          ssize_t n = write(master, pend, plen);
          if (n > 0) {
            memmove(pend, pend + n, plen - (size_t)n);
            plen -= (size_t)n;
          } else if (n < 0 && errno != EAGAIN && errno != EINTR) plen = 0;
        }
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = read(master, buf, sizeof buf);
          if (n > 0) write_all(1, buf, (size_t)n);
          else if (n == 0 || (errno != EAGAIN && errno != EINTR)) m_open = 0; /* EIO: no slave left */
        }
      } else if (p[i].fd == 0) {
        ssize_t n = read(0, pend, sizeof pend);
        if (n > 0) plen = (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) in_open = 0;
      } else if (p[i].fd == resizefd) {
        ssize_t n = read(resizefd, rl + rlen, sizeof rl - 1 - rlen);
        if (n <= 0) {
          if (n == 0 || (errno != EAGAIN && errno != EINTR)) resizefd = -1;
          continue;
        }
        rlen += (size_t)n;
        rl[rlen] = 0;
        char *nl;
        while ((nl = strchr(rl, '\n'))) {
          unsigned rows = 0, cols = 0;
          if (sscanf(rl, "%u %u", &rows, &cols) == 2) set_winsize(master, rows, cols);
          size_t used = (size_t)(nl + 1 - rl);
          memmove(rl, nl + 1, rlen - used + 1);
          rlen -= used;
        }
        if (rlen == sizeof rl - 1) rlen = 0; /* garbage without a newline */
      }
    }
  }
  if (!exited)
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmd_exec(int argc, char **argv) {
  if (argc < 3) fail(2, "usage: tsbox exec PLANFD [REPORTFD [RESIZEFD]]");
  int planfd = atoi(argv[2]), reportfd = argc > 3 ? atoi(argv[3]) : -1, resizefd = argc > 4 ? atoi(argv[4]) : -1;
  struct config c;
  parse_plan(planfd, &c);
  if (reportfd >= 0) fcntl(reportfd, F_SETFD, FD_CLOEXEC);
  if (resizefd >= 0) fcntl(resizefd, F_SETFD, FD_CLOEXEC);
  err_fd = reportfd;
  err_is_report = 0;
  open_ns(&c);
  join_ns(&c, "user");
  join_ns(&c, "ipc");
  join_ns(&c, "uts");
  join_ns(&c, "net");
  join_ns(&c, "pid"); /* for the child */
  int go[2], cons[2] = {-1, -1}, sfd = -1;
  CHECK(pipe2(go, O_CLOEXEC), "pipe");
  if (c.terminal) {
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cons), "socketpair");
    /* Blocked before the fork so the child's exit cannot be missed; the child unblocks it. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    CHECK(sfd, "signalfd");
  }
  pid_t child = fork();
  if (child < 0) fail(1, "fork: %s", serr(errno));
  if (child == 0) {
    /* Only the child goes into the container's cgroup (the waiting parent stays out of its limits);
     * the parent writes our pid from outside, where the cgroup files are writable. */
    char b;
    close(go[1]);
    if (cons[0] >= 0) close(cons[0]);
    if (read(go[0], &b, 1) != 1) _exit(1);
    close(go[0]);
    join_ns(&c, "cgroup");
    join_ns(&c, "mnt");
    if (c.terminal) {
      setsid();
      take_terminal(&c, cons[1]);
      close(cons[1]);
    }
    umask(c.umask);
    set_rlimits(&c);
    if (chdir(c.cwd) < 0 && errno != EACCES) fail(1, "chdir %s: %s", c.cwd, serr(errno));
    add_home(&c);
    set_identity(&c);
    CHECK(chdir(c.cwd), "chdir %s", c.cwd);
    char path[PATH_MAX];
    resolve_program(&c, path, sizeof path);
    reset_signals();
    exec_program(&c, path);
  }
  close(go[0]);
  join_cgroups(&c, child);
  write_all(go[1], "G", 1);
  close(go[1]);
  exec_child = child;
  int master = -1;
  if (c.terminal) {
    close(cons[1]);
    master = recv_fd(cons[0]); /* -1: the child failed before it had a terminal */
    close(cons[0]);
  }
  if (reportfd >= 0) close(reportfd);
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], forward);
  if (master >= 0) return bridge(master, resizefd, child, sfd);
  int st;
  while (waitpid(child, &st, 0) < 0)
    if (errno != EINTR) return 1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[0], INIT_ARGV0) && !strcmp(argv[1], "--")) init_main();
  if (argc < 2) fail(2, "usage: tsbox create|exec ...");
  if (!strcmp(argv[1], "create")) return cmd_create(argc, argv);
  if (!strcmp(argv[1], "exec")) return cmd_exec(argc, argv);
  fail(2, "unknown command %s", argv[1]);
}

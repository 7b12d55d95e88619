// tsdevbpf: loads a cgroup device program and attaches it to a cgroup v2 directory, replacing the
// programs attached there before. Node cannot call bpf(2), so the cgroup v2 backend generates the
// instructions (runtime/cgroups/devices-bpf.ts) and hands them to this helper.
//
//   tsdevbpf attach <cgroup-dir>   program on stdin: struct bpf_insn array (8 bytes each, host order)
//   tsdevbpf query <cgroup-dir>    prints the ids of the device programs attached to the directory
//
// Exit 0 on success; otherwise a one-line reason (and the verifier's log, if it refused) on stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

// The kernel's limit for unprivileged programs; ours are a few dozen instructions.
#define MAX_INSNS 4096
#define MAX_PROGS 64

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static uint64_t ptr(const void *p) { return (uint64_t)(uintptr_t)p; }

static int fail(const char *what, const char *dir) {
  fprintf(stderr, "tsdevbpf: %s %s: %s\n", what, dir, strerror(errno));
  return 1;
}

// Ids of the device programs attached directly to dir (not inherited ones).
static int query(int dirfd, uint32_t *ids, uint32_t *count) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = (uint32_t)dirfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = ptr(ids);
  attr.query.prog_cnt = *count;
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return -1;
  *count = attr.query.prog_cnt;
  return 0;
}

static int load(const struct bpf_insn *insns, size_t n) {
  static char log[65536];
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = ptr(insns);
  attr.insn_cnt = (uint32_t)n;
  attr.license = ptr("Apache");
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0 || errno != EACCES) return fd;
  // EACCES is the verifier's refusal: load again with its log to say why.
  attr.log_buf = ptr(log);
  attr.log_size = sizeof(log);
  attr.log_level = 1;
  fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    int saved = errno;
    fprintf(stderr, "tsdevbpf: verifier log:\n%s\n", log);
    errno = saved;
  }
  return fd;
}

static int attach(const char *dir) {
  static struct bpf_insn insns[MAX_INSNS + 1];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(0, (char *)insns + got, sizeof(insns) - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail("read program for", dir);
    if (r == 0) break;
    got += (size_t)r;
    if (got == sizeof(insns)) break;
  }
  if (got == 0 || got % sizeof(struct bpf_insn) != 0 || got > MAX_INSNS * sizeof(struct bpf_insn)) {
    fprintf(stderr, "tsdevbpf: program for %s: %zu bytes is not 1..%d instructions\n", dir, got, MAX_INSNS);
    return 1;
  }
  // Kernels before 5.11 charge programs to RLIMIT_MEMLOCK; later ones ignore it. Best effort.
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);

  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return fail("open", dir);
  uint32_t old[MAX_PROGS];
  uint32_t nold = MAX_PROGS;
  if (query(dirfd, old, &nold) < 0) return fail("query device programs of", dir);
  if (nold > MAX_PROGS) nold = MAX_PROGS;

  int prog = load(insns, got / sizeof(struct bpf_insn));
  if (prog < 0) return fail("load device program for", dir);

  // Attach the new program before detaching the old ones: with BPF_F_ALLOW_MULTI every attached
  // program must allow an access, so in between the group is only ever stricter, never open.
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)dirfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) return fail("attach device program to", dir);

  for (uint32_t i = 0; i < nold; i++) {
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = old[i];
    int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) {
      if (errno == ENOENT) continue; // detached meanwhile
      return fail("get the previous device program of", dir);
    }
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)dirfd;
    attr.attach_bpf_fd = (uint32_t)fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT) {
      return fail("detach the previous device program of", dir);
    }
    close(fd);
  }
  // The attachment holds the program; our fds can go (and do, at exit).
  return 0;
}

static int list(const char *dir) {
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return fail("open", dir);
  uint32_t ids[MAX_PROGS];
  uint32_t n = MAX_PROGS;
  if (query(dirfd, ids, &n) < 0) return fail("query device programs of", dir);
  for (uint32_t i = 0; i < n && i < MAX_PROGS; i++) printf("%u\n", ids[i]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "attach") == 0) return attach(argv[2]);
  if (argc == 3 && strcmp(argv[1], "query") == 0) return list(argv[2]);
  fprintf(stderr, "usage: tsdevbpf attach <cgroup-dir> < program\n       tsdevbpf query <cgroup-dir>\n");
  return 2;
}

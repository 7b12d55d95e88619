// build: -lz
/*
 * tsunpack [--blob FILE] [--plain] DIR|--hash-only < layer
 *
 * Extracts one image layer (a tar stream on stdin, plain or gzip) into DIR so that DIR can serve as
 * an overlayfs lower dir. Node cannot mknod, lchown or set xattrs on special files, hence this helper.
 * It also does the rest of a layer's hot path in the same pass, so Node only moves bytes into stdin:
 * - the input is hashed (the blob digest) and, with --blob, written to FILE (created, O_EXCL);
 * - gzip (detected by its magic; concatenated members allowed, trailing zero padding ignored, as
 *   Node's gunzip does) is inflated and the tar is hashed (the diffID);
 * - with --hash-only nothing is extracted, the stream is only hashed (and stored with --blob).
 *
 * - ustar, GNU longname/longlink ('L'/'K'), PAX ('x'/'g') headers incl. SCHILY.xattr.* are understood.
 * - Every entry is resolved with openat2(RESOLVE_BENEATH): absolute names, ".." components and paths
 *   that traverse a symlink leading out of DIR are refused (exit 2), as are hard links to such names.
 *   The final component is never followed (O_NOFOLLOW / AT_SYMLINK_NOFOLLOW).
 * - ".wh.NAME" becomes a 0/0 character device NAME; ".wh..wh..opq" sets trusted.overlay.opaque=y on
 *   its directory (overlayfs' own whiteout format).
 * - --plain: the tar is not a layer but files to copy (docker cp, a build context): ".wh.*" names are
 *   ordinary names, and no trusted.overlay.* xattr is ever set (not even one the tar carries), so
 *   nothing extracted can act as a whiteout or an opaque directory.
 * - Modes, owners, mtimes, xattrs, hard links, symlinks, fifos and device nodes are kept.
 * - On success prints one JSON line {"entries":N,"compression":"gzip"|"none","blobDigest":"sha256:…",
 *   "blobSize":N,"diffId":"sha256:…","tarSize":N}. Durability is not per layer: the store calls
 *   `tsunpack --syncfs DIR` once before it commits an image record (one flush instead of many).
 * - On a malformed stream (exit 1) the rest of stdin is still read and hashed, and one JSON line
 *   {"error":true,"blobDigest":…,"blobSize":N} is printed: a corrupt download is then reported as
 *   a digest mismatch rather than as bad gzip or a bad tar. The caller verifies both digests and
 *   discards FILE and DIR on any failure.
 *
 * Exit status: 0 ok, 1 I/O or malformed input, 2 refused (entry escapes DIR).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "sha256.h"

#define BLOCK 512
/* Inflated output is hashed right after it is produced: a chunk that fits in L2 is read back from
 * cache. Plain tar input is read straight into this buffer. */
#define BUFSZ (256 << 10)
/* Compressed input: as big as the pipe, so one read drains it. */
#define ZINSZ (1 << 20)

static int root_fd = -1;
static const char *cur_name = "";
static int is_root;
static int plain; /* --plain: no whiteout translation, no trusted.overlay.* xattrs */

/* ---------- input: stdin, hashed (blob digest), stored (--blob), inflated, hashed (diffID) ---------- */

static int blob_fd = -1;
static struct sha256 blob_sha, tar_sha;
static int gz;               /* the input is gzip */
static z_stream zs;
static unsigned char *zin;   /* compressed input buffer (also the read buffer of the first chunk) */
static int zmember;          /* inside a gzip member */
static int raw_eof;
static int drain_on_fail;    /* set once stdin is being consumed: see fail() */
static int draining;
static atomic_int failing;
static int drain_broken;     /* stdin failed while draining: no digest to report */
static uint64_t blob_written, blob_flushed;

/* Starts writeback of what was just written, without waiting for it. The store's one syncfs before
 * the image record is the durability point; started early, the disk works while the layer still
 * downloads and that syncfs only waits for the tail. */
#define WRITEBACK_STEP (8u << 20)
static void start_writeback(int fd, uint64_t off, uint64_t len) {
  (void)sync_file_range(fd, (off64_t)off, (off64_t)len, SYNC_FILE_RANGE_WRITE);
}

static void write_all(int fd, const void *p, size_t n);
static void drain_and_report(void);

/* Two threads (see "pipeline" below): the reader and main. */
static pthread_t reader_thread;
static int threaded;
static void stop_reader_and_wait(void);

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int code, const char *fmt, ...) {
  int reader = threaded && pthread_equal(pthread_self(), reader_thread);
  if (atomic_exchange(&failing, 1)) {
    /* The other thread is already failing and will exit the process. A reader failing while it
     * drains for main must let main's join return (with no digest to report). */
    if (reader) {
      drain_broken = 1;
      pthread_exit(NULL);
    }
    if (draining) exit(code); /* main's own drain broke: the first message was printed */
    for (;;) pause();
  }
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tsunpack: ");
  if (cur_name[0] && !reader) fprintf(stderr, "entry \"%s\": ", cur_name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  /* A refusal (2) stops at once: the layer is hostile whatever its digest. Anything else may be a
   * corrupt download, which only the blob digest of the whole input can tell. */
  if (code == 1 && drain_on_fail && !draining) {
    if (threaded && !reader) stop_reader_and_wait(); /* the reader drains stdin, main reports */
    drain_and_report();
  }
  exit(code);
}
#define DIE(...) fail(1, __VA_ARGS__)
#define REFUSE(...) fail(2, __VA_ARGS__)

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) DIE("out of memory");
  return p;
}
static char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

/* Reads what stdin has (up to cap bytes); every byte read is hashed and stored. 0 at EOF. */
static size_t raw_read(unsigned char *dst, size_t cap) {
  if (raw_eof) return 0;
  for (;;) {
    ssize_t n = read(0, dst, cap);
    if (n < 0) {
      if (errno == EINTR) continue;
      DIE("read stdin: %s", strerror(errno));
    }
    if (n == 0) {
      raw_eof = 1;
      return 0;
    }
    sha256_update(&blob_sha, dst, (size_t)n);
    if (blob_fd >= 0) {
      write_all(blob_fd, dst, (size_t)n);
      blob_written += (uint64_t)n;
      if (blob_written - blob_flushed >= WRITEBACK_STEP) {
        start_writeback(blob_fd, blob_flushed, blob_written - blob_flushed);
        blob_flushed = blob_written;
      }
    }
    return (size_t)n;
  }
}

static void drain_and_report(void) {
  draining = 1;
  blob_fd = -1; /* the caller discards the file anyway */
  while (raw_read(zin, ZINSZ)) {
  }
  if (drain_broken) return;
  char d[72];
  uint64_t size = blob_sha.len;
  sha256_final(&blob_sha, d);
  printf("{\"error\":true,\"blobDigest\":\"%s\",\"blobSize\":%llu}\n", d, (unsigned long long)size);
}

/* ---------- pipeline: a reader thread feeds main through a ring of buffers ----------
 *
 * The reader reads stdin, hashes and stores the blob, and inflates; main hashes the tar and
 * extracts it. Each half is about half of a layer's CPU time, so one layer uses two cores (a
 * single big layer unpacks in about half the time); a pull's layers, one process each, add more.
 * Only main touches the layer dir: the tar parsing and every path decision stay single-threaded. */

#define NSLOTS 8
static unsigned char *slot_buf[NSLOTS];
static size_t slot_len[NSLOTS];
static unsigned slot_head, slot_tail; /* filled by the reader / taken by main; head - tail in use */
static int reader_done;               /* no more slots will come */
static int discard;                   /* main failed: the reader only hashes what is left */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_data = PTHREAD_COND_INITIALIZER, cv_space = PTHREAD_COND_INITIALIZER;

/* Reader: the next bytes of the tar (inflated when gzip) into out; 0 at the end of the stream. */
static size_t produce(unsigned char *out, size_t cap) {
  if (!gz) return raw_read(out, cap); /* plain tar: the blob is the tar, one hash serves both */
  for (;;) {
    if (zs.avail_in == 0) {
      size_t n = raw_read(zin, ZINSZ);
      if (!n) {
        if (zmember) DIE("bad gzip data: unexpected end of file");
        return 0;
      }
      zs.next_in = zin;
      zs.avail_in = (uInt)n;
    }
    if (!zmember) {
      /* Between members: zero padding ends the stream (the rest is only hashed), anything else
       * must be another member (inflate checks its header). */
      if (zs.next_in[0] == 0) {
        zs.avail_in = 0;
        while (raw_read(zin, ZINSZ)) {
        }
        return 0;
      }
      if (inflateReset(&zs) != Z_OK) DIE("inflateReset failed");
      zmember = 1;
    }
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int r = inflate(&zs, Z_NO_FLUSH);
    if (r == Z_STREAM_END) zmember = 0;
    else if (r != Z_OK && !(r == Z_BUF_ERROR && zs.avail_in == 0)) DIE("bad gzip data: %s", zs.msg ? zs.msg : "inflate failed");
    size_t n = cap - zs.avail_out;
    if (n) return n;
  }
}

static void *reader_main(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (slot_head - slot_tail == NSLOTS && !discard) pthread_cond_wait(&cv_space, &mu);
    int stop = discard;
    pthread_mutex_unlock(&mu);
    if (stop) break;
    unsigned i = slot_head % NSLOTS;
    size_t n = produce(slot_buf[i], BUFSZ);
    pthread_mutex_lock(&mu);
    if (n) slot_len[i] = n, slot_head++;
    else reader_done = 1;
    pthread_cond_signal(&cv_data);
    pthread_mutex_unlock(&mu);
    if (!n) return NULL;
  }
  /* main failed: hash the rest of stdin for its report (drain_and_report, after the join). */
  return NULL;
}

static void stop_reader_and_wait(void) {
  pthread_mutex_lock(&mu);
  discard = 1;
  pthread_cond_signal(&cv_space);
  pthread_mutex_unlock(&mu);
  pthread_join(reader_thread, NULL);
  threaded = 0;
}

/* ---------- buffered tar stream (main) ---------- */

static unsigned char *ibuf;
static size_t ipos, ilen;
static int ieof, holding;

/* Moves on to the next slot of tar bytes. 0 at the end of the stream. */
static int fill(void) {
  if (ipos < ilen) return 1;
  if (ieof) return 0;
  pthread_mutex_lock(&mu);
  if (holding) {
    slot_tail++;
    holding = 0;
    pthread_cond_signal(&cv_space);
  }
  while (slot_head == slot_tail && !reader_done) pthread_cond_wait(&cv_data, &mu);
  int end = slot_head == slot_tail;
  unsigned i = slot_tail % NSLOTS;
  pthread_mutex_unlock(&mu);
  if (end) {
    ieof = 1;
    return 0;
  }
  holding = 1;
  ibuf = slot_buf[i];
  ipos = 0;
  ilen = slot_len[i];
  if (gz) sha256_update(&tar_sha, ibuf, ilen);
  return 1;
}

/* Reads exactly n bytes; 0 when EOF before the first byte, dies on a truncated read. */
static int read_exact(void *dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (!fill()) {
      if (got == 0) return 0;
      DIE("truncated tar stream");
    }
    size_t take = ilen - ipos;
    if (take > n - got) take = n - got;
    memcpy((char *)dst + got, ibuf + ipos, take);
    ipos += take;
    got += take;
  }
  return 1;
}

static void write_all(int fd, const void *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      DIE("write: %s", strerror(errno));
    }
    p = (const char *)p + w;
    n -= (size_t)w;
  }
}

/* Copies n bytes of entry data to fd (or discards them when fd < 0), then skips the block padding. */
static void copy_data(int fd, uint64_t n) {
  uint64_t pad = (BLOCK - (n % BLOCK)) % BLOCK;
  while (n) {
    if (!fill()) DIE("truncated tar stream");
    size_t take = ilen - ipos;
    if (take > n) take = (size_t)n;
    if (fd >= 0) write_all(fd, ibuf + ipos, take);
    ipos += take;
    n -= take;
  }
  while (pad) {
    if (!fill()) DIE("truncated tar stream");
    size_t take = ilen - ipos;
    if (take > pad) take = (size_t)pad;
    ipos += take;
    pad -= take;
  }
}

static char *read_blob(uint64_t n) {
  if (n > (64u << 20)) DIE("metadata header too large (%llu bytes)", (unsigned long long)n);
  char *p = xmalloc((size_t)n + 1);
  if (n && !read_exact(p, (size_t)n)) DIE("truncated tar stream");
  p[n] = 0;
  unsigned char pad[BLOCK];
  size_t padn = (size_t)((BLOCK - (n % BLOCK)) % BLOCK);
  if (padn && !read_exact(pad, padn)) DIE("truncated tar stream");
  return p;
}

/* ---------- header parsing ---------- */

struct xattr {
  char *name;
  char *value;
  size_t len;
};

struct meta {
  char *path, *linkpath;
  int has_size, has_uid, has_gid, has_mtime;
  uint64_t size;
  uint64_t uid, gid;
  struct timespec mtime;
  struct xattr *xattrs;
  size_t nxattrs;
};

static void meta_clear(struct meta *m) {
  free(m->path);
  free(m->linkpath);
  for (size_t i = 0; i < m->nxattrs; i++) {
    free(m->xattrs[i].name);
    free(m->xattrs[i].value);
  }
  free(m->xattrs);
  memset(m, 0, sizeof *m);
}

static void meta_add_xattr(struct meta *m, const char *name, const char *val, size_t len) {
  /* Copied files must not turn into overlay metadata (opaque dirs, redirects) in a container's upper dir. */
  if (plain && strncmp(name, "trusted.overlay.", 16) == 0) return;
  for (size_t i = 0; i < m->nxattrs; i++) {
    if (strcmp(m->xattrs[i].name, name) == 0) {
      free(m->xattrs[i].value);
      m->xattrs[i].value = xstrndup(val, len);
      m->xattrs[i].len = len;
      return;
    }
  }
  m->xattrs = realloc(m->xattrs, (m->nxattrs + 1) * sizeof *m->xattrs);
  if (!m->xattrs) DIE("out of memory");
  m->xattrs[m->nxattrs].name = strdup(name);
  m->xattrs[m->nxattrs].value = xstrndup(val, len);
  m->xattrs[m->nxattrs].len = len;
  m->nxattrs++;
}

static uint64_t parse_num(const unsigned char *f, size_t n) {
  /* GNU base-256: high bit of the first byte set. */
  if (f[0] & 0x80) {
    if (f[0] & 0x40) DIE("negative numeric field");
    uint64_t v = f[0] & 0x3f;
    for (size_t i = 1; i < n; i++) {
      if (v >> 56) DIE("numeric field overflow");
      v = (v << 8) | f[i];
    }
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (f[i] == ' ' || f[i] == 0)) i++;
  for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v >> 60) DIE("numeric field overflow");
    v = v * 8 + (uint64_t)(f[i] - '0');
  }
  return v;
}

static int parse_dec(const char *s, uint64_t *out) {
  if (!*s) return 0;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    if (v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 1;
}

static void parse_pax_time(const char *s, struct timespec *ts) {
  char *dot;
  long long sec = strtoll(s, &dot, 10);
  long nsec = 0;
  if (*dot == '.') {
    long mul = 100000000;
    for (const char *p = dot + 1; *p >= '0' && *p <= '9' && mul; p++, mul /= 10) nsec += (*p - '0') * mul;
  }
  if (sec < 0) {
    sec = 0;
    nsec = 0;
  }
  ts->tv_sec = (time_t)sec;
  ts->tv_nsec = nsec;
}

static void parse_pax(const char *data, size_t len, struct meta *m) {
  size_t pos = 0;
  while (pos < len) {
    size_t reclen = 0, p = pos;
    while (p < len && data[p] >= '0' && data[p] <= '9') reclen = reclen * 10 + (size_t)(data[p++] - '0');
    if (p >= len || data[p] != ' ' || reclen == 0 || pos + reclen > len || data[pos + reclen - 1] != '\n')
      DIE("malformed PAX header");
    const char *kv = data + p + 1;
    size_t kvlen = pos + reclen - 1 - (p + 1);
    const char *eq = memchr(kv, '=', kvlen);
    if (!eq) DIE("malformed PAX record");
    char *key = xstrndup(kv, (size_t)(eq - kv));
    const char *val = eq + 1;
    size_t vlen = kvlen - (size_t)(eq - kv) - 1;
    char *sval = xstrndup(val, vlen);
    if (strcmp(key, "path") == 0) {
      free(m->path);
      m->path = strdup(sval);
    } else if (strcmp(key, "linkpath") == 0) {
      free(m->linkpath);
      m->linkpath = strdup(sval);
    } else if (strcmp(key, "size") == 0) {
      if (!parse_dec(sval, &m->size)) DIE("bad PAX size");
      m->has_size = 1;
    } else if (strcmp(key, "uid") == 0) {
      if (!parse_dec(sval, &m->uid)) DIE("bad PAX uid");
      m->has_uid = 1;
    } else if (strcmp(key, "gid") == 0) {
      if (!parse_dec(sval, &m->gid)) DIE("bad PAX gid");
      m->has_gid = 1;
    } else if (strcmp(key, "mtime") == 0) {
      parse_pax_time(sval, &m->mtime);
      m->has_mtime = 1;
    } else if (strncmp(key, "SCHILY.xattr.", 13) == 0) {
      meta_add_xattr(m, key + 13, val, vlen);
    } else if (strcmp(key, "GNU.sparse.major") == 0 || strcmp(key, "GNU.sparse.map") == 0) {
      DIE("sparse files are not supported");
    }
    free(key);
    free(sval);
    pos += reclen;
  }
}

/* ---------- path handling ---------- */

/* Normalises a tar name: strips "./" and empty components. Refuses absolute names and "..". */
static char *clean_path(const char *in, const char *what) {
  if (in[0] == '/') REFUSE("%s is an absolute path", what);
  size_t n = strlen(in);
  char *out = xmalloc(n + 1);
  size_t o = 0;
  const char *p = in;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    if (clen == 2 && p[0] == '.' && p[1] == '.') REFUSE("%s contains \"..\"", what);
    if (!(clen == 0 || (clen == 1 && p[0] == '.'))) {
      if (o) out[o++] = '/';
      memcpy(out + o, p, clen);
      o += clen;
    }
    p += clen;
    if (*p == '/') p++;
  }
  out[o] = 0;
  return out;
}

static int open_beneath(const char *path, int *err) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    if (fd >= 0) return (int)fd;
    if (errno == EINTR || errno == EAGAIN) continue;
    *err = errno;
    return -1;
  }
}

static void refuse_or_die(int err, const char *path) {
  if (err == EXDEV || err == ELOOP) REFUSE("path \"%s\" leads out of the layer dir through a symlink", path);
  DIE("open \"%s\": %s", path, strerror(err));
}

/* Cache of the last parent dir: layers list many entries per directory. Dropped whenever an entry
 * could change what a path resolves to (anything but a plain file). */
static char *cache_path;
static int cache_fd = -1;

static void cache_drop(void) {
  if (cache_fd >= 0) close(cache_fd);
  cache_fd = -1;
  free(cache_path);
  cache_path = NULL;
}

/* Opens (creating missing components, 0755 root-owned) the directory `dir` beneath the root. */
static int open_dir(const char *dir, int create) {
  if (cache_path && strcmp(cache_path, dir) == 0) return dup(cache_fd);
  if (!dir[0]) return dup(root_fd);
  int err = 0;
  int fd = open_beneath(dir, &err);
  if (fd >= 0) return fd;
  if (err != ENOENT || !create) refuse_or_die(err, dir);
  char *buf = strdup(dir);
  int parent = dup(root_fd);
  for (char *p = buf;;) {
    char *slash = strchr(p, '/');
    if (slash) *slash = 0;
    fd = open_beneath(buf, &err);
    if (fd < 0) {
      if (err != ENOENT) refuse_or_die(err, buf);
      const char *comp = strrchr(buf, '/');
      comp = comp ? comp + 1 : buf;
      if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST) DIE("mkdir \"%s\": %s", buf, strerror(errno));
      fd = open_beneath(buf, &err);
      if (fd < 0) refuse_or_die(err, buf);
    }
    close(parent);
    parent = fd;
    if (!slash) break;
    *slash = '/';
    p = slash + 1;
  }
  free(buf);
  return parent;
}

static int open_parent(const char *path, const char **name) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : strdup("");
  *name = slash ? slash + 1 : path;
  int fd = open_dir(dir, 1);
  if (!cache_path) {
    cache_path = dir;
    cache_fd = dup(fd);
  } else {
    free(dir);
  }
  return fd;
}

static void rm_rf_at(int dfd, const char *name) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    DIE("stat \"%s\": %s", name, strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) DIE("open \"%s\": %s", name, strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) DIE("opendir \"%s\": %s", name, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      rm_rf_at(fd, e->d_name);
    }
    closedir(d);
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0) DIE("rmdir \"%s\": %s", name, strerror(errno));
  } else if (unlinkat(dfd, name, 0) < 0) {
    DIE("unlink \"%s\": %s", name, strerror(errno));
  }
}

/* Removes whatever is at name unless both it and the new entry are directories. Returns 1 when a
 * directory already exists and is kept. */
static int clear_slot(int dfd, const char *name, int want_dir) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return 0;
    DIE("stat: %s", strerror(errno));
  }
  if (want_dir && S_ISDIR(st.st_mode)) return 1;
  cache_drop();
  rm_rf_at(dfd, name);
  return 0;
}

/* ---------- metadata application ---------- */

static void apply_owner(int dfd, const char *name, uint64_t uid, uint64_t gid) {
  if (fchownat(dfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == EPERM && !is_root) return; /* unprivileged runs keep the caller's owner */
    DIE("chown: %s", strerror(errno));
  }
}

static void apply_xattrs_path(int dfd, const char *name, const struct meta *m) {
  if (!m->nxattrs) return;
  char p[64 + 4096];
  snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, name);
  for (size_t i = 0; i < m->nxattrs; i++) {
    /* trusted.overlay.* would let a layer steer overlayfs (redirects, metacopy); we set our own. */
    if (strncmp(m->xattrs[i].name, "trusted.overlay.", 16) == 0) continue;
    if (lsetxattr(p, m->xattrs[i].name, m->xattrs[i].value, m->xattrs[i].len, 0) < 0)
      DIE("setxattr %s: %s", m->xattrs[i].name, strerror(errno));
  }
}

static void apply_xattrs_fd(int fd, const struct meta *m) {
  for (size_t i = 0; i < m->nxattrs; i++) {
    if (strncmp(m->xattrs[i].name, "trusted.overlay.", 16) == 0) continue;
    if (fsetxattr(fd, m->xattrs[i].name, m->xattrs[i].value, m->xattrs[i].len, 0) < 0)
      DIE("setxattr %s: %s", m->xattrs[i].name, strerror(errno));
  }
}

static void apply_times(int dfd, const char *name, struct timespec mtime) {
  struct timespec ts[2] = {mtime, mtime};
  if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0) DIE("utimes: %s", strerror(errno));
}

/* Directory mtimes change while their contents are extracted, so they are applied at the end. */
struct dirtime {
  char *path;
  struct timespec mtime;
};
static struct dirtime *dirtimes;
static size_t ndirtimes, capdirtimes;

static void defer_dirtime(const char *path, struct timespec mtime) {
  if (ndirtimes == capdirtimes) {
    capdirtimes = capdirtimes ? capdirtimes * 2 : 256;
    dirtimes = realloc(dirtimes, capdirtimes * sizeof *dirtimes);
    if (!dirtimes) DIE("out of memory");
  }
  dirtimes[ndirtimes].path = strdup(path);
  dirtimes[ndirtimes].mtime = mtime;
  ndirtimes++;
}

/* ---------- main loop ---------- */

static int is_zero_block(const unsigned char *b) {
  for (int i = 0; i < BLOCK; i++)
    if (b[i]) return 0;
  return 1;
}

static char *field_str(const unsigned char *f, size_t n) {
  size_t l = 0;
  while (l < n && f[l]) l++;
  return xstrndup((const char *)f, l);
}

__attribute__((noreturn)) static void finish(unsigned long entries) {
  /* fill() returned 0: the reader has read all of stdin and is returning. */
  pthread_join(reader_thread, NULL);
  threaded = 0;
  if (gz) inflateEnd(&zs);
  if (blob_fd >= 0 && close(blob_fd) < 0) DIE("close blob: %s", strerror(errno));
  blob_fd = -1;
  char blob[72], diff[72];
  uint64_t blob_size = blob_sha.len, tar_size = gz ? tar_sha.len : blob_sha.len;
  sha256_final(&blob_sha, blob);
  if (gz) sha256_final(&tar_sha, diff);
  else memcpy(diff, blob, sizeof diff);
  printf("{\"entries\":%lu,\"compression\":\"%s\",\"blobDigest\":\"%s\",\"blobSize\":%llu,\"diffId\":\"%s\",\"tarSize\":%llu}\n", entries,
         gz ? "gzip" : "none", blob, (unsigned long long)blob_size, diff, (unsigned long long)tar_size);
  exit(0);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--syncfs") == 0) {
    int fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) < 0) DIE("syncfs %s: %s", argv[2], strerror(errno));
    return 0;
  }
  const char *blob_path = NULL, *dir = NULL;
  int hash_only = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--blob") == 0 && i + 1 < argc) blob_path = argv[++i];
    else if (strcmp(argv[i], "--hash-only") == 0) hash_only = 1;
    else if (strcmp(argv[i], "--plain") == 0) plain = 1;
    else if (!dir && argv[i][0] != '-') dir = argv[i];
    else dir = NULL, hash_only = -1;
  }
  if (hash_only < 0 || (hash_only ? dir != NULL : dir == NULL)) {
    fprintf(stderr, "usage: tsunpack [--blob FILE] [--plain] DIR|--hash-only < layer | tsunpack --syncfs DIR\n");
    return 1;
  }
  umask(0);
  is_root = geteuid() == 0;
  if (dir) {
    root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) DIE("open %s: %s", dir, strerror(errno));
  }
  if (blob_path) {
    blob_fd = open(blob_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (blob_fd < 0) DIE("create %s: %s", blob_path, strerror(errno));
  }
  sha256_pick();
  sha256_init(&blob_sha);
  sha256_init(&tar_sha);
  for (int i = 0; i < NSLOTS; i++) slot_buf[i] = xmalloc(BUFSZ);
  zin = xmalloc(ZINSZ);
  /* A bigger pipe means fewer wake-ups of the writer (Node) per MB; best effort. */
  (void)fcntl(0, F_SETPIPE_SZ, 1 << 20);
  drain_on_fail = 1;

  /* The first two bytes tell gzip from a plain tar. */
  size_t have = 0;
  for (size_t n; have < 2 && (n = raw_read(zin + have, BUFSZ - have));) have += n;
  if (have >= 4 && zin[0] == 0x28 && zin[1] == 0xb5 && zin[2] == 0x2f && zin[3] == 0xfd) DIE("zstd-compressed layers are not supported");
  gz = have >= 2 && zin[0] == 0x1f && zin[1] == 0x8b;
  if (gz) {
    if (inflateInit2(&zs, 15 + 16) != Z_OK) DIE("inflateInit failed");
    zs.next_in = zin;
    zs.avail_in = (uInt)have;
  } else if (have) {
    /* The first bytes of a plain tar are its first slot. */
    memcpy(slot_buf[0], zin, have);
    slot_len[0] = have;
    slot_head = 1;
  }
  /* From here on, a failure in either thread ends the process through fail(). */
  int err = pthread_create(&reader_thread, NULL, reader_main, NULL);
  if (err) DIE("pthread_create: %s", strerror(err));
  threaded = 1;
  if (hash_only) {
    while (fill()) ipos = ilen;
    finish(0);
  }

  struct meta global, local;
  memset(&global, 0, sizeof global);
  memset(&local, 0, sizeof local);
  char *longname = NULL, *longlink = NULL;
  unsigned long entries = 0;
  unsigned char h[BLOCK];
  int zeros = 0;

  for (;;) {
    cur_name = "";
    if (!read_exact(h, BLOCK)) break;
    if (is_zero_block(h)) {
      if (++zeros == 2) break;
      continue;
    }
    zeros = 0;

    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    if (parse_num(h + 148, 8) != sum) DIE("bad tar header checksum (not a tar stream?)");

    char type = (char)h[156];
    uint64_t size = parse_num(h + 124, 12);

    if (type == 'x' || type == 'g') {
      char *data = read_blob(size);
      parse_pax(data, (size_t)size, type == 'x' ? &local : &global);
      free(data);
      continue;
    }
    if (type == 'L' || type == 'K') {
      char *data = read_blob(size);
      if (type == 'L') {
        free(longname);
        longname = data;
      } else {
        free(longlink);
        longlink = data;
      }
      continue;
    }

    /* Effective values: per-entry PAX > GNU long names > global PAX > ustar fields. */
    char *rawname;
    if (local.path) rawname = strdup(local.path);
    else if (longname) rawname = strdup(longname);
    else if (global.path) rawname = strdup(global.path);
    else {
      char *name = field_str(h, 100);
      char *prefix = (memcmp(h + 257, "ustar", 5) == 0) ? field_str(h + 345, 155) : strdup("");
      if (prefix[0]) {
        rawname = xmalloc(strlen(prefix) + strlen(name) + 2);
        sprintf(rawname, "%s/%s", prefix, name);
      } else {
        rawname = strdup(name);
      }
      free(name);
      free(prefix);
    }
    char *rawlink = local.linkpath ? strdup(local.linkpath)
                  : longlink       ? strdup(longlink)
                  : global.linkpath ? strdup(global.linkpath)
                                    : field_str(h + 157, 100);
    if (local.has_size) size = local.size;
    else if (global.has_size) size = global.size;
    uint64_t uid = local.has_uid ? local.uid : global.has_uid ? global.uid : parse_num(h + 108, 8);
    uint64_t gid = local.has_gid ? local.gid : global.has_gid ? global.gid : parse_num(h + 116, 8);
    struct timespec mtime = {.tv_sec = (time_t)parse_num(h + 136, 12), .tv_nsec = 0};
    if (local.has_mtime) mtime = local.mtime;
    else if (global.has_mtime) mtime = global.mtime;
    mode_t perm = (mode_t)(parse_num(h + 100, 8) & 07777);
    unsigned devmajor = (unsigned)parse_num(h + 329, 8), devminor = (unsigned)parse_num(h + 337, 8);
    struct meta *xm = local.nxattrs ? &local : &global;
    if ((type == '0' || type == '\0') && rawname[0] && rawname[strlen(rawname) - 1] == '/') type = '5';

    cur_name = rawname;
    entries++;
    char *path = clean_path(rawname, "name");
    const char *name = NULL;

    if (!path[0]) {
      /* The layer root itself ("./"): keep its metadata, nothing to create. */
      if (type == '5') {
        apply_owner(root_fd, ".", uid, gid);
        if (fchmod(root_fd, perm) < 0) DIE("chmod: %s", strerror(errno));
        apply_xattrs_fd(root_fd, xm);
        defer_dirtime("", mtime);
      }
      copy_data(-1, type == '5' ? 0 : size);
      goto next;
    }

    int dfd = open_parent(path, &name);

    if (!plain && strncmp(name, ".wh.", 4) == 0) {
      if (strcmp(name, ".wh..wh..opq") == 0) {
        if (fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
          DIE("set trusted.overlay.opaque: %s", strerror(errno));
      } else if (strncmp(name, ".wh..wh.", 8) != 0) {
        const char *target = name + 4;
        if (!target[0] || strcmp(target, ".") == 0 || strcmp(target, "..") == 0) REFUSE("bad whiteout name");
        clear_slot(dfd, target, 0);
        cache_drop();
        if (mknodat(dfd, target, S_IFCHR | 0, makedev(0, 0)) < 0) DIE("mknod whiteout: %s", strerror(errno));
        apply_owner(dfd, target, uid, gid);
      }
      /* Other ".wh..wh." names are aufs bookkeeping with no meaning for overlayfs. */
      copy_data(-1, size);
      close(dfd);
      goto next;
    }

    switch (type) {
    case '0':
    case '\0':
    case '7': {
      clear_slot(dfd, name, 0);
      int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) DIE("create: %s", strerror(errno));
      copy_data(fd, size);
      if (size >= 65536) start_writeback(fd, 0, 0);
      /* chown clears set-id bits, so the mode comes after it. */
      if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0 && !(errno == EPERM && !is_root)) DIE("chown: %s", strerror(errno));
      if (fchmod(fd, perm) < 0) DIE("chmod: %s", strerror(errno));
      apply_xattrs_fd(fd, xm);
      struct timespec ts[2] = {mtime, mtime};
      if (futimens(fd, ts) < 0) DIE("utimes: %s", strerror(errno));
      if (close(fd) < 0) DIE("close: %s", strerror(errno));
      break;
    }
    case '5': {
      cache_drop();
      if (!clear_slot(dfd, name, 1) && mkdirat(dfd, name, 0700) < 0) DIE("mkdir: %s", strerror(errno));
      int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) DIE("open dir: %s", strerror(errno));
      if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0 && !(errno == EPERM && !is_root)) DIE("chown: %s", strerror(errno));
      if (fchmod(fd, perm) < 0) DIE("chmod: %s", strerror(errno));
      apply_xattrs_fd(fd, xm);
      close(fd);
      defer_dirtime(path, mtime);
      copy_data(-1, 0);
      break;
    }
    case '2': {
      cache_drop();
      clear_slot(dfd, name, 0);
      /* The target is not resolved here: it is read inside the container's root, never by us. */
      if (symlinkat(rawlink, dfd, name) < 0) DIE("symlink: %s", strerror(errno));
      apply_owner(dfd, name, uid, gid);
      apply_xattrs_path(dfd, name, xm);
      apply_times(dfd, name, mtime);
      copy_data(-1, 0);
      break;
    }
    case '1': {
      cache_drop();
      char *target = clean_path(rawlink, "hard link target");
      if (!target[0]) REFUSE("hard link to the layer root");
      const char *tname;
      int tfd = open_parent(target, &tname);
      cache_drop();
      struct stat st;
      if (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
        DIE("hard link target \"%s\": %s", target, strerror(errno));
      if (S_ISDIR(st.st_mode)) REFUSE("hard link to a directory");
      struct stat cur;
      int same = fstatat(dfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_ino == st.st_ino && cur.st_dev == st.st_dev;
      if (!same) {
        clear_slot(dfd, name, 0);
        if (linkat(tfd, tname, dfd, name, 0) < 0) DIE("link to \"%s\": %s", target, strerror(errno));
      }
      close(tfd);
      free(target);
      copy_data(-1, 0);
      break;
    }
    case '3':
    case '4':
    case '6': {
      cache_drop();
      clear_slot(dfd, name, 0);
      mode_t fmt = type == '3' ? S_IFCHR : type == '4' ? S_IFBLK : S_IFIFO;
      if (mknodat(dfd, name, fmt | perm, type == '6' ? 0 : makedev(devmajor, devminor)) < 0)
        DIE("mknod: %s", strerror(errno));
      apply_owner(dfd, name, uid, gid);
      if (fchmodat(dfd, name, perm, 0) < 0) DIE("chmod: %s", strerror(errno));
      apply_xattrs_path(dfd, name, xm);
      apply_times(dfd, name, mtime);
      copy_data(-1, 0);
      break;
    }
    case 'S':
      DIE("sparse files are not supported");
    default:
      /* Unknown vendor types carry no file: skip them like GNU tar does. */
      copy_data(-1, size);
      break;
    }
    close(dfd);

  next:
    free(path);
    free(rawname);
    free(rawlink);
    meta_clear(&local);
    free(longname);
    free(longlink);
    longname = longlink = NULL;
  }
  cur_name = "";
  cache_drop();

  for (size_t i = ndirtimes; i-- > 0;) {
    int fd;
    if (!dirtimes[i].path[0]) {
      fd = dup(root_fd);
    } else {
      int err = 0;
      fd = open_beneath(dirtimes[i].path, &err);
      if (fd < 0) {
        if (err == ENOENT || err == ENOTDIR) continue; /* replaced later in the stream */
        refuse_or_die(err, dirtimes[i].path);
      }
    }
    struct timespec ts[2] = {dirtimes[i].mtime, dirtimes[i].mtime};
    if (futimens(fd, ts) < 0) DIE("utimes %s: %s", dirtimes[i].path, strerror(errno));
    close(fd);
  }

  /* Read (and hash) to the end: the diffID covers the tar's trailing padding, the blob digest all input. */
  while (fill()) ipos = ilen;
  finish(entries);
}

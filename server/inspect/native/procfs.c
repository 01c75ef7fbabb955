// The procfs reads of a /proc scan (server/inspect/procfs.ts) as a Node-API addon.
// koffi calls libc at ~1 µs a call from JavaScript, and a scan of 4,000 descriptors
// makes ~27,000 calls; the descriptor loop is most of them (a readlink of each
// descriptor, the fdinfo of those on the mount). Here `fdLinks` makes that loop in C,
// one call per process, and `reread` a refresh's reads of a process it keeps (the links and
// fdinfo of its files on the mount, its stat); the other reads are plain Node-API calls (~0.1 µs).
// Errors are returned as -errno, never thrown: procfs.ts turns them into its errors.
// Built by scripts/build.mjs with the C compiler alone (no node-gyp); absent, the
// scan reads through koffi as before.

#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_ARGS 8
#define PATH_BYTES 4096

struct args {
  size_t argc;
  napi_value argv[MAX_ARGS];
};

static int get_args(napi_env env, napi_callback_info info, struct args *a) {
  a->argc = MAX_ARGS;
  return napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) == napi_ok ? 0 : -1;
}

static int32_t int_arg(napi_env env, struct args *a, size_t i) {
  int32_t v = 0;
  if (i < a->argc) napi_get_value_int32(env, a->argv[i], &v);
  return v;
}

static double num_arg(napi_env env, struct args *a, size_t i) {
  double v = 0;
  if (i < a->argc) napi_get_value_double(env, a->argv[i], &v);
  return v;
}

/** A string argument as a NUL-terminated path; false when it does not fit. */
static int path_arg(napi_env env, struct args *a, size_t i, char *out) {
  size_t n = 0;
  if (i >= a->argc || napi_get_value_string_utf8(env, a->argv[i], out, PATH_BYTES, &n) != napi_ok) return 0;
  return n < PATH_BYTES - 1;
}

/** The bytes of a Buffer or typed array argument. */
static int bytes_arg(napi_env env, struct args *a, size_t i, void **data, size_t *len) {
  if (i >= a->argc) return 0;
  bool is;
  if (napi_is_typedarray(env, a->argv[i], &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, a->argv[i], &type, &length, data, &ab, &offset) != napi_ok) return 0;
    size_t unit = type == napi_int32_array || type == napi_uint32_array ? 4 : 1;
    *len = length * unit;
    return 1;
  }
  return napi_get_buffer_info(env, a->argv[i], data, len) == napi_ok;
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static long result(long r) {
  return r < 0 ? -errno : r;
}

/** openat(dirfd, path, flags) → fd or -errno. */
static napi_value js_openat(napi_env env, napi_callback_info info) {
  struct args a;
  char path[PATH_BYTES];
  if (get_args(env, info, &a) || !path_arg(env, &a, 1, path)) return number(env, -ENAMETOOLONG);
  return number(env, result(openat(int_arg(env, &a, 0), path, int_arg(env, &a, 2))));
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  struct args a;
  if (get_args(env, info, &a)) return NULL;
  return number(env, result(close(int_arg(env, &a, 0))));
}

/** readlinkat(dirfd, path, buf) → length or -errno (buf.length: maybe cut short). */
static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  struct args a;
  char path[PATH_BYTES];
  void *buf;
  size_t len;
  if (get_args(env, info, &a) || !path_arg(env, &a, 1, path) || !bytes_arg(env, &a, 2, &buf, &len)) return number(env, -EINVAL);
  return number(env, result(readlinkat(int_arg(env, &a, 0), path, buf, len)));
}

/** read(fd, buf, at) into buf[at..] → length or -errno. */
static napi_value js_read(napi_env env, napi_callback_info info) {
  struct args a;
  void *buf;
  size_t len;
  if (get_args(env, info, &a) || !bytes_arg(env, &a, 1, &buf, &len)) return number(env, -EINVAL);
  size_t at = (size_t)num_arg(env, &a, 2);
  if (at > len) return number(env, -EINVAL);
  return number(env, result(read(int_arg(env, &a, 0), (char *)buf + at, len - at)));
}

/** pread(fd, buf, buf.length, 0) → length or -errno. */
static napi_value js_pread(napi_env env, napi_callback_info info) {
  struct args a;
  void *buf;
  size_t len;
  if (get_args(env, info, &a) || !bytes_arg(env, &a, 1, &buf, &len)) return number(env, -EINVAL);
  return number(env, result(pread(int_arg(env, &a, 0), buf, len, 0)));
}

/** kcmp(pid1, pid2, type, idx1, idx2) → 0, 1, 2, 3 or -errno. */
static napi_value js_kcmp(napi_env env, napi_callback_info info) {
  struct args a;
  if (get_args(env, info, &a)) return NULL;
  return number(env, result(syscall(SYS_kcmp, int_arg(env, &a, 0), int_arg(env, &a, 1), int_arg(env, &a, 2),
                                    (unsigned long)num_arg(env, &a, 3), (unsigned long)num_arg(env, &a, 4))));
}

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/**
 * numbers(dirfd, out: Int32Array) → how many of the directory's entries are decimal numbers
 * (written to out in the directory's order), or -errno; -ENOBUFS when out is too small
 * (the directory is read again from its start at each call).
 */
static napi_value js_numbers(napi_env env, napi_callback_info info) {
  struct args a;
  int32_t *out;
  size_t len;
  char buf[32768];
  if (get_args(env, info, &a) || !bytes_arg(env, &a, 1, (void **)&out, &len)) return number(env, -EINVAL);
  int fd = int_arg(env, &a, 0);
  size_t cap = len / 4, count = 0;
  if (lseek(fd, 0, SEEK_SET) < 0) return number(env, -errno);
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0) return number(env, -errno);
    if (n == 0) return number(env, (double)count);
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      off += d->d_reclen;
      const char *p = d->d_name;
      if (*p < '0' || *p > '9') continue;
      int64_t v = 0;
      for (; *p >= '0' && *p <= '9' && v <= INT32_MAX; p++) v = v * 10 + (*p - '0');
      if (*p != 0 || v > INT32_MAX) continue;
      if (count == cap) return number(env, -ENOBUFS);
      out[count++] = (int32_t)v;
    }
  }
}

/** Whether a link's bytes may name a file of interest: /dev/fuse, under one of the prefixes, or any path when `all`. */
static int wanted(const char *link, size_t n, const uint8_t *prefixes, size_t plen, int all) {
  if (n == 0 || link[0] != '/') return 0;
  if (all || (n == 9 && memcmp(link, "/dev/fuse", 9) == 0)) return 1;
  for (size_t at = 0; at + 2 <= plen;) {
    size_t len = prefixes[at] | (prefixes[at + 1] << 8);
    at += 2;
    if (at + len > plen) return 0;
    if (n >= len && memcmp(link, prefixes + at, len) == 0) return 1;
    at += len;
  }
  return 0;
}

static void put32(uint8_t *at, int32_t v) {
  memcpy(at, &v, 4);
}

/**
 * A small procfs file (a seq_file printed in one read: fdinfo/N, stat) into `into`: from `kept`
 * with one pread at offset 0 when it is open (>= 0; procfs prints it afresh), else opened at
 * `dirfd`/`name`, read and closed. Its length, -errno, or -ENOBUFS when it fills `room`.
 */
static long read_small(int kept, int dirfd, const char *name, uint8_t *into, size_t room) {
  if (kept >= 0) {
    long r = pread(kept, into, room, 0);
    return r < 0 ? -errno : (size_t)r == room ? -ENOBUFS : r;
  }
  int f = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (f < 0) return -errno;
  long got = 0;
  for (;;) {
    long r = read(f, into + got, room - got);
    if (r < 0) { got = -errno; break; }
    got += r;
    if (r == 0 || (size_t)got < room) break;
    if ((size_t)got == room) { got = -ENOBUFS; break; }
  }
  close(f);
  return got;
}

/**
 * fdLinks(fdDirFd, pidDirFd, fds: Int32Array, count, prefixes: Buffer, all, out: Buffer) → bytes written
 * to out, or -ENOBUFS when out is too small.
 * For each of the first `count` descriptors: readlinkat(fdDirFd, "N"); a link that fails, or that
 * `wanted` takes, is a record (others are left out): i32 fd, i32 link length or -errno, the link's
 * bytes, and then (link read) i32 fdinfo length or -errno, fdinfo/N's bytes (a small seq_file,
 * printed in one read). prefixes: u16 length + bytes, each.
 */
static napi_value js_fd_links(napi_env env, napi_callback_info info) {
  struct args a;
  int32_t *fds;
  size_t fdsLen, plen, outLen;
  uint8_t *prefixes, *out;
  if (get_args(env, info, &a) || !bytes_arg(env, &a, 2, (void **)&fds, &fdsLen) || !bytes_arg(env, &a, 4, (void **)&prefixes, &plen) ||
      !bytes_arg(env, &a, 6, (void **)&out, &outLen))
    return number(env, -EINVAL);
  int fdDir = int_arg(env, &a, 0), pidDir = int_arg(env, &a, 1), all = int_arg(env, &a, 5);
  size_t count = (size_t)int_arg(env, &a, 3);
  if (count > fdsLen / 4) return number(env, -EINVAL);
  int infoDir = -1;
  size_t at = 0;
  long ret = 0;
  char name[16];
  for (size_t i = 0; i < count; i++) {
    int fd = fds[i];
    snprintf(name, sizeof name, "%d", fd);
    if (outLen - at < 8 + PATH_BYTES) { ret = -ENOBUFS; goto done; }
    long n = readlinkat(fdDir, name, (char *)out + at + 8, PATH_BYTES);
    if (n >= 0 && !wanted((char *)out + at + 8, (size_t)n, prefixes, plen, all)) continue;
    put32(out + at, fd);
    put32(out + at + 4, n < 0 ? -errno : (int32_t)n);
    at += 8;
    if (n < 0) continue;
    at += (size_t)n;
    // fdinfo/ opened when a descriptor needs it (most processes have none on the mount);
    // when that fails, so does this descriptor's fdinfo, and the next one tries again.
    if (infoDir < 0) infoDir = openat(pidDir, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long got = infoDir < 0 ? -errno : read_small(-1, infoDir, name, out + at + 4, outLen - at - 4);
    if (got == -ENOBUFS) { ret = -ENOBUFS; goto done; }
    put32(out + at, (int32_t)got);
    at += 4 + (got > 0 ? (size_t)got : 0);
  }
  ret = (long)at;
done:
  if (infoDir >= 0) close(infoDir);
  return number(env, (double)ret);
}

/**
 * reread(fdDirFd, pidDirFd, fds: Int32Array, infoFds: Int32Array, count, statFd, out: Buffer) → bytes
 * written to out, or -ENOBUFS when out is too small: what a refresh reads again of a process it
 * keeps (server/inspect/process-files.ts), in one call. For each of the first `count` descriptors:
 * i32 link length or -errno and readlinkat(fdDirFd, "N")'s bytes, then i32 length or -errno and
 * fdinfo/N's bytes (pread of infoFds[i] when it is open, else opened under pidDirFd); then the
 * same of the process's stat (statFd, or opened). Every read is recorded, so equal records are
 * equal reads.
 */
static napi_value js_reread(napi_env env, napi_callback_info info) {
  struct args a;
  int32_t *fds, *infoFds;
  size_t fdsLen, infoLen, outLen;
  uint8_t *out;
  if (get_args(env, info, &a) || !bytes_arg(env, &a, 2, (void **)&fds, &fdsLen) || !bytes_arg(env, &a, 3, (void **)&infoFds, &infoLen) ||
      !bytes_arg(env, &a, 6, (void **)&out, &outLen))
    return number(env, -EINVAL);
  int fdDir = int_arg(env, &a, 0), pidDir = int_arg(env, &a, 1), statFd = int_arg(env, &a, 5);
  size_t count = (size_t)int_arg(env, &a, 4);
  if (count > fdsLen / 4 || count > infoLen / 4) return number(env, -EINVAL);
  size_t at = 0;
  char name[32];
  for (size_t i = 0; i < count; i++) {
    if (outLen - at < 8 + PATH_BYTES) return number(env, -ENOBUFS);
    snprintf(name, sizeof name, "%d", fds[i]);
    long n = readlinkat(fdDir, name, (char *)out + at + 4, PATH_BYTES);
    put32(out + at, n < 0 ? -errno : (int32_t)n);
    at += 4 + (n > 0 ? (size_t)n : 0);
    snprintf(name, sizeof name, "fdinfo/%d", fds[i]);
    long got = read_small(infoFds[i], pidDir, name, out + at + 4, outLen - at - 4);
    if (got == -ENOBUFS) return number(env, -ENOBUFS);
    put32(out + at, (int32_t)got);
    at += 4 + (got > 0 ? (size_t)got : 0);
  }
  if (outLen - at < 8) return number(env, -ENOBUFS);
  long got = read_small(statFd, pidDir, "stat", out + at + 4, outLen - at - 4);
  if (got == -ENOBUFS) return number(env, -ENOBUFS);
  put32(out + at, (int32_t)got);
  at += 4 + (got > 0 ? (size_t)got : 0);
  return number(env, (double)at);
}

NAPI_MODULE_INIT() {
  const struct { const char *name; napi_callback fn; } fns[] = {
    {"openat", js_openat}, {"close", js_close}, {"readlinkat", js_readlinkat}, {"read", js_read},
    {"pread", js_pread}, {"kcmp", js_kcmp}, {"numbers", js_numbers}, {"fdLinks", js_fd_links}, {"reread", js_reread},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return NULL;
  }
  return exports;
}

/*
 * LD_PRELOAD shim for a FUSE server: fails FUSE_DEV_IOC_BACKING_OPEN for one
 * chosen backing file, so the server's fallback from passthrough can be forced
 * on demand. libfuse's fuse_passthrough_open() calls ioctl(2) from libfuse3.so,
 * through the PLT, so this definition is the one it reaches.
 *
 *   FUSELENS_FAIL_BACKING_OPEN=PATH   the backing fd's path (readlink of
 *                                     /proc/self/fd/N) whose BACKING_OPEN fails
 *
 * The failing call still reaches the kernel, with the map's flags set: the
 * kernel rejects flags it does not know (fs/fuse/backing.c fuse_backing_open:
 * map->flags || map->padding -> EINVAL), so the failure, with the backing fd,
 * is a real syscall that strace sees. Every other ioctl goes to libc unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* include/uapi/linux/fuse.h: _IOW(229, 1, struct fuse_backing_map), 16 bytes. */
#define FUSE_DEV_IOC_BACKING_OPEN 0x4010e501UL

struct fuse_backing_map {
  int fd;
  unsigned int flags;
  unsigned long long padding;
};

int ioctl(int fd, unsigned long request, ...) {
  static int (*real_ioctl)(int, unsigned long, ...);
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (!real_ioctl) real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");

  const char *target = getenv("FUSELENS_FAIL_BACKING_OPEN");
  if (request == FUSE_DEV_IOC_BACKING_OPEN && target && arg) {
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", ((struct fuse_backing_map *)arg)->fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n >= 0) {
      path[n] = '\0';
      if (strcmp(path, target) == 0) {
        struct fuse_backing_map bad = *(struct fuse_backing_map *)arg;
        bad.flags = 0x80000000u;
        return real_ioctl(fd, request, &bad);
      }
    }
  }
  return real_ioctl(fd, request, arg);
}

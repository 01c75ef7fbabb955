/*
 * A process that holds files of a FUSE mount the way programs do, straight
 * through libc: open(2) with the given flags, mmap(2) one page shared or
 * private, close(2) a descriptor while its mapping lives, fork(2). The
 * inspection tests compile it (cc) and check that `fuselens inspect` reports
 * exactly what it did. (C, not node + koffi: a fork(2) child of node crashes
 * with SIGSEGV as soon as it returns into JavaScript.)
 *
 *   inspect-holder STEP...
 *     open:NAME:FLAGS:PATH     FLAGS: rdonly|wronly|rdwr joined with +direct +append +sync +dsync
 *     mmap:NAME:FD:shared|private:r|rw
 *     close:FD
 *     fork:NAME                the child keeps every descriptor and mapping and pauses
 *
 * Prints one JSON line {"pid":P,"fds":{..},"maps":{..},"children":{..}} and then reads
 * commands from its standard input until it closes (children die with it,
 * PR_SET_PDEATHSIG):
 *   touch NAME    a new thread reads the first byte of mapping NAME (a page fault,
 *                 which waits for the daemon if the page is not cached)
 *   mmap          a new thread maps an anonymous page (takes the mmap lock for writing)
 * Each prints "started" once its thread runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX 64
static char *names[MAX];
static int fds[MAX];
static int nfds;
static char out_maps[4096], out_children[1024];
static char *map_names[MAX];
static char *map_addrs[MAX];
static int nmaps;

static void *touch_page(void *addr) {
  volatile char c = *(volatile char *)addr;
  (void)c;
  return NULL;
}

static void *map_anon(void *unused) {
  (void)unused;
  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return NULL;
}

static int fd_of(const char *name) {
  for (int i = 0; i < nfds; i++)
    if (strcmp(names[i], name) == 0) return fds[i];
  fprintf(stderr, "inspect-holder: no descriptor named %s\n", name);
  exit(2);
}

static void die(const char *what) {
  fprintf(stderr, "inspect-holder: %s: %s\n", what, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  for (int a = 1; a < argc; a++) {
    char *step = strdup(argv[a]);
    char *op = strtok(step, ":");
    if (strcmp(op, "open") == 0) {
      char *name = strtok(NULL, ":"), *flags = strtok(NULL, ":"), *path = strtok(NULL, "");
      int f = 0;
      for (char *w = strtok(flags, "+"); w; w = strtok(NULL, "+")) {
        if (!strcmp(w, "rdonly")) f |= O_RDONLY;
        else if (!strcmp(w, "wronly")) f |= O_WRONLY;
        else if (!strcmp(w, "rdwr")) f |= O_RDWR;
        else if (!strcmp(w, "direct")) f |= O_DIRECT;
        else if (!strcmp(w, "append")) f |= O_APPEND;
        else if (!strcmp(w, "sync")) f |= O_SYNC;
        else if (!strcmp(w, "dsync")) f |= O_DSYNC;
        else { fprintf(stderr, "inspect-holder: unknown flag %s\n", w); return 2; }
      }
      int fd = open(path, f, 0644);
      if (fd < 0) die(path);
      names[nfds] = name;
      fds[nfds++] = fd;
    } else if (strcmp(op, "mmap") == 0) {
      char *name = strtok(NULL, ":"), *of = strtok(NULL, ":"), *kind = strtok(NULL, ":"), *prot = strtok(NULL, ":");
      void *p = mmap(NULL, 4096, PROT_READ | (strcmp(prot, "rw") == 0 ? PROT_WRITE : 0),
                     strcmp(kind, "shared") == 0 ? MAP_SHARED : MAP_PRIVATE, fd_of(of), 0);
      if (p == MAP_FAILED) die("mmap");
      map_names[nmaps] = name;
      map_addrs[nmaps++] = p;
      snprintf(out_maps + strlen(out_maps), sizeof out_maps - strlen(out_maps), "%s\"%s\":\"%lx\"",
               out_maps[0] ? "," : "", name, (unsigned long)p);
    } else if (strcmp(op, "close") == 0) {
      if (close(fd_of(strtok(NULL, ":"))) != 0) die("close");
    } else if (strcmp(op, "fork") == 0) {
      char *name = strtok(NULL, ":");
      pid_t parent = getpid();
      fflush(stdout);
      pid_t pid = fork();
      if (pid < 0) die("fork");
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        for (;;) pause();
      }
      snprintf(out_children + strlen(out_children), sizeof out_children - strlen(out_children), "%s\"%s\":%d",
               out_children[0] ? "," : "", name, (int)pid);
    } else {
      fprintf(stderr, "inspect-holder: unknown step %s\n", argv[a]);
      return 2;
    }
  }
  printf("{\"pid\":%d,\"fds\":{", (int)getpid());
  for (int i = 0; i < nfds; i++) printf("%s\"%s\":%d", i ? "," : "", names[i], fds[i]);
  printf("},\"maps\":{%s},\"children\":{%s}}\n", out_maps, out_children);
  fflush(stdout);
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    pthread_t t;
    char name[200];
    if (sscanf(line, "touch %199s", name) == 1) {
      void *addr = NULL;
      for (int i = 0; i < nmaps; i++)
        if (strcmp(map_names[i], name) == 0) addr = map_addrs[i];
      if (!addr) { fprintf(stderr, "inspect-holder: no mapping named %s\n", name); return 2; }
      pthread_create(&t, NULL, touch_page, addr);
    } else if (strncmp(line, "mmap", 4) == 0) {
      pthread_create(&t, NULL, map_anon, NULL);
    } else {
      fprintf(stderr, "inspect-holder: unknown command %s", line);
      return 2;
    }
    pthread_detach(t);
    printf("started\n");
    fflush(stdout);
  }
  return 0;
}

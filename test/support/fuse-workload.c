/*
 * The truth for the real-server tests: opens, reads and closes files of a FUSE
 * mount from several threads (and processes) at once, straight through libc,
 * and prints what the kernel answered, as one JSON line on stdout.
 *
 *   fuse-workload [-t THREADS] [-i ITERATIONS] [-p PROCESSES] [-w] [-l MS] FILE...
 *
 * Each of THREADS threads in each of PROCESSES processes (fork(2); default 1)
 * runs ITERATIONS times: open(FILE, O_RDONLY, or O_RDWR with -w), read(2) up
 * to 64 KiB, close(2). Thread t of process p takes FILE[(p + t + i) % nfiles]
 * on iteration i, so every file is opened by several threads at once.
 *
 * Output: {"threads":T,"iterations":I,"processes":P,"ms":N,"files":{PATH:
 *   {"attempted":N,"opened":N,"openErrors":{"EIO":N,..},"readErrors":{..},"bytes":N}}}
 * Counters live in a MAP_SHARED page so forked children add to them.
 * -l MS: each thread lingers MS milliseconds after its last close before it ends, so
 * that a capture naming requesters from /proc/TID/comm as it reads them finds them
 * alive (the time in "ms" includes it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 64
#define MAX_ERRNO 134

struct counts {
  long attempted, opened, bytes;
  long open_errors[MAX_ERRNO];
  long read_errors[MAX_ERRNO];
};

static struct counts *counts; /* MAX_FILES of them, shared with children */
static char **files;
static int nfiles, iterations, process_index, flags = O_RDONLY, linger_ms;

static void add(long *c, long n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }
static int bucket(int e) { return e > 0 && e < MAX_ERRNO ? e : 0; }

static void *run(void *arg) {
  long t = (long)arg;
  static __thread char buf[65536];
  for (int i = 0; i < iterations; i++) {
    int f = (int)((process_index + t + i) % nfiles);
    struct counts *c = &counts[f];
    add(&c->attempted, 1);
    int fd = open(files[f], flags);
    if (fd < 0) {
      add(&c->open_errors[bucket(errno)], 1);
      continue;
    }
    add(&c->opened, 1);
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) add(&c->read_errors[bucket(errno)], 1);
    else add(&c->bytes, n);
    close(fd);
  }
  if (linger_ms > 0) usleep((useconds_t)linger_ms * 1000);
  return NULL;
}

static void run_threads(int nthreads) {
  pthread_t tids[256];
  for (long t = 0; t < nthreads; t++) pthread_create(&tids[t], NULL, run, (void *)t);
  for (int t = 0; t < nthreads; t++) pthread_join(tids[t], NULL);
}

static void print_errors(const long *errs) {
  int first = 1;
  putchar('{');
  for (int e = 0; e < MAX_ERRNO; e++) {
    if (!errs[e]) continue;
    const char *name = e ? strerrorname_np(e) : NULL;
    printf("%s\"%s\":%ld", first ? "" : ",", name ? name : "other", errs[e]);
    first = 0;
  }
  putchar('}');
}

static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  int nthreads = 8, nprocesses = 1, opt;
  iterations = 100;
  while ((opt = getopt(argc, argv, "t:i:p:wl:")) != -1) {
    if (opt == 't') nthreads = atoi(optarg);
    else if (opt == 'i') iterations = atoi(optarg);
    else if (opt == 'p') nprocesses = atoi(optarg);
    else if (opt == 'w') flags = O_RDWR;
    else if (opt == 'l') linger_ms = atoi(optarg);
    else return 2;
  }
  files = argv + optind;
  nfiles = argc - optind;
  if (nfiles < 1 || nfiles > MAX_FILES || nthreads < 1 || nthreads > 256 || nprocesses < 1) {
    fprintf(stderr, "usage: fuse-workload [-t THREADS<=256] [-i ITERATIONS] [-p PROCESSES] [-w] [-l MS] FILE...(<=64)\n");
    return 2;
  }
  counts = mmap(NULL, sizeof *counts * MAX_FILES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (counts == MAP_FAILED) return perror("mmap"), 1;

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int p = 1; p < nprocesses; p++) {
    pid_t child = fork();
    if (child < 0) return perror("fork"), 1;
    if (child == 0) {
      process_index = p;
      run_threads(nthreads);
      _exit(0);
    }
  }
  run_threads(nthreads);
  while (wait(NULL) > 0) {
  }
  clock_gettime(CLOCK_MONOTONIC, &end);

  printf("{\"threads\":%d,\"iterations\":%d,\"processes\":%d,\"ms\":%ld,\"files\":{", nthreads, iterations, nprocesses,
         (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000);
  for (int f = 0; f < nfiles; f++) {
    struct counts *c = &counts[f];
    if (f) putchar(',');
    print_json_string(files[f]);
    printf(":{\"attempted\":%ld,\"opened\":%ld,\"bytes\":%ld,\"openErrors\":", c->attempted, c->opened, c->bytes);
    print_errors(c->open_errors);
    printf(",\"readErrors\":");
    print_errors(c->read_errors);
    putchar('}');
  }
  printf("}}\n");
  return 0;
}

/*
 * A process whose main thread sleeps for good while a second thread takes commands
 * from standard input, one reply line each: what an incremental refresh of the
 * sidebar (server/inspect/scan-cache.ts) must notice although the process's first
 * thread never runs (refresh.test.ts).
 *
 *   open PATH     opens PATH read-only            -> "fd N"
 *   close N       closes descriptor N             -> "ok"
 *   setfl N       fcntl(F_SETFL, O_APPEND)        -> "ok"
 *   seek N POS    lseek(N, POS, SEEK_SET)         -> "ok"
 *   fork          forks; the child takes the commands from here on and the parent's
 *                 command thread sleeps for good  -> "child PID" (printed by the child)
 *
 * It exits when standard input closes (a forked child dies with its parent: PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void reply(const char *fmt, long n) {
  printf(fmt, n);
  printf("\n");
  fflush(stdout);
}

static void *commands(void *unused) {
  (void)unused;
  char line[4096], arg[4000];
  long n, pos;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    if (sscanf(line, "open %3999[^\n]", arg) == 1) reply("fd %ld", open(arg, O_RDONLY));
    else if (sscanf(line, "close %ld", &n) == 1) reply(close(n) == 0 ? "ok" : "error %ld", n);
    else if (sscanf(line, "setfl %ld", &n) == 1) reply(fcntl(n, F_SETFL, O_APPEND) == 0 ? "ok" : "error %ld", n);
    else if (sscanf(line, "seek %ld %ld", &n, &pos) == 2) reply(lseek(n, pos, SEEK_SET) == pos ? "ok" : "error %ld", n);
    else if (strcmp(line, "fork") == 0) {
      pid_t parent = getpid();
      fflush(stdout);
      pid_t child = fork();
      if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        reply("child %ld", getpid());
        continue; /* this (single) thread of the child reads on */
      }
      for (;;) pause(); /* the parent's command thread: asleep from now on */
    } else reply("unknown %ld", 0);
  }
  exit(0);
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, commands, NULL) != 0) return 1;
  printf("pid %ld\n", (long)getpid());
  fflush(stdout);
  for (;;) pause();
}

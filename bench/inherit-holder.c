/*
 * The inspection benchmark's 100,000-descriptor state: one process opens N
 * files and forks M children that inherit them (fork(2) copies the descriptor
 * table; every copy points at the same open file), so /proc shows N × (M + 1)
 * descriptors on the mount while the daemon holds only N opens.
 *
 *   inherit-holder COUNT PATH...   open each PATH O_RDONLY, fork COUNT children
 *
 * Prints one JSON line {"pid":P,"fds":[..],"children":[..]} once every child
 * runs, then waits until its standard input closes; the children die with it
 * (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: inherit-holder COUNT PATH...\n");
    return 2;
  }
  int count = atoi(argv[1]);
  int nfds = argc - 2;
  int *fds = calloc(nfds, sizeof *fds);
  pid_t *children = calloc(count, sizeof *children);
  int ready[2];
  if (!fds || !children || pipe(ready) < 0) die("setup");
  for (int i = 0; i < nfds; i++)
    if ((fds[i] = open(argv[i + 2], O_RDONLY)) < 0) die(argv[i + 2]);
  for (int c = 0; c < count; c++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() == 1) _exit(0);
      close(ready[0]);
      close(ready[1]); // the parent reads EOF once every child has got here
      for (;;) pause();
    }
    children[c] = pid;
  }
  close(ready[1]);
  char b;
  while (read(ready[0], &b, 1) > 0) {
  }
  printf("{\"pid\":%d,\"fds\":[", getpid());
  for (int i = 0; i < nfds; i++) printf("%s%d", i ? "," : "", fds[i]);
  printf("],\"children\":[");
  for (int c = 0; c < count; c++) printf("%s%d", c ? "," : "", children[c]);
  printf("]}\n");
  fflush(stdout);
  while (read(0, &b, 1) > 0) {
  }
  return 0;
}

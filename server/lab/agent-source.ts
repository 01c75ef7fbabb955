// The process agent: a tiny C program that plays one scenario process. It is
// C, not node, because `fork` must copy the process with all its descriptors
// and mappings (the kernel counts struct file references), and fork(2) in a
// multi-threaded node process is unsafe. Compiled with `cc` on first use
// (agent.ts). Protocol over a Unix stream socket, one line per command:
//   hello PID TID                 (agent → runner, first line of a connection)
//   open PATH FLAGS | close FD | dup FD | mmap FD SHARED WRITE | munmap ADDR LEN | msync ADDR
//   read FD | write FD | writebg FD ID | setfl FD FLAGS | fork | thread | exit
//   fdsock | sendfd FD PID | recvfd  (SCM_RIGHTS between agents: the receiver
//   binds its datagram socket, the sender sends FD to it, the receiver takes it)
// Replies: `ok VALUE` or `err ERRNO` (errno number). A forked child connects
// anew and says hello; the parent answers `ok CHILDPID`. On EOF the agent exits.
// `agent --guard TEMPLATE [DIR...]` is a second mode, the guardian of a run:
// started before anything exists, it makes the run's temp dir from TEMPLATE
// (mkdtemp, in place, so its command line names the dir: clean.ts tells a
// guarded dir from a leftover by it), prints the dir, and when its stdin (held
// by the runner) reaches EOF — the runner is done or died, even by SIGKILL —
// detaches DIR/mnt (and DIR/backing/stack) and removes the dir (and each extra DIR the same way).
// `writebg` starts the write on a thread of the process (so the process can
// go on while the write is in flight, as the scenario language allows),
// answers `ok TID` at once and later sends `done ID VALUE` / `done ID -ERRNO`.
// `thread` starts a scenario thread (`thread T of P`): a pthread of this
// process that connects anew, says hello with its own TID and serves
// commands on that connection; the asking thread answers `ok TID`. Each
// thread has its own connection (thread-local), the process's descriptors
// and mappings are shared, and `exit` in any thread is exit_group.

/** Where, in a run's dir, the overlayfs of `backing B stacked` is mounted (the guardian detaches it too). */
export const STACK_MOUNT = 'backing/stack';

export const AGENT_C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define IO_SIZE 4096
#define MAP_LEN (2 * IO_SIZE) /* two pages, so that a partial munmap leaves one */
static const char *sock_path;
/* per thread: each scenario thread (and each writebg thread) talks on its own connection */
static __thread int sock = -1;
static __thread char inbuf[4096];
static __thread size_t inlen;
static void *iobuf;

static int connect_runner(void) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, sock_path, sizeof a.sun_path - 1);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) _exit(111);
  return s;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static pthread_mutex_t say_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  line[n++] = '\n';
  pthread_mutex_lock(&say_lock);
  for (int off = 0; off < n;) {
    ssize_t w = write(sock, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0);
    off += w;
  }
  pthread_mutex_unlock(&say_lock);
}

struct bgwrite {
  int fd;
  int sock; /* the connection of the thread that started it */
  long id;
  int started; /* write end of a pipe: the thread sends its tid there */
};

static void *bg_write(void *arg) {
  struct bgwrite w = *(struct bgwrite *)arg;
  free(arg);
  sock = w.sock;
  pid_t tid = (pid_t)syscall(SYS_gettid);
  if (write(w.started, &tid, sizeof tid) != sizeof tid) _exit(1);
  close(w.started);
  void *buf;
  if (posix_memalign(&buf, IO_SIZE, IO_SIZE)) _exit(1);
  memset(buf, 'b', IO_SIZE);
  ssize_t r = pwrite(w.fd, buf, IO_SIZE, 0);
  say("done %ld %ld", w.id, r < 0 ? -(long)errno : (long)r);
  free(buf);
  return NULL;
}

/* SCM_RIGHTS: each agent that receives binds the abstract datagram socket "fuselens-agent-PID". */
static int fdsock = -1;
static pid_t fdsock_pid;

static socklen_t fdsock_name(struct sockaddr_un *a, pid_t pid) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "fuselens-agent-%d", (int)pid);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static long open_fdsock(void) {
  if (fdsock >= 0 && fdsock_pid == getpid()) return 0;
  if (fdsock >= 0) close(fdsock); /* the parent's, inherited over fork */
  fdsock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fdsock < 0) return -1;
  struct sockaddr_un a;
  socklen_t len = fdsock_name(&a, getpid());
  if (bind(fdsock, (struct sockaddr *)&a, len) < 0) {
    int e = errno;
    close(fdsock);
    fdsock = -1;
    errno = e;
    return -1;
  }
  fdsock_pid = getpid();
  return 0;
}

union fdmsg {
  struct cmsghdr h;
  char buf[CMSG_SPACE(sizeof(int))];
};

static long send_fd(int fd, pid_t to) {
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_un a;
  socklen_t len = fdsock_name(&a, to);
  char byte = 'f';
  struct iovec iov = { &byte, 1 };
  union fdmsg c;
  memset(&c, 0, sizeof c);
  struct msghdr m = { .msg_name = &a, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  long r = sendmsg(s, &m, 0);
  int e = errno;
  close(s);
  errno = e;
  return r < 0 ? -1 : 0;
}

static long recv_fd(void) {
  char byte;
  struct iovec iov = { &byte, 1 };
  union fdmsg c;
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf };
  if (fdsock < 0 || recvmsg(fdsock, &m, MSG_DONTWAIT) < 0) return -1;
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) {
    errno = EPROTO;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(h), sizeof fd);
  return fd;
}

static void hello(void) {
  sock = connect_runner();
  inlen = 0;
  say("hello %d %d", (int)getpid(), (int)syscall(SYS_gettid));
}

/* Reads one command line into line; returns 0 on EOF. */
static int next_line(char *line, size_t size) {
  for (;;) {
    char *nl = memchr(inbuf, '\n', inlen);
    if (nl) {
      size_t n = nl - inbuf;
      if (n >= size) n = size - 1;
      memcpy(line, inbuf, n);
      line[n] = 0;
      inlen -= nl + 1 - inbuf;
      memmove(inbuf, nl + 1, inlen);
      return 1;
    }
    ssize_t r = read(sock, inbuf + inlen, sizeof inbuf - inlen);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    inlen += r;
  }
}

static void result(long v) {
  if (v < 0) say("err %d", errno);
  else say("ok %ld", v);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

/*
 * Detaches DIR/mnt (a lab mount whose server is gone answers nothing: a
 * lazy unmount never waits) and removes DIR, never crossing into a mount
 * (FTW_MOUNT) nor following a symlink (FTW_PHYS): root runs this.
 */
static void remove_run_dir(const char *dir) {
  char mnt[4096];
  if (snprintf(mnt, sizeof mnt, "%s/mnt", dir) >= (int)sizeof mnt) return;
  if (umount2(mnt, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return;
  /* the overlayfs a stacked backing file lives on */
  if (snprintf(mnt, sizeof mnt, "%s/${STACK_MOUNT}", dir) >= (int)sizeof mnt) return;
  if (umount2(mnt, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return;
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/*
 * Guardian: the runner holds the write end of our stdin (O_CLOEXEC, so no
 * other process inherits it). When the runner goes away in any way, read()
 * sees EOF and we remove what it made, so no dead FUSE mount stays behind.
 */
static int guard(char *template, int extra, char **dirs) {
  char c;
  setsid();
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  if (!mkdtemp(template)) return 1;
  printf("%s\n", template);
  fclose(stdout);
  for (;;) {
    ssize_t r = read(0, &c, 1);
    if (r == 0 || (r < 0 && errno != EINTR)) break;
  }
  remove_run_dir(template);
  for (int i = 0; i < extra; i++) remove_run_dir(dirs[i]);
  return 0;
}

static void serve(void);

/* SIGUSR1 (signal P SIGUSR1 in a scenario) has a handler, so it interrupts a FUSE request without killing the process. */
static void on_signal(int sig) {
  (void)sig;
}

/* A scenario thread: its own connection, the same commands. */
static void *thread_main(void *arg) {
  int started = (int)(long)arg;
  pid_t tid = (pid_t)syscall(SYS_gettid);
  hello();
  if (write(started, &tid, sizeof tid) != sizeof tid) _exit(1);
  close(started);
  serve();
  return NULL;
}

static long start_thread(void) {
  int p[2];
  pthread_t t;
  pid_t tid;
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  if ((errno = pthread_create(&t, NULL, thread_main, (void *)(long)p[1])) != 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  pthread_detach(t);
  if (read(p[0], &tid, sizeof tid) != sizeof tid) _exit(1);
  close(p[0]);
  return tid;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "--guard") == 0) return guard(argv[2], argc - 3, argv + 3);
  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET | --guard TEMPLATE [DIR...]\n", argv[0]);
    return 2;
  }
  sock_path = argv[1];
  signal(SIGCHLD, SIG_IGN); /* forked children are reaped by the kernel */
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a call the signal ends returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  if (posix_memalign(&iobuf, IO_SIZE, IO_SIZE)) return 1;
  memset(iobuf, 'w', IO_SIZE);
  hello();
  serve();
  return 0;
}

/* Runs commands from this thread's connection until it closes. */
static void serve(void) {
  char line[2048], arg[1024];
  while (next_line(line, sizeof line)) {
    long a = 0, b = 0, c = 0;
    if (sscanf(line, "open %1023s %ld", arg, &a) == 2) {
      result(open(arg, (int)a, 0644));
    } else if (sscanf(line, "close %ld", &a) == 1) {
      result(close((int)a));
    } else if (sscanf(line, "dup %ld", &a) == 1) {
      result(dup((int)a));
    } else if (sscanf(line, "mmap %ld %ld %ld", &a, &b, &c) == 3) {
      void *p = mmap(NULL, MAP_LEN, PROT_READ | (c ? PROT_WRITE : 0), b ? MAP_SHARED : MAP_PRIVATE, (int)a, 0);
      if (p == MAP_FAILED) say("err %d", errno);
      else say("ok %lu", (unsigned long)p);
    } else if (sscanf(line, "munmap %lu %ld", (unsigned long *)&a, &b) == 2) {
      result(munmap((void *)a, (size_t)b));
    } else if (sscanf(line, "msync %lu", (unsigned long *)&a) == 1) {
      /* the last page: the one a partial munmap leaves */
      result(msync((char *)a + MAP_LEN - IO_SIZE, IO_SIZE, MS_SYNC));
    } else if (sscanf(line, "setfl %ld %ld", &a, &b) == 2) {
      result(fcntl((int)a, F_SETFL, (int)b));
    } else if (sscanf(line, "read %ld", &a) == 1) {
      result(pread((int)a, iobuf, IO_SIZE, 0));
    } else if (sscanf(line, "write %ld", &a) == 1) {
      result(pwrite((int)a, iobuf, IO_SIZE, 0));
    } else if (sscanf(line, "writebg %ld %ld", &a, &b) == 2) {
      struct bgwrite *w = calloc(1, sizeof *w);
      int p[2];
      pthread_t t;
      pid_t tid;
      if (!w || pipe2(p, O_CLOEXEC) < 0) _exit(1);
      w->fd = (int)a;
      w->sock = sock;
      w->id = b;
      w->started = p[1];
      if ((errno = pthread_create(&t, NULL, bg_write, w)) != 0) {
        close(p[0]);
        close(p[1]);
        free(w);
        result(-1);
        continue;
      }
      pthread_detach(t);
      if (read(p[0], &tid, sizeof tid) != sizeof tid) _exit(1);
      close(p[0]);
      say("ok %d", (int)tid);
    } else if (strcmp(line, "fdsock") == 0) {
      result(open_fdsock());
    } else if (sscanf(line, "sendfd %ld %ld", &a, &b) == 2) {
      result(send_fd((int)a, (pid_t)b));
    } else if (strcmp(line, "recvfd") == 0) {
      result(recv_fd());
    } else if (strcmp(line, "thread") == 0) {
      result(start_thread());
    } else if (strcmp(line, "fork") == 0) {
      pid_t pid = fork();
      if (pid == 0) {
        pthread_mutex_init(&say_lock, NULL); /* a writer thread of the parent may have held it */
        close(sock);
        hello();
        continue;
      }
      result(pid);
    } else if (strcmp(line, "exit") == 0) {
      _exit(0);
    } else {
      errno = EINVAL;
      result(-1);
    }
  }
}
`;

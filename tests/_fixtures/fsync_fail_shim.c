/*
 * Fault injection for fsync and fdatasync, loaded with LD_PRELOAD into a natsdeno server (a Deno process,
 * which calls the C library's fsync/fdatasync for node:fs and Deno.File syncs). Built by the test that uses
 * it: gcc -shared -fPIC -o fsync_fail_shim.so fsync_fail_shim.c -ldl
 *
 * FSYNC_SHIM_CTL names a control file, read at every call:
 *     <generation> <count> <pattern> [<thread> [<lose>]]
 *   count  -1: fail every call on a matching fd; N > 0: fail the next N matching calls; 0: fail none.
 *          A new generation (any other first word) restarts the count.
 *   pattern  an fnmatch(3) pattern matched against the fd's path (readlink of /proc/self/fd/<fd>),
 *            e.g. "*.blk"; "*" matches every fd.
 *   thread  "any" (default), "main" (calls on the process's main thread: Deno's synchronous syncs) or
 *           "worker" (other threads: Deno's asynchronous syncs).
 *   lose    1: a failing call also overwrites with zeros the bytes of the file past its size at the last
 *           successful sync (through any fd) of this file in this process, as a disk that lost the writes
 *           the failed sync was to make durable (the kernel keeps them in its cache, so without this a
 *           kill -9 would not lose them). 0 (default): the file is left alone.
 *   A missing or empty file fails nothing.
 * A failing call returns -1 with errno EIO; every other call goes to the C library's function (dlsym
 * RTLD_NEXT). Calls are serialized (one at a time per process), so that "the last successful sync" is
 * well defined.
 *
 * FSYNC_SHIM_LOG names a file that gets one line per call, appended with O_APPEND:
 *     <fsync|fdatasync> <fd> <ok|EIO> <main|worker> <path>
 * so that a test sees which calls reached the shim and which of them failed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char cur_gen[64];
static long remaining;

static void fd_path(int fd, char *out, size_t n) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t k = readlink(link, out, n - 1);
  if (k < 0) k = 0;
  out[k] = 0;
}

/* Size of each file (by device and inode) at its last successful sync in this process. */
#define MAX_FILES 4096
static struct {
  dev_t dev;
  ino_t ino;
  off_t synced;
} files[MAX_FILES];
static int nfiles;

static off_t *synced_size(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return NULL;
  for (int i = 0; i < nfiles; i++) {
    if (files[i].dev == st.st_dev && files[i].ino == st.st_ino) return &files[i].synced;
  }
  if (nfiles == MAX_FILES) return NULL;
  files[nfiles].dev = st.st_dev;
  files[nfiles].ino = st.st_ino;
  files[nfiles].synced = 0; /* files synced first here were created by this process */
  return &files[nfiles++].synced;
}

static off_t file_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static int is_main_thread(void) { return (pid_t)syscall(SYS_gettid) == getpid(); }

/* Whether this call on `path` fails, per the control file; *lose is set when its bytes are to be lost. */
static int should_fail(const char *path, int *lose) {
  *lose = 0;
  const char *ctl = getenv("FSYNC_SHIM_CTL");
  if (ctl == NULL || *ctl == 0) return 0;
  int cfd = open(ctl, O_RDONLY | O_CLOEXEC);
  if (cfd < 0) return 0;
  char buf[4096];
  ssize_t k = read(cfd, buf, sizeof buf - 1);
  close(cfd);
  if (k <= 0) return 0;
  buf[k] = 0;
  char gen[64], pat[3900], thr[16] = "any";
  long count;
  int lose_bytes = 0;
  int n = sscanf(buf, "%63s %ld %3899s %15s %d", gen, &count, pat, thr, &lose_bytes);
  if (n < 3) return 0;
  if (fnmatch(pat, path, 0) != 0) return 0;
  if (strcmp(thr, "main") == 0 && !is_main_thread()) return 0;
  if (strcmp(thr, "worker") == 0 && is_main_thread()) return 0;
  int fail = 0;
  if (strcmp(gen, cur_gen) != 0) {
    strcpy(cur_gen, gen);
    remaining = count;
  }
  if (remaining < 0) {
    fail = 1;
  } else if (remaining > 0) {
    remaining--;
    fail = 1;
  }
  *lose = fail && lose_bytes == 1;
  return fail;
}

/* Overwrites the bytes of the file past its last successful sync with zeros. */
static void lose_unsynced(int fd) {
  off_t *synced = synced_size(fd);
  off_t size = file_size(fd);
  if (synced == NULL || size < 0) return;
  static const char zeros[65536];
  for (off_t at = *synced; at < size;) {
    size_t n = (size_t)(size - at) < sizeof zeros ? (size_t)(size - at) : sizeof zeros;
    ssize_t w = pwrite(fd, zeros, n, at);
    if (w <= 0) break;
    at += w;
  }
}

static void log_call(const char *name, int fd, int failed, int main_thread, const char *path) {
  const char *log = getenv("FSYNC_SHIM_LOG");
  if (log == NULL || *log == 0) return;
  int lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0) return;
  char line[4200];
  int n = snprintf(line, sizeof line, "%s %d %s %s %s\n", name, fd, failed ? "EIO" : "ok",
                   main_thread ? "main" : "worker", path);
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  ssize_t w = write(lfd, line, (size_t)n);
  (void)w;
  close(lfd);
}

static int intercept(const char *name, const char *fallback, sync_fn *real, int fd) {
  int saved = errno;
  char path[4096];
  fd_path(fd, path, sizeof path);
  pthread_mutex_lock(&mu);
  off_t *was = synced_size(fd);
  off_t now = file_size(fd);
  if (was != NULL && now >= 0 && *was > now) *was = now; /* cut since its last sync */
  int lose;
  int fail = should_fail(path, &lose);
  log_call(name, fd, fail, is_main_thread(), path);
  int rc;
  if (fail) {
    if (lose) lose_unsynced(fd);
    saved = EIO;
    rc = -1;
  } else {
    if (*real == NULL) *real = (sync_fn)dlsym(RTLD_NEXT, name);
    if (*real == NULL) *real = (sync_fn)dlsym(RTLD_NEXT, fallback);
    off_t size = file_size(fd);
    errno = saved;
    rc = (*real)(fd);
    saved = errno;
    off_t *synced = synced_size(fd);
    if (rc == 0 && synced != NULL && size >= 0) *synced = size;
  }
  pthread_mutex_unlock(&mu);
  errno = saved;
  return rc;
}

static sync_fn real_fsync, real_fdatasync, real_fdatasync64;

int fsync(int fd) { return intercept("fsync", "fsync", &real_fsync, fd); }
int fdatasync(int fd) { return intercept("fdatasync", "fsync", &real_fdatasync, fd); }
/* Not in glibc today; interposed in case a C library or caller has it. */
int fdatasync64(int fd) { return intercept("fdatasync64", "fdatasync", &real_fdatasync64, fd); }

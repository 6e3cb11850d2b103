/* source.c — what a data source's path names, and a pipe read once.
 *
 * Consumes a path from a spec or the command line; produces its kind (a
 * regular file, a pipe, or something no loader can read: a directory, a
 * device, a socket) and, for a pipe (a named FIFO, or standard input fed by
 * one), a temporary copy of its bytes: the training program reads its data
 * more than once (types, then values, then the digest), and a pipe gives
 * its bytes only once. The copy keeps the path's extension, which picks the
 * format. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_int.h"
#include "mlp/files.h"

MlprtSourceKind mlprt_source_kind(const char *path, const char **what) {
  struct stat st;
  *what = NULL;
  if (stat(path, &st) != 0 || S_ISREG(st.st_mode)) return MLPRT_SRC_FILE;
  if (S_ISFIFO(st.st_mode)) return MLPRT_SRC_PIPE;
  *what = S_ISDIR(st.st_mode)    ? "a directory"
          : S_ISCHR(st.st_mode)  ? "a character device"
          : S_ISBLK(st.st_mode)  ? "a block device"
          : S_ISSOCK(st.st_mode) ? "a socket"
                                 : "not a regular file";
  return MLPRT_SRC_OTHER;
}

/* Copy fd to a new temporary file of this process (TMPDIR/mlp-source-K.tmp.PID,
 * K counting this process's copies; swept by a later run once the process
 * is gone); its name, or NULL with err. The copy's format comes from the
 * program, not from its name. */
static char *copy_to_temp(int in, const char *path, MlprtError *err) {
  const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  static int copies;
  mlprt_sweep_stale(dir, "mlp-source-");
  size_t n = strlen(dir) + 64;
  char *name = mlprt_xmalloc(n);
  snprintf(name, n, "%s/mlp-source-%d.tmp.%ld", dir, copies++, (long)getpid());
  int out = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot make a copy of the pipe in %s: %s", dir,
                    strerror(errno));
    free(name);
    return NULL;
  }
  char buf[1 << 16];
  int rc = 0;
  for (;;) {
    ssize_t k = read(in, buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k < 0) rc = errno;
      break;
    }
    for (ssize_t w = 0; w < k && !rc;) {
      ssize_t put = write(out, buf + w, (size_t)(k - w));
      if (put < 0 && errno != EINTR) rc = errno;
      w += put > 0 ? put : 0;
    }
    if (rc) break;
  }
  if (close(out) != 0 && !rc) rc = errno;
  if (rc) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot copy the pipe to %s: %s", name, strerror(rc));
    unlink(name);
    free(name);
    return NULL;
  }
  return name;
}

int mlprt_source_spool(const char *path, char **copy, MlprtError *err) {
  const char *what;
  *copy = NULL;
  switch (mlprt_source_kind(path, &what)) {
  case MLPRT_SRC_FILE: return 0;
  case MLPRT_SRC_OTHER:
    mlprt_error_set(err, path, 0, 0, 0, NULL, "%s, not a data file or a pipe", what);
    return -1;
  case MLPRT_SRC_PIPE: break;
  }
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot open: %s", strerror(errno));
    return -1;
  }
  *copy = copy_to_temp(fd, path, err);
  close(fd);
  return *copy ? 0 : -1;
}

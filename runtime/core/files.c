/* files.c — the run directory's plumbing (see include/mlp/run.h): atomic
 * writes, directory creation, SHA-256 of artifacts, checkpoints and
 * resource usage. Consumes bytes and paths; produces files and digests. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mlp/files.h"

/* ---- files ------------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t len) {
  const unsigned char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

bool mlprt_path_is_special(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/* Writes the pieces in order into path atomically. */
static int write_atomic_parts(const char *path, const void *const *parts, const size_t *lens, int n,
                              bool sync) {
  /* The name lives on the stack: checkpoints are written every epoch and
   * the training loop allocates nothing. */
  char tmp[PATH_MAX + 32];
  if (strlen(path) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (mlprt_path_is_special(path)) { /* written through: a rename would replace the device */
    int fd = open(path, O_WRONLY | O_TRUNC);
    int rc = fd < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < n; i++) rc = write_all(fd, parts[i], lens[i]);
    if (fd >= 0 && close(fd) != 0) rc = -1;
    return rc;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = fd < 0 ? -1 : 0;
  for (int i = 0; rc == 0 && i < n; i++) rc = write_all(fd, parts[i], lens[i]);
  /* fsync before rename: after a crash the new name never points at
   * unwritten blocks. */
  if (rc == 0 && sync) rc = fsync(fd);
  if (fd >= 0 && close(fd) != 0) rc = -1;
  if (rc == 0) rc = rename(tmp, path);
  if (rc != 0) {
    int e = errno;
    unlink(tmp);
    errno = e;
  }
  return rc;
}

int mlprt_write_atomic(const char *path, const void *data, size_t len, bool sync) {
  return write_atomic_parts(path, &data, &len, 1, sync);
}

int mlprt_mkdirs(const char *path) {
  size_t n = strlen(path);
  char *p = malloc(n + 1);
  if (!p) return -1;
  memcpy(p, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != 0) continue;
    char c = p[i];
    p[i] = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      free(p);
      return -1;
    }
    p[i] = c;
  }
  free(p);
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* ---- locks, stale temporaries and whole-directory swaps ------------------ */

int mlprt_lock(const char *path, char *err, size_t n) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(err, n, "cannot open the lock file '%s': %s", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char pid[32] = "";
    ssize_t got = pread(fd, pid, sizeof pid - 1, 0);
    pid[got > 0 ? got : 0] = 0;
    pid[strcspn(pid, "\n")] = 0;
    close(fd);
    if (e == EWOULDBLOCK)
      snprintf(err, n, "'%s' is held by process %s: another writer is using this directory", path,
               *pid ? pid : "(unknown)");
    else
      snprintf(err, n, "cannot lock '%s': %s", path, strerror(e));
    return -1;
  }
  char text[32];
  int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
    snprintf(err, n, "cannot write the lock file '%s': %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* The owner's PID of a temporary name: NAME.tmp.PID, NAME.staging-PID or
 * NAME.old-PID; 0 for any other name. */
static long temp_owner(const char *name) {
  static const char *const marks[] = {".tmp.", ".staging-", ".old-"};
  size_t len = strlen(name), digits = 0;
  while (digits < len && name[len - 1 - digits] >= '0' && name[len - 1 - digits] <= '9') digits++;
  if (digits == 0 || digits > 9) return 0;
  for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
    size_t m = strlen(marks[i]);
    if (len - digits >= m && strncmp(name + len - digits - m, marks[i], m) == 0)
      return strtol(name + len - digits, NULL, 10);
  }
  return 0;
}

bool mlprt_temp_is_stale(const char *name) {
  long pid = temp_owner(name);
  return pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Remove name under the directory dirfd, recursively. */
static int remove_at(int dirfd, const char *name) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR && errno != EPERM) return -1;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) remove_at(fd, e->d_name);
  closedir(d);
  return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int mlprt_remove_tree(const char *path) {
  return remove_at(AT_FDCWD, path);
}

void mlprt_sweep_stale(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && mlprt_temp_is_stale(e->d_name))
      remove_at(dirfd(d), e->d_name);
  closedir(d);
}

int mlprt_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int mlprt_dir_swap(const char *staged, const char *dir) {
  struct stat st;
  if (stat(dir, &st) != 0) return errno == ENOENT ? rename(staged, dir) : -1;
  /* renameat2(RENAME_EXCHANGE): readers see the old run or the new one. */
  enum { EXCHANGE = 1 << 1 };
  if (syscall(SYS_renameat2, AT_FDCWD, staged, AT_FDCWD, dir, EXCHANGE) == 0)
    return mlprt_remove_tree(staged);
  if (errno != EINVAL && errno != ENOSYS) return -1;
  /* A file system without the exchange: the old run aside, the new in. */
  size_t n = strlen(dir) + 32;
  char *aside = malloc(n);
  snprintf(aside, n, "%s.old-%ld", dir, (long)getpid());
  int rc = rename(dir, aside);
  if (rc == 0 && rename(staged, dir) != 0) {
    int e = errno;
    rename(aside, dir);
    errno = e;
    rc = -1;
  }
  if (rc == 0) mlprt_remove_tree(aside);
  free(aside);
  return rc;
}

/* ---- names that must stay inside a directory ----------------------------- */

int mlprt_path_inside(const char *dir, const char *name, char *err, size_t n) {
  /* Lexically: relative, and no ".." climbing above the start. */
  int depth = 0;
  bool bad = !*name || name[0] == '/';
  for (const char *s = name; !bad && *s;) {
    size_t len = strcspn(s, "/");
    if (len == 2 && s[0] == '.' && s[1] == '.') bad = --depth < 0;
    else if (len > 0 && !(len == 1 && s[0] == '.')) depth++;
    s += len;
    while (*s == '/') s++;
  }
  /* Resolved: symbolic links on the way must not lead out either. */
  char base[PATH_MAX], full[PATH_MAX], *joined = NULL;
  if (!bad && realpath(dir, base)) {
    size_t jl = strlen(dir) + strlen(name) + 2;
    joined = malloc(jl);
    snprintf(joined, jl, "%s/%s", dir, name);
    /* The deepest part of the path that exists. */
    for (;;) {
      if (realpath(joined, full)) {
        size_t bl = strlen(base);
        bad = strncmp(full, base, bl) != 0 || (full[bl] != '/' && full[bl] != 0);
        break;
      }
      char *slash = strrchr(joined, '/');
      if (!slash || slash == joined) break;
      *slash = 0;
    }
    free(joined);
  }
  if (bad) snprintf(err, n, "'%s' leaves the directory '%s'; only a name inside it is allowed", name, dir);
  return bad ? -1 : 0;
}

/* ---- SHA-256 (FIPS 180-4) ---------------------------------------------- */

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes. */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] =
        (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void mlprt_sha256_init(MlprtSha256 *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->len = 0;
  s->nbuf = 0;
}

void mlprt_sha256_update(MlprtSha256 *s, const void *data, size_t n) {
  const uint8_t *p = data;
  s->len += n;
  while (n > 0) {
    size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
    memcpy(s->buf + s->nbuf, p, take);
    s->nbuf += take;
    p += take;
    n -= take;
    if (s->nbuf == 64) {
      sha256_block(s->h, s->buf);
      s->nbuf = 0;
    }
  }
}

void mlprt_sha256_final(MlprtSha256 *s, uint8_t out[32]) {
  uint64_t bits = s->len * 8;
  uint8_t pad[72] = {0x80};
  size_t padlen = (s->nbuf < 56 ? 56 : 120) - s->nbuf;
  for (int i = 0; i < 8; i++) pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
  mlprt_sha256_update(s, pad, padlen + 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(s->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)s->h[i];
  }
}

void mlprt_sha256_final_hex(MlprtSha256 *s, char hex[65]) {
  uint8_t d[32];
  mlprt_sha256_final(s, d);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void mlprt_sha256_hex(const void *data, size_t n, char hex[65]) {
  MlprtSha256 s;
  mlprt_sha256_init(&s);
  mlprt_sha256_update(&s, data, n);
  mlprt_sha256_final_hex(&s, hex);
}

int mlprt_sha256_file(const char *path, char hex[65]) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  MlprtSha256 s;
  uint8_t buf[1 << 16];
  size_t n;
  mlprt_sha256_init(&s);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) mlprt_sha256_update(&s, buf, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) return -1;
  mlprt_sha256_final_hex(&s, hex);
  return 0;
}

/* ---- the manifest's seal -------------------------------------------------- */

static char *seal_path(const char *dir) {
  size_t n = strlen(dir) + 20;
  char *p = malloc(n);
  snprintf(p, n, "%s/manifest.sha256", dir);
  return p;
}

int mlprt_manifest_seal(const char *dir) {
  size_t n = strlen(dir) + 20;
  char *man = malloc(n), *seal = seal_path(dir), hex[66];
  snprintf(man, n, "%s/manifest.json", dir);
  int rc = mlprt_sha256_file(man, hex);
  if (rc == 0) {
    hex[64] = '\n';
    rc = mlprt_write_atomic(seal, hex, 65, true);
  }
  free(man);
  free(seal);
  return rc;
}

int mlprt_manifest_verify(const char *dir, char *err, size_t n) {
  size_t pn = strlen(dir) + 20;
  char *man = malloc(pn), *seal = seal_path(dir), hex[65], want[66] = "";
  snprintf(man, pn, "%s/manifest.json", dir);
  FILE *f = fopen(seal, "rb");
  size_t got = f ? fread(want, 1, sizeof want - 1, f) : 0;
  if (f) fclose(f);
  want[got] = 0;
  int rc = 0;
  if (!f)
    rc = snprintf(err, n, "cannot read '%s' (the manifest's digest): %s", seal, strerror(errno));
  else if (mlprt_sha256_file(man, hex) != 0)
    rc = snprintf(err, n, "cannot read '%s': %s", man, strerror(errno));
  else if (got != 65 || want[64] != '\n' || strncmp(hex, want, 64) != 0)
    rc = snprintf(err, n, "'%s' does not match the digest in '%s' (tampered or corrupted)", man, seal);
  free(man);
  free(seal);
  return rc ? -1 : 0;
}

/* ---- checkpoints ------------------------------------------------------- */

static const char ckpt_magic[8] = {'M', 'L', 'P', 'C', 'K', 'P', 'T', '1'};

int mlprt_ckpt_save(const char *path, const MlprtCkptHeader *h, const void *arena, bool sync) {
  const void *parts[] = {ckpt_magic, h, arena};
  size_t lens[] = {sizeof ckpt_magic, sizeof *h, (size_t)h->arena_bytes};
  return write_atomic_parts(path, parts, lens, 3, sync);
}

int mlprt_ckpt_peek(const char *path, MlprtCkptHeader *h) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char magic[8];
  int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, ckpt_magic, 8) == 0 && fread(h, sizeof *h, 1, f) == 1;
  fclose(f);
  return ok ? 0 : -1;
}

int mlprt_ckpt_load(const char *path, MlprtCkptHeader *h, void *arena) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char magic[8];
  MlprtCkptHeader saved;
  int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, ckpt_magic, 8) == 0 &&
           fread(&saved, sizeof saved, 1, f) == 1 && saved.arena_bytes == h->arena_bytes &&
           fread(arena, 1, (size_t)saved.arena_bytes, f) == (size_t)saved.arena_bytes;
  fclose(f);
  if (!ok) return -1;
  *h = saved;
  return 0;
}

/* ---- resources --------------------------------------------------------- */

void mlprt_resources(int64_t *peak_rss_kib, double *cpu_s) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *peak_rss_kib = ru.ru_maxrss; /* Linux reports KiB */
  *cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

char *mlprt_read_whole(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  *len = 0;
  size_t got;
  while ((got = fread(buf + *len, 1, cap - 1 - *len, f)) > 0)
    if ((*len += got) == cap - 1) buf = realloc(buf, cap *= 2);
  bool bad = ferror(f) != 0;
  fclose(f);
  if (bad) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  buf[*len] = '\0';
  return buf;
}

char *mlprt_path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

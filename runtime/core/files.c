/* files.c — the run directory's plumbing (see include/mlp/run.h): atomic
 * writes, directory creation, SHA-256 of artifacts, checkpoints and
 * resource usage. Consumes bytes and paths; produces files and digests. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlp/run.h"

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

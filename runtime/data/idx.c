/* idx.c — IDX files (the MNIST / Fashion-MNIST container) through zlib.
 *
 * Consumes a gzipped or plain IDX file of unsigned bytes: a 4-byte magic
 * (0, 0, type 0x08, ndim), ndim big-endian uint32 sizes, then the data.
 * Produces an MlprtIdx holding the sizes and the bytes; gzread streams the
 * file, so only the decoded data is ever held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data_int.h"

/* Read exactly n bytes; false on a short read. */
static bool read_all(gzFile g, void *buf, size_t n) {
  unsigned char *p = buf;
  while (n) {
    unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
    int k = gzread(g, p, chunk);
    if (k <= 0) return false;
    p += k, n -= (size_t)k;
  }
  return true;
}

int mlprt_idx_load(const char *path, MlprtIdx *out, MlprtError *err) {
  memset(out, 0, sizeof *out);
  gzFile g = gzopen(path, "rb"); /* reads plain files too */
  if (!g) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot open: %s", strerror(errno ? errno : ENOENT));
    return -1;
  }
  gzbuffer(g, 1 << 18);
  unsigned char magic[4];
  int rc = -1;
  if (!read_all(g, magic, 4)) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "empty or truncated file: no IDX header");
  } else if (magic[0] || magic[1] || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
    mlprt_error_set(err, path, 0, 0, 0, NULL,
                    "not an IDX file of unsigned bytes (magic %02x %02x %02x %02x; expected 00 00 08 01..04)",
                    magic[0], magic[1], magic[2], magic[3]);
  } else {
    out->ndim = magic[3];
    size_t total = 1;
    rc = 0;
    for (int i = 0; i < out->ndim && !rc; i++) {
      unsigned char d[4];
      if (!read_all(g, d, 4)) {
        mlprt_error_set(err, path, 0, 0, 0, NULL, "truncated IDX header");
        rc = -1;
        break;
      }
      out->dims[i] = (int64_t)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
      total *= (size_t)out->dims[i];
    }
    if (!rc) {
      out->data = mlprt_xmalloc(total);
      if (!read_all(g, out->data, total)) {
        mlprt_error_set(err, path, 0, 0, 0, NULL, "truncated IDX data: expected %zu bytes", total);
        rc = -1;
      } else if (gzgetc(g) != -1) {
        mlprt_error_set(err, path, 0, 0, 0, NULL, "trailing bytes after %zu bytes of IDX data", total);
        rc = -1;
      }
    }
  }
  gzclose(g);
  if (rc) mlprt_idx_free(out);
  return rc;
}

void mlprt_idx_free(MlprtIdx *x) {
  free(x->data);
  memset(x, 0, sizeof *x);
}

void mlprt_idx_to_float(const MlprtIdx *x, float *out) {
  size_t n = 1;
  for (int i = 0; i < x->ndim; i++) n *= (size_t)x->dims[i];
  for (size_t i = 0; i < n; i++) out[i] = x->data[i] * (1.0f / 255.0f);
}

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

/* The dimensions of an IDX file from its header alone. */
static int idx_dims(const char *path, int64_t dims[4], int *ndim, char *err, size_t n) {
  gzFile f = gzopen(path, "rb");
  unsigned char h[4 + 16];
  int got = f ? gzread(f, h, 4) : -1;
  if (got == 4 && h[0] == 0 && h[1] == 0 && h[2] == 0x08 && h[3] >= 1 && h[3] <= 4) {
    *ndim = h[3];
    got = gzread(f, h + 4, (unsigned)(4 * *ndim));
    for (int i = 0; got == 4 * *ndim && i < *ndim; i++)
      dims[i] = (int64_t)h[4 + 4 * i] << 24 | h[5 + 4 * i] << 16 | h[6 + 4 * i] << 8 | h[7 + 4 * i];
  }
  if (f) gzclose(f);
  if (got != 4 * *ndim || *ndim < 1) {
    snprintf(err, n, "%s: not a readable IDX file of unsigned bytes", path);
    return -1;
  }
  return 0;
}

int mlprt_idx_shape(const char *images, const char *labels, int64_t *h, int64_t *w, int64_t *classes,
                    char *err, size_t n) {
  int64_t dims[4];
  int nd = 0;
  if (idx_dims(images, dims, &nd, err, n) != 0) return -1;
  if (nd != 3) {
    snprintf(err, n, "%s: expected images (N, H, W), found %d dimensions", images, nd);
    return -1;
  }
  *h = dims[1];
  *w = dims[2];
  MlprtIdx lab;
  MlprtError e;
  if (mlprt_idx_load(labels, &lab, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  int64_t top = -1;
  for (int64_t i = 0; i < lab.dims[0]; i++)
    if (lab.data[i] > top) top = lab.data[i];
  *classes = top + 1;
  bool ok = lab.ndim == 1 && lab.dims[0] == dims[0];
  mlprt_idx_free(&lab);
  if (!ok) {
    snprintf(err, n, "%s: the labels do not match the %lld images", labels, (long long)dims[0]);
    return -1;
  }
  return 0;
}

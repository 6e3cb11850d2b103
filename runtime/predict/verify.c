/* verify.c — checking registry versions' signatures: what both mlpc's
 * rollback and a predictor's --verify need (see include/mlp/sign.h).
 * Consumes MLPC_VERIFY_KEY, a version's manifest.json, its seal and
 * manifest.sig; produces a verdict and, for a predictor, its own name in
 * the version. A predictor needs nothing but libc and libm where it runs,
 * so it loads libsodium's Ed25519 check when --verify asks for it
 * (dlopen), as --serve loads libmicrohttpd. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/files.h"
#include "mlp/sign.h"
#include "predict_int.h"

#define SIG_BYTES 64

int mlprt_hex_bytes(const char *s, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = mlprt_hex_digit(s[2 * i]), lo = hi < 0 ? -1 : mlprt_hex_digit(s[2 * i + 1]);
    if (lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  for (const char *t = s + 2 * n; *t; t++)
    if (*t != '\n' && *t != ' ' && *t != '\r' && *t != '\t') return -1;
  return 0;
}

int mlprt_public_key(uint8_t pk[32], char *err, size_t n) {
  const char *hex = getenv("MLPC_VERIFY_KEY");
  if (!hex || !*hex) return 1;
  if (mlprt_hex_bytes(hex, pk, 32) == 0) return 0;
  snprintf(err, n, "MLPC_VERIFY_KEY is not a public key: 64 hex digits");
  return -1;
}

bool mlprt_manifest_signed(const char *dir) {
  char *p = mlprt_path_join(dir, "manifest.sig");
  bool yes = access(p, F_OK) == 0;
  free(p);
  return yes;
}

int mlprt_manifest_check_with(const char *dir, int k, const uint8_t pk[32], MlprtSigCheck verify, char *err,
                              size_t n) {
  if (mlprt_manifest_verify(dir, err, n) != 0) return -1;
  if (k < 0) return -1;
  bool is_signed = mlprt_manifest_signed(dir);
  if (!is_signed && k == 1) return 0; /* unsigned, and nobody asks for signatures */
  if (!is_signed) {
    snprintf(err, n, "'%s' is not signed, and a verify key asks for signatures", dir);
    return -1;
  }
  if (k == 1) {
    snprintf(err, n, "'%s' is signed: set MLPC_VERIFY_KEY to the public key to check it", dir);
    return -1;
  }
  char *man = mlprt_path_join(dir, "manifest.json"), *sig_path = mlprt_path_join(dir, "manifest.sig");
  size_t len, slen;
  unsigned char *text = (unsigned char *)mlprt_read_whole(man, &len);
  unsigned char *sig_text = (unsigned char *)mlprt_read_whole(sig_path, &slen);
  uint8_t sig[SIG_BYTES];
  int rc = -1;
  if (!text || !sig_text) {
    snprintf(err, n, "cannot read '%s': %s", text ? sig_path : man, strerror(errno));
  } else {
    if (mlprt_hex_bytes((const char *)sig_text, sig, sizeof sig) != 0 ||
        verify(sig, text, len, pk) != 0)
      snprintf(err, n, "'%s' is not a valid signature of '%s' by the verify key (tampered, or another key)",
               sig_path, man);
    else
      rc = 0;
  }
  free(text);
  free(sig_text);
  free(man);
  free(sig_path);
  return rc;
}

/* The name under the manifest's "files" (text) whose digest is sha, into file: 0, or -1 when none is. */
static int file_of(unsigned char *text, const char *sha, char *file, size_t fn) {
  char *s = (char *)mlprt_json_ws((char *)text), *key, *val;
  const char *why;
  if (*s++ != '{') return -1;
  for (s = (char *)mlprt_json_ws(s); *s == '"'; s = (char *)mlprt_json_ws(s + 1)) {
    if (!(s = mlprt_json_string(s + 1, &key, &why))) return -1;
    s = (char *)mlprt_json_ws(s);
    if (*s++ != ':') return -1;
    s = (char *)mlprt_json_ws(s);
    if (strcmp(key, "files") != 0 || *s != '{') {
      if (!(s = mlprt_json_skip(s))) return -1;
    } else { /* "NAME": "SHA256", ... */
      for (s = (char *)mlprt_json_ws(s + 1); *s == '"'; s = (char *)mlprt_json_ws(s + 1)) {
        if (!(s = mlprt_json_string(s + 1, &key, &why))) return -1;
        s = (char *)mlprt_json_ws(s);
        if (*s++ != ':') return -1;
        s = (char *)mlprt_json_ws(s);
        if (*s != '"' || !(s = mlprt_json_string(s + 1, &val, &why))) return -1;
        if (strcmp(val, sha) == 0) {
          snprintf(file, fn, "%s", key);
          return 0;
        }
        s = (char *)mlprt_json_ws(s);
        if (*s != ',') break;
      }
      return -1;
    }
    s = (char *)mlprt_json_ws(s);
    if (*s != ',') break;
  }
  return -1;
}

/* libsodium's crypto_sign_ed25519_verify_detached, loaded; NULL with a
 * message when it cannot be. */
static MlprtSigCheck load_verify(char *err, size_t n) {
  void *h = dlopen("libsodium.so.23", RTLD_NOW | RTLD_LOCAL);
  MlprtSigCheck f = h ? (MlprtSigCheck)dlsym(h, "crypto_sign_ed25519_verify_detached") : NULL;
  if (!f) snprintf(err, n, "--verify needs libsodium (Debian: libsodium23): %s", dlerror());
  return f;
}

int mlprt_predictor_verify(const char *dir, char *file, size_t fn, char *err, size_t n) {
  /* the public key only: a predictor never reads a signing key */
  uint8_t pk[32];
  int k = mlprt_public_key(pk, err, n);
  if (k == 1) snprintf(err, n, "set MLPC_VERIFY_KEY to the public key that signed '%s'", dir);
  MlprtSigCheck verify = k == 0 ? load_verify(err, n) : NULL;
  if (!verify || mlprt_manifest_check_with(dir, k, pk, verify, err, n) != 0) return -1;
  char self[65];
  if (mlprt_sha256_file("/proc/self/exe", self) != 0) {
    snprintf(err, n, "cannot read this program's own file: %s", strerror(errno));
    return -1;
  }
  char *man = mlprt_path_join(dir, "manifest.json");
  size_t len;
  unsigned char *text = (unsigned char *)mlprt_read_whole(man, &len);
  int rc = text ? file_of(text, self, file, fn) : -1;
  if (rc != 0)
    snprintf(err, n, "this predictor is not one of the files '%s' signs (changed, or another one)", man);
  free(text);
  free(man);
  return rc;
}

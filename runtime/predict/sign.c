/* sign.c — Ed25519 signatures of registry versions (see include/mlp/sign.h).
 * Consumes key files, environment variables and manifests; produces and
 * checks manifest.sig. libsodium does the cryptography. */
#include "mlp/sign.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/files.h"

/* Exactly 2 n hex digits, then only white space, into out. */
static int from_hex(const char *s, uint8_t *out, size_t n) {
  size_t len;
  const char *end;
  if (sodium_hex2bin(out, n, s, strlen(s), NULL, &len, &end) != 0 || len != n || end != s + 2 * n) return -1;
  for (const char *t = end; *t; t++)
    if (*t != '\n' && *t != ' ' && *t != '\r' && *t != '\t') return -1;
  return 0;
}

void mlprt_key_hex(const uint8_t pk[32], char hex[65]) {
  sodium_bin2hex(hex, 65, pk, 32);
}

static int ready(char *err, size_t n) {
  if (sodium_init() >= 0) return 0;
  snprintf(err, n, "libsodium cannot be initialised");
  return -1;
}

int mlprt_signing_key(uint8_t sk[64], uint8_t pk[32], char *err, size_t n) {
  const char *path = getenv("MLPC_SIGNING_KEY_FILE");
  if (!path || !*path) return 1;
  if (ready(err, n) != 0) return -1;
  char text[256];
  FILE *f = fopen(path, "r");
  size_t got = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (!f) {
    snprintf(err, n, "cannot read the signing key '%s' (MLPC_SIGNING_KEY_FILE): %s", path, strerror(errno));
    return -1;
  }
  fclose(f);
  text[got] = 0;
  uint8_t seed[32];
  int rc = from_hex(text, seed, sizeof seed);
  if (rc == 0) crypto_sign_seed_keypair(pk, sk, seed);
  else snprintf(err, n, "'%s' (MLPC_SIGNING_KEY_FILE) does not hold a key: 64 hex digits", path);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(text, sizeof text);
  return rc;
}

int mlprt_verify_key(uint8_t pk[32], char *err, size_t n) {
  const char *hex = getenv("MLPC_VERIFY_KEY");
  if (hex && *hex) {
    if (ready(err, n) != 0) return -1;
    if (from_hex(hex, pk, 32) == 0) return 0;
    snprintf(err, n, "MLPC_VERIFY_KEY is not a public key: 64 hex digits");
    return -1;
  }
  uint8_t sk[64];
  int rc = mlprt_signing_key(sk, pk, err, n);
  sodium_memzero(sk, sizeof sk);
  return rc;
}


int mlprt_manifest_sign(const char *dir, const uint8_t sk[64], char *err, size_t n) {
  char *man = mlprt_path_join(dir, "manifest.json"), *sig_path = mlprt_path_join(dir, "manifest.sig");
  size_t len;
  unsigned char *text = (unsigned char *)mlprt_read_whole(man, &len);
  int rc = -1;
  if (!text) {
    snprintf(err, n, "cannot read '%s': %s", man, strerror(errno));
  } else {
    uint8_t sig[crypto_sign_BYTES];
    char hex[2 * crypto_sign_BYTES + 2];
    crypto_sign_detached(sig, NULL, text, len, sk);
    sodium_bin2hex(hex, sizeof hex - 1, sig, sizeof sig);
    hex[2 * crypto_sign_BYTES] = '\n';
    rc = mlprt_write_atomic(sig_path, hex, sizeof hex - 1, true);
    if (rc != 0) snprintf(err, n, "cannot write '%s': %s", sig_path, strerror(errno));
  }
  free(text);
  free(man);
  free(sig_path);
  return rc;
}

bool mlprt_manifest_signed(const char *dir) {
  char *p = mlprt_path_join(dir, "manifest.sig");
  bool yes = access(p, F_OK) == 0;
  free(p);
  return yes;
}

int mlprt_manifest_check(const char *dir, char *err, size_t n) {
  if (mlprt_manifest_verify(dir, err, n) != 0) return -1;
  uint8_t pk[32];
  int k = mlprt_verify_key(pk, err, n);
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
  unsigned char *text = (unsigned char *)mlprt_read_whole(man, &len),
                *sig_text = (unsigned char *)mlprt_read_whole(sig_path, &slen);
  uint8_t sig[crypto_sign_BYTES];
  int rc = -1;
  if (!text || !sig_text) {
    snprintf(err, n, "cannot read '%s': %s", text ? sig_path : man, strerror(errno));
  } else {
    sig_text = realloc(sig_text, slen + 1);
    sig_text[slen] = 0;
    if (from_hex((const char *)sig_text, sig, sizeof sig) != 0 ||
        crypto_sign_verify_detached(sig, text, len, pk) != 0)
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

int mlprt_predictor_verify(const char *dir, char *file, size_t fn, char *err, size_t n) {
  uint8_t pk[32];
  int k = mlprt_verify_key(pk, err, n);
  if (k == 1) snprintf(err, n, "set MLPC_VERIFY_KEY to the public key that signed '%s'", dir);
  if (k != 0) return -1;
  if (mlprt_manifest_check(dir, err, n) != 0) return -1;
  char self[65];
  if (mlprt_sha256_file("/proc/self/exe", self) != 0) {
    snprintf(err, n, "cannot read this program's own file: %s", strerror(errno));
    return -1;
  }
  char *man = mlprt_path_join(dir, "manifest.json");
  size_t len;
  unsigned char *text = (unsigned char *)mlprt_read_whole(man, &len);
  cJSON *m = text ? cJSON_ParseWithLength((const char *)text, len) : NULL;
  const cJSON *f;
  int rc = -1;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(m, "files")) {
    if (cJSON_IsString(f) && strcmp(f->valuestring, self) == 0) {
      snprintf(file, fn, "%s", f->string);
      rc = 0;
    }
  }
  if (rc != 0)
    snprintf(err, n, "this predictor is not one of the files '%s' signs (changed, or another one)", man);
  cJSON_Delete(m);
  free(text);
  free(man);
  return rc;
}

/* sign.c — Ed25519 signatures of registry versions (see include/mlp/sign.h),
 * the signing side, which mlpc links: consumes key files, environment
 * variables and manifests; produces manifest.sig and checks it with
 * libsodium. Ed25519 from key files needs neither randomness nor
 * libsodium's CPU dispatch, so sodium_init is never called. What a
 * predictor's --verify needs is in verify.c. */
#include "mlp/sign.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/files.h"
#include "predict_int.h"

void mlprt_key_hex(const uint8_t pk[32], char hex[65]) {
  sodium_bin2hex(hex, 65, pk, 32);
}

int mlprt_signing_key(uint8_t sk[64], uint8_t pk[32], char *err, size_t n) {
  const char *path = getenv("MLPC_SIGNING_KEY_FILE");
  if (!path || !*path) return 1;
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
  int rc = mlprt_hex_bytes(text, seed, sizeof seed);
  if (rc == 0) crypto_sign_seed_keypair(pk, sk, seed);
  else snprintf(err, n, "'%s' (MLPC_SIGNING_KEY_FILE) does not hold a key: 64 hex digits", path);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(text, sizeof text);
  return rc;
}

int mlprt_verify_key(uint8_t pk[32], char *err, size_t n) {
  int k = mlprt_public_key(pk, err, n);
  if (k != 1) return k;
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

int mlprt_manifest_check(const char *dir, char *err, size_t n) {
  uint8_t pk[32];
  int k = mlprt_verify_key(pk, err, n);
  return mlprt_manifest_check_with(dir, k, pk, crypto_sign_ed25519_verify_detached, err, n);
}

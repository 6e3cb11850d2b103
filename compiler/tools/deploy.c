/* deploy.c — the version registry (see deploy.h): store a verified run as
 * a numbered version, list the versions, switch the active one.
 *
 * Layout: REGISTRY/NAME/VERSION/ holds the run's artifacts, the run's own
 * manifest (run_manifest.json), the optional predictor and ONNX files and
 * manifest.json; REGISTRY/NAME/CURRENT holds the active version. A version
 * is assembled in a hidden temporary directory and renamed into place, so
 * a reader never sees half a version, and two deploys racing for one
 * number end with two versions. Consumes run directories and the command
 * line; produces registry directories and messages. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "deploy.h"
#include "diag.h"
#include "mlp/run.h"
#include "mlp/sign.h"
#include "rundir.h"

enum { EXIT_FAIL = 2 };

static const char *const commands[] = {"deploy", "versions", "rollback"};

bool mlp_deploy_is_command(const char *cmd) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i]) == 0) return true;
  return false;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  fputs("mlpc: error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return EXIT_FAIL;
}

/* ---- versions ---------------------------------------------------------------- */

typedef struct {
  int major, minor, patch;
} Version;

/* MAJOR.MINOR.PATCH, digits only; false otherwise. */
static bool version_parse(const char *s, Version *v) {
  int used = 0;
  if (sscanf(s, "%d.%d.%d%n", &v->major, &v->minor, &v->patch, &used) != 3 || s[used]) return false;
  if (v->major < 0 || v->minor < 0 || v->patch < 0) return false;
  for (const char *c = s; *c; c++)
    if (*c != '.' && (*c < '0' || *c > '9')) return false;
  return true;
}

static int version_cmp(const Version *a, const Version *b) {
  if (a->major != b->major) return a->major < b->major ? -1 : 1;
  if (a->minor != b->minor) return a->minor < b->minor ? -1 : 1;
  return a->patch < b->patch ? -1 : a->patch > b->patch;
}

static int version_qcmp(const void *a, const void *b) {
  return version_cmp(a, b);
}

static void version_str(const Version *v, char *buf, size_t n) {
  snprintf(buf, n, "%d.%d.%d", v->major, v->minor, v->patch);
}

/* The versions stored under dir, ascending (malloc'd; *n of them). */
static Version *stored_versions(const char *dir, int *n) {
  *n = 0;
  int cap = 8;
  Version *v = malloc((size_t)cap * sizeof *v);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    Version one;
    if (!version_parse(e->d_name, &one)) continue;
    if (*n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
    v[(*n)++] = one;
  }
  if (d) closedir(d);
  qsort(v, (size_t)*n, sizeof *v, version_qcmp);
  return v;
}

/* ---- files ------------------------------------------------------------------- */

/* Copy src to dst (a new file, with src's permission bits) while hashing
 * the bytes written; hex receives their digest. 0, or -1 with errno. */
static int copy_hashed(const char *src, const char *dst, char hex[65]) {
  FILE *in = fopen(src, "rb");
  if (!in) return -1;
  struct stat st;
  mode_t mode = fstat(fileno(in), &st) == 0 ? st.st_mode & 0777 : 0644;
  FILE *out = fopen(dst, "wb");
  if (!out) {
    int e = errno;
    fclose(in);
    errno = e;
    return -1;
  }
  MlprtSha256 s;
  mlprt_sha256_init(&s);
  unsigned char buf[1 << 16];
  size_t got;
  int rc = 0;
  while (rc == 0 && (got = fread(buf, 1, sizeof buf, in)) > 0) {
    mlprt_sha256_update(&s, buf, got);
    if (fwrite(buf, 1, got, out) != got) rc = -1;
  }
  if (ferror(in)) rc = -1;
  fclose(in);
  if (fflush(out) != 0 || fsync(fileno(out)) != 0) rc = -1;
  if (fclose(out) != 0) rc = -1;
  if (rc == 0) rc = chmod(dst, mode);
  mlprt_sha256_final_hex(&s, hex);
  return rc;
}

/* Remove a flat directory and its files. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[PATH_MAX];
  while (d && (e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    remove(path);
  }
  if (d) closedir(d);
  rmdir(dir);
}

/* A JSON file parsed (caller deletes), or NULL with *why set. */
static cJSON *read_json(MlpArena *a, const char *path, const char **why) {
  MlpSource *src = mlp_source_read(a, path);
  if (!src) {
    *why = strerror(errno);
    return NULL;
  }
  cJSON *j = cJSON_ParseWithLength(src->text, (size_t)src->len);
  if (!j) *why = "not valid JSON";
  return j;
}

static const char *json_str(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* NAME/CURRENT's version into buf ("" when there is none). */
static void read_current(MlpArena *a, const char *name_dir, char *buf, size_t n) {
  MlpSource *src = mlp_source_read(a, mlp_arena_printf(a, "%s/CURRENT", name_dir));
  buf[0] = 0;
  if (!src) return;
  snprintf(buf, n, "%.*s", (int)strcspn(src->text, "\n"), src->text);
}

static int write_current(const char *name_dir, const char *version) {
  char path[PATH_MAX], text[64];
  snprintf(path, sizeof path, "%s/CURRENT", name_dir);
  int len = snprintf(text, sizeof text, "%s\n", version);
  if (mlprt_write_atomic(path, text, (size_t)len, true) != 0)
    return fail("cannot write '%s': %s", path, strerror(errno));
  return 0;
}

/* Check every file a stored version's manifest lists against its digest.
 * 0, or EXIT_FAIL after a message naming the first file that differs. */
static int verify_version(MlpArena *a, const char *vdir) {
  char sealed[PATH_MAX + 256];
  if (mlprt_manifest_check(vdir, sealed, sizeof sealed) != 0) return fail("%s", sealed);
  const char *why;
  const char *mpath = mlp_arena_printf(a, "%s/manifest.json", vdir);
  cJSON *m = read_json(a, mpath, &why);
  if (!m) return fail("cannot read '%s': %s", mpath, why);
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(m, "files"), *f;
  int rc = cJSON_GetArraySize(files) > 0 ? 0 : fail("'%s' lists no files", mpath);
  cJSON_ArrayForEach(f, files) {
    if (rc) break;
    const char *path = mlp_arena_printf(a, "%s/%s", vdir, f->string);
    char hex[65];
    if (!cJSON_IsString(f) || strchr(f->string, '/'))
      rc = fail("'%s': bad entry '%s'", mpath, f->string);
    else if (mlprt_sha256_file(path, hex) != 0)
      rc = fail("'%s' is missing: %s", path, strerror(errno));
    else if (strcmp(hex, f->valuestring) != 0)
      rc = fail("'%s' does not match its recorded sha256 (changed after it was stored)", path);
  }
  cJSON_Delete(m);
  return rc;
}

/* ---- deploy ------------------------------------------------------------------ */

/* deploy.version of the run's plan (the run directory read back and
 * verified, its spec lowered without the data), or the setting's default
 * "1.0.0" when the spec has no deploy section; *registry, when NULL,
 * receives deploy.registry (default "registry"); *sign whether the spec
 * requires a signature (deploy.sign), *keep whether it keeps the older
 * versions (deploy.rollback). NULL after a message when the run cannot be
 * read back. */
static const char *plan_version(MlpArena *a, const char *run, const char **registry, bool *sign,
                                bool *keep) {
  MlpRunDir rd;
  char err[PATH_MAX + 512];
  if (mlp_rundir_load(a, run, &rd, err, sizeof err) != 0) {
    mlp_rundir_free(&rd);
    fail("%s", err);
    return NULL;
  }
  if (!*registry) *registry = rd.ir->deploy.registry;
  *sign = rd.ir->deploy.sign;
  *keep = rd.ir->deploy.rollback;
  const char *v = rd.ir->version ? rd.ir->version : "1.0.0";
  mlp_rundir_free(&rd);
  return v;
}

/* Take REGISTRY/.lock (creating the registry when create): one writer at a
 * time. 0, or EXIT_FAIL after a message naming the holder. */
static int lock_registry(MlpArena *a, const char *registry, bool create, int *fd) {
  char err[PATH_MAX + 256];
  if (create && mlprt_mkdirs(registry) != 0) return fail("cannot create '%s': %s", registry, strerror(errno));
  *fd = mlprt_lock(mlp_arena_printf(a, "%s/.lock", registry), err, sizeof err);
  return *fd < 0 ? fail("cannot write the registry '%s': %s", registry, err) : 0;
}

/* A pipeline name from the command line must name a directory inside the
 * registry. */
static int check_name(const char *registry, const char *name) {
  char err[PATH_MAX + 256];
  if (mlprt_path_inside(registry, name, err, sizeof err) != 0) return fail("%s", err);
  if (strchr(name, '/') || name[0] == '.') return fail("'%s' is not a pipeline name", name);
  return 0;
}

/* Copy src into dir under name, recording its digest in files; when want
 * is given the copy must have that digest. */
static int store(MlpArena *a, const char *src, const char *dir, const char *name, const char *want,
                 cJSON *files) {
  char hex[65];
  const char *dst = mlp_arena_printf(a, "%s/%s", dir, name);
  if (copy_hashed(src, dst, hex) != 0)
    return fail("cannot store '%s' in the registry: %s", src, strerror(errno));
  if (want && strcmp(hex, want) != 0)
    return fail("'%s' does not match the sha256 its run's manifest records (tampered or corrupted)", src);
  cJSON_AddStringToObject(files, name, hex);
  return 0;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* A file deploy is asked to store beside the run: it must be a readable
 * file before anything is written. */
static int check_extra(const char *path, const char *what, const char *run, const char *how) {
  struct stat st;
  if (stat(path, &st) != 0 || access(path, R_OK) != 0)
    return fail("cannot read the %s '%s': %s (write it first: mlpc export %s %s %s)", what, path,
                strerror(errno), run, how, path);
  if (!S_ISREG(st.st_mode)) return fail("the %s '%s' is not a regular file", what, path);
  return 0;
}

static int deploy(MlpArena *a, const char *run, const char *registry, const char *predictor,
                  const char *onnx) {
  if (predictor && check_extra(predictor, "predictor", run, "-o") != 0) return EXIT_FAIL;
  if (onnx && check_extra(onnx, "ONNX model", run, "--onnx") != 0) return EXIT_FAIL;
  const char *why;
  const char *mpath = mlp_arena_printf(a, "%s/manifest.json", run);
  char sealed[PATH_MAX + 256];
  if (mlprt_manifest_verify(run, sealed, sizeof sealed) != 0) return fail("%s; refusing to deploy", sealed);
  cJSON *man = read_json(a, mpath, &why);
  if (!man) return fail("cannot read '%s': %s", mpath, why);
  const char *name = json_str(man, "pipeline");
  const cJSON *arts = cJSON_GetObjectItemCaseSensitive(man, "artifacts"), *art;
  int rc = 0;
  /* The name becomes a directory: nothing that could leave the registry. */
  if (!name || !*name || name[0] == '.' || strchr(name, '/') || cJSON_GetArraySize(arts) == 0)
    rc = fail("'%s' names no pipeline or lists no artifacts", mpath);
  /* The spec's registry is taken as it is written; deploy writes under it
   * only while holding its lock. */
  bool sign = false, keep = true;
  const char *wanted = rc ? NULL : plan_version(a, run, &registry, &sign, &keep);
  int lock = -1;
  if (!rc && !wanted) rc = EXIT_FAIL;
  /* With a signing key every version is signed; a spec that requires
   * signatures (deploy.sign = true) needs one. */
  uint8_t sk[64] = {0}, pk[32] = {0};
  char kerr[PATH_MAX + 256];
  int key = rc ? 1 : mlprt_signing_key(sk, pk, kerr, sizeof kerr);
  if (key < 0) rc = fail("%s", kerr);
  if (!rc && key == 1 && sign)
    rc = fail("deploy.sign = true: set MLPC_SIGNING_KEY_FILE to the file of the signing key");
  if (!rc) rc = lock_registry(a, registry, true, &lock);
  /* Every artifact as recorded, before anything is stored. */
  cJSON_ArrayForEach(art, arts) {
    if (rc) break;
    const char *path = mlp_arena_printf(a, "%s/%s", run, art->string);
    char hex[65];
    if (!cJSON_IsString(art) || strchr(art->string, '/'))
      rc = fail("'%s': bad artifact entry '%s'", mpath, art->string);
    else if (mlprt_sha256_file(path, hex) != 0)
      rc = fail("cannot read '%s': %s", path, strerror(errno));
    else if (strcmp(hex, art->valuestring) != 0)
      rc = fail("'%s' does not match the sha256 in '%s' (tampered or corrupted); refusing to deploy", path,
                mpath);
  }
  Version v;
  if (!rc && !version_parse(wanted, &v)) rc = fail("deploy.version '%s' is not MAJOR.MINOR.PATCH", wanted);
  const char *name_dir = rc ? NULL : mlp_arena_printf(a, "%s/%s", registry, name);
  if (!rc && mlprt_mkdirs(name_dir) != 0) rc = fail("cannot create '%s': %s", name_dir, strerror(errno));
  if (!rc) mlprt_sweep_stale(name_dir, ""); /* what killed deploys left */
  const char *tmp = rc ? NULL : mlp_arena_printf(a, "%s/.deploy.tmp.%ld", name_dir, (long)getpid());
  if (!rc && mkdir(tmp, 0755) != 0) rc = fail("cannot create '%s': %s", tmp, strerror(errno));
  if (rc) {
    if (lock >= 0) close(lock);
    cJSON_Delete(man);
    return rc;
  }
  cJSON *rec = cJSON_CreateObject();
  cJSON *files = cJSON_CreateObject();
  cJSON_ArrayForEach(art, arts) {
    if (rc) break;
    rc = store(a, mlp_arena_printf(a, "%s/%s", run, art->string), tmp, art->string, art->valuestring, files);
  }
  if (!rc) rc = store(a, mpath, tmp, "run_manifest.json", NULL, files);
  if (!rc && predictor) rc = store(a, predictor, tmp, base_name(predictor), NULL, files);
  if (!rc && onnx) rc = store(a, onnx, tmp, base_name(onnx), NULL, files);
  char source[PATH_MAX], date[32], vs[48];
  if (!realpath(run, source)) snprintf(source, sizeof source, "%s", run);
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  const char *vdir = NULL;
  /* The spec's version unless it is taken (or, with deploy.rollback =
   * false, below the highest), else the next patch after the highest; a
   * deploy that loses a race for a number takes the next. */
  for (int tries = 0; !rc && !vdir && tries < 100; tries++) {
    int nv;
    Version *have = stored_versions(name_dir, &nv);
    bool taken = false;
    for (int i = 0; i < nv; i++) taken |= version_cmp(&have[i], &v) == 0;
    /* without older versions kept, the numbers only rise */
    if (!keep && nv > 0 && version_cmp(&v, &have[nv - 1]) < 0) taken = true;
    if (taken) v = (Version){have[nv - 1].major, have[nv - 1].minor, have[nv - 1].patch + 1};
    free(have);
    version_str(&v, vs, sizeof vs);
    cJSON_DeleteItemFromObject(rec, "name");
    cJSON_DeleteItemFromObject(rec, "version");
    cJSON_AddStringToObject(rec, "name", name);
    cJSON_AddStringToObject(rec, "version", vs);
    if (tries == 0) {
      cJSON_AddStringToObject(rec, "created", date);
      cJSON_AddStringToObject(rec, "source", source);
      const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(man, "metrics");
      if (metrics) cJSON_AddItemToObject(rec, "metrics", cJSON_Duplicate(metrics, true));
      cJSON_AddItemReferenceToObject(rec, "files", files);
    }
    char *text = cJSON_Print(rec);
    const char *mp = mlp_arena_printf(a, "%s/manifest.json", tmp);
    if (mlprt_write_atomic(mp, text, strlen(text), true) != 0 || mlprt_manifest_seal(tmp) != 0)
      rc = fail("cannot write '%s': %s", mp, strerror(errno));
    /* Signed, and checked as rollback will check it: a verify key that is
     * not the signing key's public half is refused here. */
    if (!rc && key == 0 && mlprt_manifest_sign(tmp, sk, kerr, sizeof kerr) != 0) rc = fail("%s", kerr);
    if (!rc && mlprt_manifest_check(tmp, kerr, sizeof kerr) != 0) rc = fail("%s; nothing stored", kerr);
    free(text);
    const char *dst = mlp_arena_printf(a, "%s/%s", name_dir, vs);
    if (!rc && rename(tmp, dst) == 0)
      vdir = dst;
    else if (!rc && errno != EEXIST && errno != ENOTEMPTY)
      rc = fail("cannot store '%s': %s", dst, strerror(errno));
  }
  if (!rc && !vdir) rc = fail("no free version number under '%s'", name_dir);
  if (rc) {
    remove_dir(tmp);
    rmdir(name_dir); /* a name with no version is no entry (kept when others are stored) */
  }
  if (!rc) rc = write_current(name_dir, vs);
  /* deploy.rollback = false: once the new version is current, the older
   * ones go, and there is nothing to roll back to. */
  int nv = 0, removed = 0;
  Version *have = rc || keep ? NULL : stored_versions(name_dir, &nv);
  for (int i = 0; i < nv; i++) {
    char old[48];
    version_str(&have[i], old, sizeof old);
    if (strcmp(old, vs) == 0) continue;
    remove_dir(mlp_arena_printf(a, "%s/%s", name_dir, old));
    removed++;
  }
  free(have);
  if (removed) printf("removed %d older version%s of %s (deploy.rollback = false)\n", removed,
                      removed == 1 ? "" : "s", name);
  char khex[65];
  mlprt_key_hex(pk, khex);
  if (!rc) printf("%s %s deployed to %s (current%s%s)\n", name, vs, vdir, key == 0 ? ", signed by key " : "",
                  key == 0 ? khex : "");
  close(lock);
  cJSON_Delete(rec);
  cJSON_Delete(files);
  cJSON_Delete(man);
  return rc;
}

/* ---- versions and rollback ------------------------------------------------------ */

/* The versions of one name, oldest first, the current one marked. */
static int list_name(MlpArena *a, const char *registry, const char *name) {
  if (check_name(registry, name) != 0) return EXIT_FAIL;
  const char *name_dir = mlp_arena_printf(a, "%s/%s", registry, name);
  int nv;
  Version *have = stored_versions(name_dir, &nv);
  if (nv == 0) {
    free(have);
    return fail("'%s' has no deployed versions in '%s'", name, registry);
  }
  char current[64], vs[48];
  read_current(a, name_dir, current, sizeof current);
  printf("%s\n", name);
  for (int i = 0; i < nv; i++) {
    version_str(&have[i], vs, sizeof vs);
    const char *why;
    char sealed[PATH_MAX + 256];
    if (mlprt_manifest_verify(mlp_arena_printf(a, "%s/%s", name_dir, vs), sealed, sizeof sealed) != 0) {
      free(have);
      return fail("%s", sealed);
    }
    cJSON *m = read_json(a, mlp_arena_printf(a, "%s/%s/manifest.json", name_dir, vs), &why);
    const char *date = m ? json_str(m, "created") : NULL;
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(m, "metrics");
    /* The headline metric, accuracy or R² for a regression, of the test
     * split, or of the validation split when the run had no test split. */
    const char *split = cJSON_HasObjectItem(metrics, "test") ? "test" : "validation";
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(metrics, split);
    const char *key = cJSON_GetObjectItemCaseSensitive(scores, "accuracy") ? "accuracy" : "r2";
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(scores, key);
    printf("%s %-10s %-20s", strcmp(vs, current) == 0 ? "*" : " ", vs, date ? date : "?");
    if (cJSON_IsNumber(val)) printf(" %s %s %.4f", split, key, val->valuedouble);
    printf("%s\n", strcmp(vs, current) == 0 ? "  (current)" : "");
    cJSON_Delete(m);
  }
  free(have);
  return 0;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int versions(MlpArena *a, const char *registry, const char *name) {
  if (name) return list_name(a, registry, name);
  DIR *d = opendir(registry);
  if (!d) return fail("cannot read the registry '%s': %s", registry, strerror(errno));
  int n = 0, cap = 8, rc = 0;
  char **names = malloc((size_t)cap * sizeof *names);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) names = realloc(names, (size_t)(cap *= 2) * sizeof *names);
    names[n++] = mlp_arena_strdup(a, e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_name);
  for (int i = 0; i < n && !rc; i++) rc = list_name(a, registry, names[i]);
  if (n == 0) printf("no deployed pipelines in %s\n", registry);
  free(names);
  return rc;
}

static int rollback_locked(MlpArena *a, const char *registry, const char *name, const char *version) {
  const char *name_dir = mlp_arena_printf(a, "%s/%s", registry, name);
  int nv;
  Version *have = stored_versions(name_dir, &nv);
  char current[64], vs[48] = "";
  read_current(a, name_dir, current, sizeof current);
  int rc = nv == 0 ? fail("'%s' has no deployed versions in '%s'", name, registry) : 0;
  Version want, cur;
  if (!rc && version) {
    bool found = false;
    if (version_parse(version, &want))
      for (int i = 0; i < nv; i++) found |= version_cmp(&have[i], &want) == 0;
    if (!found) rc = fail("'%s' has no version '%s'", name, version);
  } else if (!rc) {
    /* The newest version older than the current one. */
    if (!version_parse(current, &cur)) rc = fail("'%s' has no current version to roll back from", name);
    int pick = -1;
    for (int i = 0; !rc && i < nv; i++)
      if (version_cmp(&have[i], &cur) < 0) pick = i;
    if (!rc && pick < 0) rc = fail("'%s' has no version before %s", name, current);
    if (!rc) want = have[pick];
  }
  free(have);
  if (rc) return rc;
  version_str(&want, vs, sizeof vs);
  rc = verify_version(a, mlp_arena_printf(a, "%s/%s", name_dir, vs));
  if (rc) return fail("refusing to roll '%s' back to %s", name, vs);
  rc = write_current(name_dir, vs);
  if (!rc) printf("%s: current version %s (was %s)\n", name, vs, *current ? current : "none");
  return rc;
}

static int rollback(MlpArena *a, const char *registry, const char *name, const char *version) {
  int lock = -1;
  if (check_name(registry, name) != 0 || lock_registry(a, registry, false, &lock) != 0) return EXIT_FAIL;
  int rc = rollback_locked(a, registry, name, version);
  close(lock);
  return rc;
}

/* ---- the command line ---------------------------------------------------------------- */

static int usage_fail(const char *cmd) {
  static const char *const usage[] = {
      "usage: mlpc deploy RUN_DIR [--registry DIR] [--predictor PATH] [--onnx PATH]",
      "usage: mlpc versions --registry DIR [NAME]",
      "usage: mlpc rollback --registry DIR NAME [VERSION]",
  };
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i]) == 0) fprintf(stderr, "%s\n", usage[i]);
  return EXIT_FAIL;
}

int mlp_deploy_main(int argc, char **argv) {
  const char *cmd = argv[0], *registry = NULL, *predictor = NULL, *onnx = NULL, *pos[2] = {NULL, NULL};
  static const char *const options[] = {"--registry", "--predictor", "--onnx"};
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
      usage_fail(cmd);
      return 0;
    }
    bool deploy_only = strcmp(o, "--predictor") == 0 || strcmp(o, "--onnx") == 0;
    if (strcmp(o, "--registry") == 0 || (deploy_only && strcmp(cmd, "deploy") == 0)) {
      if (i + 1 >= argc) return fail("option '%s' needs a value", o);
      const char **slot = o[2] == 'r' ? &registry : o[2] == 'p' ? &predictor : &onnx;
      *slot = argv[++i];
    } else if (o[0] == '-' && o[1]) {
      const char *near = mlp_closest(o, options, 3);
      if (near) return fail("unknown option '%s' for %s; did you mean '%s'?", o, cmd, near);
      return fail("unknown option '%s' for %s", o, cmd);
    } else if (npos < 2) {
      pos[npos++] = o;
    } else {
      return usage_fail(cmd);
    }
  }
  /* deploy defaults to the spec's deploy.registry; the others name it. */
  if (!registry && strcmp(cmd, "deploy") != 0) {
    fail("%s needs --registry DIR", cmd);
    return usage_fail(cmd);
  }
  MlpArena a;
  mlp_arena_init(&a);
  int rc;
  if (strcmp(cmd, "deploy") == 0)
    rc = npos == 1 ? deploy(&a, pos[0], registry, predictor, onnx) : usage_fail(cmd);
  else if (strcmp(cmd, "versions") == 0)
    rc = npos <= 1 ? versions(&a, registry, pos[0]) : usage_fail(cmd);
  else
    rc = npos >= 1 ? rollback(&a, registry, pos[0], pos[1]) : usage_fail(cmd);
  mlp_arena_free(&a);
  return rc;
}

/* files.h — the runtime core's files: atomic writes, locks, stale
 * temporaries, whole-directory swaps, paths kept inside a directory, the
 * sealed manifest, SHA-256, checkpoints and resource usage. Every layer
 * above the core (data, train, predict) and the compiler use these. */
#ifndef MLP_FILES_H
#define MLP_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- files ------------------------------------------------------------- */

/* Write len bytes to path through path.tmp.PID + rename: readers, and a
 * run resumed after a kill, see the old file or the new one, never a torn
 * one. With sync the data is also on disk before the rename, so a crash of
 * the whole machine cannot leave the new name on unwritten blocks (an fsync
 * costs milliseconds). 0 or -1 (errno). */
int mlprt_write_atomic(const char *path, const void *data, size_t len, bool sync);
/* Whether path names something that is not a regular file (a device such
 * as /dev/null, a pipe, a directory): it is written through, never
 * replaced by a rename, which would put a file in the device's place. */
bool mlprt_path_is_special(const char *path);
/* Make a directory and its parents; 0 or -1 (errno). */
int mlprt_mkdirs(const char *path);

/* Take the exclusive lock path (created if needed; it records the holder's
 * PID). The descriptor, held until it is closed or the process ends, or
 * -1 with a message in err: one naming the holder's PID when another
 * process has it. Never waits. */
int mlprt_lock(const char *path, char *err, size_t n);
/* Whether name is a temporary one (NAME.tmp.PID, NAME.staging-PID,
 * NAME.old-PID) whose process is gone. */
bool mlprt_temp_is_stale(const char *name);
/* Remove every stale temporary in dir whose name starts with prefix. */
void mlprt_sweep_stale(const char *dir, const char *prefix);
/* Remove a file or a directory and everything under it; 0 or -1. */
int mlprt_remove_tree(const char *path);
/* fsync a directory (a rename in it is then durable); 0 or -1. */
int mlprt_fsync_dir(const char *dir);
/* Replace the directory dir (if any) with staged as one step: the two are
 * exchanged atomically where the file system can, then the old one is
 * removed. 0 or -1 (errno). */
int mlprt_dir_swap(const char *staged, const char *dir);
/* 0 when name (from a spec or a command line), joined to dir, stays inside
 * dir: relative, no ".." above dir, no symbolic link leading out; -1 with
 * a message in err otherwise. */
int mlprt_path_inside(const char *dir, const char *name, char *err, size_t n);

/* DIR/NAME, malloc'd. */
char *mlprt_path_join(const char *dir, const char *name);

/* The whole of a file, malloc'd with a NUL after its *len bytes; NULL
 * (errno) when it cannot be read. */
char *mlprt_read_whole(const char *path, size_t *len);

/* manifest.json is sealed by its digest in manifest.sha256 beside it (in
 * a run directory and in each registry version), which whoever reads the
 * manifest checks first. Seal: 0 or -1 (errno). Verify: 0, or -1 with a
 * message naming the file (a missing seal, a changed manifest). */
int mlprt_manifest_seal(const char *dir);
int mlprt_manifest_verify(const char *dir, char *err, size_t n);

/* SHA-256 (FIPS 180-4). */
typedef struct {
  uint32_t h[8];
  uint64_t len; /* bytes hashed so far */
  uint8_t buf[64];
  size_t nbuf;
} MlprtSha256;
void mlprt_sha256_init(MlprtSha256 *s);
void mlprt_sha256_update(MlprtSha256 *s, const void *data, size_t n);
void mlprt_sha256_final(MlprtSha256 *s, uint8_t out[32]);
/* The same, as the hex digest (65 bytes with NUL). */
void mlprt_sha256_final_hex(MlprtSha256 *s, char hex[65]);
/* The hex digest (65 bytes with NUL) of a buffer, or of a file (-1 when it
 * cannot be read). */
void mlprt_sha256_hex(const void *data, size_t n, char hex[65]);
int mlprt_sha256_file(const char *path, char hex[65]);

/* ---- checkpoints ------------------------------------------------------- */

/* A checkpoint is the model's whole arena plus the loop's position, so a
 * resumed run continues bit-identically. File: magic "MLPCKPT1", then the
 * header fields, then arena_bytes bytes. */
typedef struct {
  int64_t job, epoch; /* the next epoch to run */
  int64_t step;       /* optimizer steps taken */
  double best_metric;
  int64_t best_epoch, bad_epochs;
  double lr; /* plateau schedules carry their current rate */
  int64_t arena_bytes;
} MlprtCkptHeader;

int mlprt_ckpt_save(const char *path, const MlprtCkptHeader *h, const void *arena, bool sync);
/* 0 when path holds a checkpoint whose arena_bytes matches h->arena_bytes
 * (h is overwritten with the saved header and arena with its bytes); -1
 * otherwise. */
int mlprt_ckpt_load(const char *path, MlprtCkptHeader *h, void *arena);
/* The header alone (which job a run directory's checkpoint belongs to). */
int mlprt_ckpt_peek(const char *path, MlprtCkptHeader *h);

/* ---- resources --------------------------------------------------------- */

/* Peak resident set size in KiB and user + system CPU seconds so far. */
void mlprt_resources(int64_t *peak_rss_kib, double *cpu_s);

#endif

/* check_mutate.c — the front end on broken input. Every spec we have (the
 * .mlp files in examples/ and tests/diag/, or built-in samples when there
 * are none) is mutated by a seeded generator, one to three edits each:
 * tokens deleted, duplicated, swapped or replaced, text truncated, random
 * bytes inserted. Each mutant goes through mlp_parse and, when it parses,
 * mlp_sema_check. None may crash (Check runs the tests in child
 * processes), and each one with errors must say so in the GNU
 * "FILE:LINE:COL: error: " form. */
#include <check.h>
#include <glob.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "sema.h"

enum { MUTANTS = 10400, SHARDS = 4, MAXTOK = 8192 };

static const char *const samples[] = {
    "pipeline p {\n  data {\n    source = csv(\"d.csv\")\n    target = y\n  }\n"
    "  model {\n    dense(8, activation = relu)\n    output()\n  }\n}\n",
    "use std.nets\npipeline q { data { source = csv(\"x.csv\") target = z }\n"
    "  tuning { lr in logrange(1e-4, 1e-1) batch in [8, 16] dropout in 0.1 .. 0.5 } }\n",
};

typedef struct {
  char **texts;
  int *lens;
  char **names;
  int n;
} Corpus;

static void corpus_add(Corpus *c, const char *name, const char *text, int len) {
  c->texts = realloc(c->texts, sizeof *c->texts * (size_t)(c->n + 1));
  c->lens = realloc(c->lens, sizeof *c->lens * (size_t)(c->n + 1));
  c->names = realloc(c->names, sizeof *c->names * (size_t)(c->n + 1));
  c->texts[c->n] = malloc((size_t)len + 1);
  memcpy(c->texts[c->n], text, (size_t)len);
  c->texts[c->n][len] = 0;
  c->lens[c->n] = len;
  c->names[c->n] = strdup(name);
  c->n++;
}

static void corpus_load(Corpus *c) {
  static const char *patterns[] = {"examples/*.mlp", "tests/diag/*.mlp"};
  memset(c, 0, sizeof *c);
  for (int p = 0; p < 2; p++) {
    glob_t g;
    if (glob(patterns[p], 0, NULL, &g) != 0) continue;
    for (size_t i = 0; i < g.gl_pathc; i++) {
      FILE *f = fopen(g.gl_pathv[i], "rb");
      if (!f) continue;
      static char buf[1 << 16];
      size_t len = fread(buf, 1, sizeof buf, f);
      fclose(f);
      corpus_add(c, g.gl_pathv[i], buf, (int)len);
    }
    globfree(&g);
  }
  if (c->n > 0) return;
  for (size_t i = 0; i < sizeof samples / sizeof *samples; i++)
    corpus_add(c, "sample.mlp", samples[i], (int)strlen(samples[i]));
}

static void corpus_free(Corpus *c) {
  for (int i = 0; i < c->n; i++) {
    free(c->texts[i]);
    free(c->names[i]);
  }
  free(c->texts);
  free(c->lens);
  free(c->names);
}

static uint64_t next_random(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static int is_word(char c) {
  return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Rough token spans: words, numbers, quoted strings, single punctuation;
 * whitespace and comments separate them. Good enough to cut along. */
static int split_tokens(const char *t, int len, int *off, int *tlen) {
  int n = 0;
  for (int i = 0; i < len && n < MAXTOK;) {
    unsigned char c = (unsigned char)t[i];
    int j = i + 1;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      i++;
      continue;
    }
    if (c == '#') {
      while (i < len && t[i] != '\n') i++;
      continue;
    }
    if (c == '"') {
      while (j < len && t[j] != '"' && t[j] != '\n') j += t[j] == '\\' ? 2 : 1;
      j = j < len ? j + 1 : len;
    } else if (is_word((char)c)) {
      while (j < len && is_word(t[j])) j++;
    }
    off[n] = i;
    tlen[n++] = j - i;
    i = j;
  }
  return n;
}

/* Copy k bytes of p to out at o; the new end. */
static int put(char *out, int o, const char *p, int k) {
  memcpy(out + o, p, (size_t)k);
  return o + k;
}

/* One edit of text into out (room for 2 * len + 64 bytes); its length. */
static int edit(const char *t, int len, uint64_t *rng, char *out) {
  static int off[MAXTOK], tl[MAXTOK];
  int n = split_tokens(t, len, off, tl);
  int op = (int)(next_random(rng) % 6);
  if (n < 2) op = 3 + op % 2;
  int a = n ? (int)(next_random(rng) % (uint64_t)n) : 0, b = n ? (int)(next_random(rng) % (uint64_t)n) : 0;
  if (a > b) {
    int x = a;
    a = b;
    b = x;
  }
  int o = 0;
  switch (op) {
  case 0: /* delete a token */
    o = put(out, o, t, off[a]);
    o = put(out, o, t + off[a] + tl[a], len - off[a] - tl[a]);
    break;
  case 1: /* duplicate a token */
    o = put(out, o, t, off[a] + tl[a]);
    o = put(out, o, " ", 1);
    o = put(out, o, t + off[a], len - off[a]);
    break;
  case 2: /* swap two tokens */
    if (a == b) { /* n >= 2 here */
      if (a > 0) a--;
      else b++;
    }
    o = put(out, o, t, off[a]);
    o = put(out, o, t + off[b], tl[b]);
    o = put(out, o, t + off[a] + tl[a], off[b] - off[a] - tl[a]);
    o = put(out, o, t + off[a], tl[a]);
    o = put(out, o, t + off[b] + tl[b], len - off[b] - tl[b]);
    break;
  case 3: /* truncate */
    o = put(out, o, t, len ? (int)(next_random(rng) % (uint64_t)len) : 0);
    break;
  case 4: { /* insert random bytes */
    int at = (int)(next_random(rng) % (uint64_t)(len + 1)), k = 1 + (int)(next_random(rng) % 8);
    o = put(out, o, t, at);
    for (int i = 0; i < k; i++) out[o++] = (char)(next_random(rng) & 0xff);
    o = put(out, o, t + at, len - at);
    break;
  }
  default: /* replace a token with another one */
    o = put(out, o, t, off[a]);
    o = put(out, o, t + off[b], tl[b]);
    o = put(out, o, t + off[a] + tl[a], len - off[a] - tl[a]);
    break;
  }
  return o;
}

/* A mutant: one to three edits of text, in buf (room for 8 * len + 512
 * bytes, with tmp as large); its length. */
static int mutate(const char *text, int len, uint64_t *rng, char *buf, char *tmp) {
  int edits = 1 + (int)(next_random(rng) % 3);
  memcpy(buf, text, (size_t)len);
  for (int e = 0; e < edits; e++) {
    len = edit(buf, len, rng, tmp);
    memcpy(buf, tmp, (size_t)len);
  }
  return len;
}

/* The mutants of corpus files i with i % SHARDS == shard. */
START_TEST(mutants_fail_cleanly) {
  Corpus c;
  corpus_load(&c);
  ck_assert_int_gt(c.n, 0);
  regex_t located;
  int flags = REG_EXTENDED | REG_NEWLINE | REG_NOSUB;
  ck_assert_int_eq(regcomp(&located, "^[^:]+:[0-9]+:[0-9]+: error: ", flags), 0);
  int per_file = (MUTANTS + c.n - 1) / c.n, count = 0, broken = 0;
  for (int f = _i; f < c.n; f += SHARDS) {
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(f + 1) * 0x100000001b3ull;
    char *buf = malloc((size_t)c.lens[f] * 8 + 512), *tmp = malloc((size_t)c.lens[f] * 8 + 512);
    for (int m = 0; m < per_file; m++, count++) {
      int len = mutate(c.texts[f], c.lens[f], &rng, buf, tmp);
      MlpArena arena;
      mlp_arena_init(&arena);
      char *diag = NULL;
      size_t dlen;
      FILE *out = open_memstream(&diag, &dlen);
      MlpDiag d;
      mlp_diag_init(&d, out);
      d.color = false;
      MlpAst *ast = mlp_parse(&arena, mlp_source_from_string(&arena, c.names[f], buf, len), &d);
      ck_assert_ptr_nonnull(ast);
      ck_assert_ptr_nonnull(ast->file);
      if (d.nerr == 0) mlp_sema_check(&arena, ast, &d);
      fclose(out);
      if (d.nerr > 0) {
        broken++;
        ck_assert_msg(regexec(&located, diag, 0, NULL, 0) == 0,
                      "%s mutant %d: %d errors but no located message:\n%s", c.names[f], m, d.nerr, diag);
      }
      free(diag);
      mlp_arena_free(&arena);
    }
    free(buf);
    free(tmp);
  }
  /* most mutants break the spec: the generator really mutates */
  ck_assert_int_gt(broken, count / 2);
  regfree(&located);
  corpus_free(&c);
}
END_TEST

Suite *mutate_suite(void);
Suite *mutate_suite(void) {
  Suite *s = suite_create("mutate");
  TCase *tc = tcase_create("mutants");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, mutants_fail_cleanly, 0, SHARDS);
  suite_add_tcase(s, tc);
  return s;
}

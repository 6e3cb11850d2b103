/* jscan.c — a small JSON scanner working in place on NUL-terminated text:
 * the predictor's JSON-lines records and the registry manifest it checks
 * itself against (so a predictor reads JSON without a JSON library).
 * Strings decode to UTF-8 where they stand. */
#include <string.h>

#include "predict_int.h"

const char *mlprt_json_ws(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  return s;
}

int mlprt_hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int d = mlprt_hex_digit(s[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

char *mlprt_json_string(char *s, char **out, const char **why) {
  char *w = s;
  *out = w;
  *why = "a JSON string is not terminated or has an invalid escape";
  for (;;) {
    char c = *s++;
    if (!c) return NULL;
    if (c == '"') break;
    if (c != '\\') {
      *w++ = c;
      continue;
    }
    c = *s++;
    const char *simple = strchr("\"\\/bfnrt", c);
    if (c && simple) {
      *w++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      continue;
    }
    if (c != 'u') return NULL;
    int u = hex4(s);
    if (u < 0) return NULL;
    if (u == 0) { /* it would cut the value short */
      *why = "a JSON string holds an escaped NUL character";
      return NULL;
    }
    s += 4;
    if (u >= 0xD800 && u < 0xDC00 && s[0] == '\\' && s[1] == 'u') {
      int lo = hex4(s + 2);
      if (lo >= 0xDC00 && lo < 0xE000) u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00), s += 6;
    }
    if (u < 0x80) *w++ = (char)u;
    else if (u < 0x800) *w++ = (char)(0xC0 | u >> 6), *w++ = (char)(0x80 | (u & 63));
    else if (u < 0x10000)
      *w++ = (char)(0xE0 | u >> 12), *w++ = (char)(0x80 | (u >> 6 & 63)), *w++ = (char)(0x80 | (u & 63));
    else
      *w++ = (char)(0xF0 | u >> 18), *w++ = (char)(0x80 | (u >> 12 & 63)),
      *w++ = (char)(0x80 | (u >> 6 & 63)), *w++ = (char)(0x80 | (u & 63));
  }
  *w = 0;
  return s;
}

char *mlprt_json_skip(char *s) {
  s = (char *)mlprt_json_ws(s);
  if (*s == '"') {
    char *str;
    const char *why;
    return mlprt_json_string(s + 1, &str, &why);
  }
  if (*s != '{' && *s != '[') {
    char *start = s;
    while (*s && !strchr(",}] \t\r\n", *s)) s++;
    return s == start ? NULL : s;
  }
  char close = *s == '{' ? '}' : ']';
  s = (char *)mlprt_json_ws(s + 1);
  if (*s == close) return s + 1;
  for (;;) {
    if (close == '}') { /* a key and its ':' */
      char *key;
      const char *why;
      if (*s != '"' || !(s = mlprt_json_string(s + 1, &key, &why))) return NULL;
      s = (char *)mlprt_json_ws(s);
      if (*s++ != ':') return NULL;
    }
    if (!(s = mlprt_json_skip(s))) return NULL;
    s = (char *)mlprt_json_ws(s);
    if (*s == close) return s + 1;
    if (*s++ != ',') return NULL;
    s = (char *)mlprt_json_ws(s);
  }
}

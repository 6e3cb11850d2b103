/* gen.c — writes the cleaning benchmark's input: a seeded CSV of N rows
 * (default 2,000,000) with 8 numeric columns (5% missing cells, 0.5%
 * outliers 20 standard deviations out), 3 categorical columns (5, 12 and 30
 * levels), a 0/1 label, and 1% exact duplicate rows.
 *
 *   gen OUT.csv [ROWS] [SEED] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;

/* splitmix64: a tiny seeded generator; the stream only has to be fixed */
static uint64_t next(void) {
  uint64_t z = (state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double uniform(void) {
  return (double)(next() >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(void) {
  double u = uniform(), v = uniform();
  return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: gen OUT.csv [ROWS] [SEED]\n");
    return 2;
  }
  long rows = argc > 2 ? atol(argv[2]) : 2000000;
  state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  static const char *colors[] = {"red", "green", "blue", "black", "white"};
  fputs("x1,x2,x3,x4,x5,x6,x7,x8,color,region,store,label\n", f);
  char prev[512] = "";
  for (long r = 0; r < rows; r++) {
    if (r > 0 && uniform() < 0.01) { /* an exact duplicate of the previous row */
      fputs(prev, f);
      continue;
    }
    int n = 0;
    for (int c = 0; c < 8; c++) {
      double u = uniform();
      if (u < 0.05) {
        n += snprintf(prev + n, sizeof prev - (size_t)n, ",");
        continue;
      }
      double mean = 10.0 * (c + 1), sd = 2.0 + c;
      double v = mean + sd * normal();
      if (u > 0.995) v = mean + (u > 0.9975 ? 20 : -20) * sd;
      n += snprintf(prev + n, sizeof prev - (size_t)n, "%.4f,", v);
    }
    n += snprintf(prev + n, sizeof prev - (size_t)n, "%s,region%02d,store%02d,%d\n", colors[next() % 5],
                  (int)(next() % 12), (int)(next() % 30), (int)(next() % 2));
    fputs(prev, f);
  }
  return fclose(f) ? 1 : 0;
}

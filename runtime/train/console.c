/* console.c — what a training program shows while it trains (see
 * train_int.h). Consumes the run's progress: batches, epochs, early stops,
 * tuning trials; produces text on stdout. On a terminal: a bar redrawn
 * per batch (at most ten times a second) with throughput and ETA, fitted
 * to the terminal's width, above which each epoch's line is kept. Elsewhere:
 * plain lines, one per epoch. Quiet: nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "train_int.h"

#define REDRAW_S 0.1

double mlprt_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The terminal's columns: TIOCGWINSZ, else COLUMNS, else 80. */
static int term_width(void) {
  struct winsize ws;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char *c = getenv("COLUMNS");
  int w = c ? atoi(c) : 0;
  return w > 0 ? w : 80;
}

void mlprt_console_init(MlprtConsole *c, bool quiet, bool verbose) {
  memset(c, 0, sizeof *c);
  c->quiet = quiet;
  c->verbose = verbose && !quiet;
  c->tty = !quiet && isatty(STDOUT_FILENO);
}

void mlprt_console_clear(MlprtConsole *c) {
  if (!c->drawn) return;
  fputs("\r\033[K", stdout);
  c->drawn = false;
}

void mlprt_console_line(MlprtConsole *c, const char *fmt, ...) {
  if (c->quiet) return;
  mlprt_console_clear(c);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}

void mlprt_console_job(MlprtConsole *c, int64_t job, int64_t first, int64_t epochs, int64_t rows) {
  c->job = job;
  c->first = first;
  c->epochs = epochs;
  c->rows = rows;
  c->t_job = mlprt_now();
  c->t_draw = 0;
}

/* "1:02:03", "2:03" */
static void clock_text(double s, char *out, size_t n) {
  long t = s > 0 && s < 1e7 ? (long)(s + 0.5) : 0;
  if (t >= 3600) snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

void mlprt_console_batch(MlprtConsole *c, int64_t epoch, int64_t done, double loss) {
  if (!c->tty) return;
  double t = mlprt_now();
  int64_t total = c->rows * (c->epochs - c->first), sofar = c->rows * (epoch - c->first) + done;
  if (done < c->rows && t - c->t_draw < REDRAW_S) return;
  c->t_draw = t;
  double el = t - c->t_job, rate = el > 0 ? (double)sofar / el : 0;
  char eta[32] = "?", head[64], tail[160];
  if (rate > 0) clock_text((double)(total - sofar) / rate, eta, sizeof eta);
  snprintf(head, sizeof head, "job %lld epoch %lld/%lld ", (long long)c->job, (long long)epoch + 1,
           (long long)c->epochs);
  int width = term_width() - 1; /* the last column would wrap on some terminals */
  /* What fits, most wanted first: the ETA, the throughput, the loss. */
  const char *parts[3];
  char p_eta[48], p_rate[48], p_loss[48];
  snprintf(p_eta, sizeof p_eta, " ETA %s", eta);
  snprintf(p_rate, sizeof p_rate, " %.0f rows/s", rate);
  snprintf(p_loss, sizeof p_loss, " loss %.4f", loss);
  parts[0] = p_eta, parts[1] = p_rate, parts[2] = p_loss;
  int pct = c->rows > 0 ? (int)(100 * done / c->rows) : 100;
  char pcts[8];
  snprintf(pcts, sizeof pcts, " %3d%%", pct);
  int used = (int)strlen(head) + (int)strlen(pcts) + 2, bar = 0;
  tail[0] = 0;
  for (int k = 0; k < 3; k++)
    if (used + (int)strlen(tail) + (int)strlen(parts[k]) + 10 <= width) strcat(tail, parts[k]);
  bar = width - used - (int)strlen(tail);
  if (bar > 40) bar = 40;
  char line[512];
  int n;
  if (bar >= 5) {
    n = snprintf(line, sizeof line, "%s[", head);
    int fill = c->rows > 0 ? (int)(bar * done / c->rows) : bar;
    for (int i = 0; i < bar; i++) line[n++] = i < fill ? '#' : '.';
    snprintf(line + n, sizeof line - (size_t)n, "]%s%s", pcts, tail);
  } else {
    snprintf(line, sizeof line, "%s%s%s", head, pcts + 1, tail);
  }
  if ((int)strlen(line) > width && width > 0) line[width] = 0;
  fputs("\r", stdout);
  fputs(line, stdout);
  fputs("\033[K", stdout);
  fflush(stdout);
  c->drawn = true;
}

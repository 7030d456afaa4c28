#include <cblas.h>
#include <string.h>
#include "sgemm.h"

/* Below this many multiply-adds a product stays on the calling thread. */
#define THREADED_SGEMM_MIN_MACS (1 << 20)

/* Rows [i0, i1) and columns [j0, j1) of product i of a batchSgemm call, on OpenBLAS. */
static void sgemm_block(const sgemm_args* g, int64_t i, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int64_t m = g->m, n = g->n, k = g->k;
  if (i1 <= i0 || j1 <= j0) return;
  const float* ai = g->a + (i % g->batchA) * m * k + (g->ta ? i0 : i0 * k);
  const float* bi = g->b + (i % g->batchB) * k * n + (g->tb ? j0 * k : j0);
  float* ci = g->c + i * m * n + i0 * n + j0;
  if (k == 0) {
    if (g->beta == 0) for (int64_t r = 0; r < i1 - i0; r++) memset(ci + r * n, 0, sizeof(float) * (size_t)(j1 - j0));
    return;
  }
  cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, (blasint)(i1 - i0), (blasint)(j1 - j0),
              (blasint)k, 1.0f, ai, g->ta ? (blasint)m : (blasint)k, bi, g->tb ? (blasint)k : (blasint)n, g->beta, ci, (blasint)n);
}

void batch_sgemm_run(const sgemm_args* g, int64_t batch, int64_t threads) {
  const int64_t m = g->m, n = g->n, k = g->k;
  // OpenBLAS itself runs on one thread (set at load): the helpers are OpenMP's, shared with the row products, so
  // two pools never spin against each other on the same cores.
  int parts = (double)batch * (double)m * (double)n * (double)k < THREADED_SGEMM_MIN_MACS || threads < 1 ? 1 : (int)threads;
  if (batch >= parts) {
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
    for (int64_t i = 0; i < batch; i++) sgemm_block(g, i, 0, m, 0, n);
  } else {
    // Fewer products than threads: each is split into row (or column) blocks, one per thread.
    const int by_rows = m >= n;
#pragma omp parallel for num_threads(parts) schedule(static)
    for (int p = 0; p < parts; p++) {
      const int64_t extent = by_rows ? m : n, lo = extent * p / parts, hi = extent * (p + 1) / parts;
      for (int64_t i = 0; i < batch; i++) {
        if (by_rows) sgemm_block(g, i, lo, hi, 0, n);
        else sgemm_block(g, i, 0, m, lo, hi);
      }
    }
  }
}

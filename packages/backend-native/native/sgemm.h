// Batched products on OpenBLAS, split over OpenMP's threads.
#ifndef COPE_SGEMM_H
#define COPE_SGEMM_H
#include <stdbool.h>
#include <stdint.h>

typedef struct {
  const float *a, *b;
  float* c;
  int64_t batchA, batchB, m, n, k;
  bool ta, tb;
  float beta;
} sgemm_args;

/*
 * c[i] = op(a[i % batchA]) · op(b[i % batchB]) + beta · c[i] for i < batch, row-major; op(a) is [m, k], op(b) [k, n].
 * Products of enough multiply-adds are split over `threads` (whole products, else row or column blocks).
 */
void batch_sgemm_run(const sgemm_args* g, int64_t batch, int64_t threads);

#endif

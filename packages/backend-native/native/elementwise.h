#pragma once
#include <stdint.h>

enum { OP_ADD = 0, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN, OP_SQDIFF };
enum { UOP_EXP = 0, UOP_NEG, UOP_SIGMOID, UOP_RSQRT, UOP_SQRT, UOP_SQUARE, UOP_LOG, UOP_RECIPROCAL, UOP_ABS, UOP_TANH, UOP_FLOOR };
enum { ROP_SUM = 0, ROP_MEAN, ROP_MAX, ROP_MIN };

void binary_broadcast(int op, const float* a, const float* b, float* out, int rank, const int64_t* shape,
                      const int64_t* stride_a, const int64_t* stride_b);
void unary(int op, const float* restrict x, float* restrict out, int64_t n);
void softmax_rows(const float* restrict x, float* restrict out, int64_t rows, int64_t cols);
void reduce_rows(int op, const float* x, float* out, int64_t rows, int64_t cols);
void transpose(const float* x, float* out, int rank, const int64_t* out_shape, const int64_t* in_stride);
/* out = x · mask / (1 - rate), the mask a pure function of (seed, index): the same mask for the gradient. */
void dropout(const float* restrict x, float* restrict out, int64_t n, double rate, uint64_t seed);
/* out[r] = log softmax(x[r])[targets[r]] for x [rows, cols] (targets in range). */
void logsoftmax_pick(const float* restrict x, const int32_t* restrict targets, float* restrict out, int64_t rows, int64_t cols);
/* Its gradient: out[r] = (onehot(targets[r]) - softmax(x[r])) · dy[r]. */
void logsoftmax_pick_grad(const float* restrict x, const int32_t* restrict targets, const float* restrict dy, float* restrict out,
                          int64_t rows, int64_t cols);
/* RMSNorm of each row of x [rows, h] times w [h]: x · 1/sqrt(mean(x²) + eps) · w. */
void rmsnorm_rows(const float* restrict x, const float* restrict w, float* restrict out, int64_t rows, int64_t h, float eps);
/* RMSNorm's gradients: dx [rows, h] and dw [h] of rmsnorm_rows(x, w) for the output gradient dy. */
void rmsnorm_grad(const float* restrict x, const float* restrict w, const float* restrict dy, float* restrict dx, float* restrict dw,
                  int64_t rows, int64_t h, float eps);
/* SwiGLU's gradients: dgate and dup of swiglu(gate, up) for the output gradient dy. */
void swiglu_grad(const float* restrict gate, const float* restrict up, const float* restrict dy, float* restrict dgate, float* restrict dup, int64_t n);
/* SwiGLU's gating: gate · sigmoid(gate) · up. */
void swiglu(const float* restrict gate, const float* restrict up, float* restrict out, int64_t n);
/* y + delta · scale[row] for y, delta [rows, cols]. */
void scaled_add(const float* restrict y, const float* restrict delta, const float* restrict scale, float* restrict out, int64_t rows, int64_t cols);

/*
 * horn native kernels: the contract between the ISA-specific kernel files (kernels_avx2.c,
 * kernels_avx512.c, both generated from simd_impl.h) and the Node-API glue (addon.c).
 *
 * Every function works on a range of its output so that the thread pool can split a call with
 * a fixed partition: the value of each output element never depends on which thread computed
 * it or how many threads there are.
 */
#ifndef HORN_KERNELS_H
#define HORN_KERNELS_H

#include <stddef.h>

/* One matrix product C(m×n) (+)= op(A)·op(B), row-major fp32. */
typedef struct {
  int trans_a; /* A stored k×m (else m×k) */
  int trans_b; /* B stored n×k (else k×n) */
  const float *a;
  const float *b;
  float *c;
  long m, k, n;
  int accumulate;
  /*
   * NULL, or the columns of A (as stored, ascending) that the product uses: a layer's input
   * whose other columns are zero (addon.c, skip_zero_columns). a_columns_total is how many A
   * has, so its rows are that many floats apart. Without trans_a they are op(A)'s k columns and
   * go with the same rows of B; with trans_a they are op(A)'s m rows and give the same rows of
   * C, whose other rows (C has a_columns_total) are zeroed, or kept when accumulating.
   */
  const int *a_columns;
  long a_columns_total;
} gemm_args;

/* Activation codes, the same numbers as the WebAssembly kernels and ../src/engine/kernels/native.ts. */
enum { ACT_IDENTITY = 0, ACT_RELU = 1, ACT_LEAKY_RELU = 2, ACT_SIGMOID = 3, ACT_TANH = 4 };

typedef struct {
  const char *name; /* "avx2" or "avx512" */
  int mr, nr;       /* register tile of the products: MR rows × NR columns of C */
  int nc;           /* columns of op(B) that gemm_tiles packs at a time (it packs op(A) again for each such block) */
  /* Floats of per-thread scratch gemm_tiles needs (a packed B panel and an edge tile). */
  size_t scratch_floats;
  /*
   * The tiles of C in rows [row0, row1) and columns [col0, col1) of the product; row0/row1 are
   * multiples of mr (or m), col0/col1 multiples of nr (or n). Each element of C is one fused
   * multiply-add chain over p = 0…k−1 in order, started at C (accumulate) or 0, whatever tile
   * computes it.
   */
  void (*gemm_tiles)(const gemm_args *g, long row0, long row1, long col0, long col1, float *scratch);
  /*
   * The same product with op(A) packed once and shared: packed_a_floats is the size of the whole
   * packing, pack_a_strips packs row strips [s0, s1) of it (threads pack disjoint strips), and
   * gemm_columns_packed computes all rows of columns [col0, col1) (a multiple of nr, or n) from it,
   * with the same results as gemm_tiles.
   */
  size_t (*packed_a_floats)(const gemm_args *g);
  void (*pack_a_strips)(const gemm_args *g, long s0, long s1, float *dst);
  void (*gemm_columns_packed)(const gemm_args *g, const float *whole_a, long col0, long col1, float *scratch);
  /* seen[c0…c1) of a matrix `cols` wide: zero exactly where column j is ±0 in every row of
   * [r0, r1) (its |bits| or-ed down those rows). */
  void (*or_columns)(const float *a, long cols, long r0, long r1, long c0, long c1, float *seen);
  void (*activate)(int kind, const float *x, float *y, long n, float alpha);
  void (*activate_backward)(int kind, const float *y, const float *dy, float *dx, long n, float alpha);
  void (*add_row_vector)(float *x, const float *bias, long rows, long cols);
  /* out[c] (+)= Σ_r x[r, c] for columns [col0, col1). */
  void (*sum_rows)(const float *x, float *out, long rows, long cols, long col0, long col1, int accumulate);
  void (*multiply)(const float *x, float *y, long n);
  /* Elements [i0, i1) (i0 even) of src/engine/kernels/dropout.ts: mask[i] = scale or 0 by the hash of
   * (key0, key1, i) against threshold (keep · 65536); y[i] = x[i] · mask[i]. y may be x. */
  void (*dropout)(const float *x, float *y, float *mask, long i0, long i1, unsigned threshold, float scale, unsigned key0, unsigned key1);
  void (*axpy)(float alpha, const float *x, float *y, long n);
  void (*scale)(float *x, float alpha, long n);
  void (*sgd_step)(float *w, const float *g, float *v, long n, float lr, float momentum, float weight_decay, int nesterov);
  void (*adam_step)(float *w, const float *g, float *m, float *v, long n, float beta1, float beta2, float one_minus_beta1,
                    float one_minus_beta2, float epsilon, float weight_decay, float lr_over_c1, float inv_c2);
} isa_kernels;

extern const isa_kernels horn_kernels_avx2;
extern const isa_kernels horn_kernels_avx512;

#endif

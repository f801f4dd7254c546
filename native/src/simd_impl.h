/*
 * The kernels, written once over a small set of vector operations. kernels_avx2.c and
 * kernels_avx512.c define VF (the float vector type), VL (its lanes), the register tile MR
 * (rows) by NR = 2·VL (columns), the blocking KC/MC, NAME() and the v* operations, then
 * include this file. Arrays are row-major fp32; every pointer may be unaligned.
 */
#include <string.h>
#include "kernels.h"

#define NR (2 * VL)
#define INLINE static inline __attribute__((always_inline))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ------------------------------------------------------------------------------------------ */
/* Matrix products                                                                             */
/* ------------------------------------------------------------------------------------------ */

/*
 * C[mr×NR] (+)= op(A)[mr×kc] · Bpanel over kc steps, row r of the tile at c + rows[r]·ldc
 * (rows NULL: at c + r·ldc; rows come only with a packed A, see tile_dispatch). B's step p is
 * the NR floats at b + p·NR (packed). op(A)'s row r at step p is a[p·MR + r] (A_PACKED: a
 * packed strip), a[r·lda + p] (A_ROWS: A stored m×k, read in place) or a[p·lda + r]
 * (A_TRANSPOSED: stored k×m, in place).
 * mr and mode are compile-time constants at every call (see tile_dispatch), so the row loops
 * unroll into 2·mr accumulators held in registers.
 */
enum { A_PACKED, A_ROWS, A_TRANSPOSED };

INLINE void tile(const int mr, const int mode, const float *a, long lda, const float *b, float *c, const int *rows, long ldc, long kc, int load_c) {
  VF c0[MR], c1[MR];
  _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
    if (r < mr) {
      c0[r] = load_c ? vload(c + (rows ? rows[r] : r) * ldc) : vzero();
      c1[r] = load_c ? vload(c + (rows ? rows[r] : r) * ldc + VL) : vzero();
    }
  }
  for (long p = 0; p < kc; p++) {
    const VF b0 = vload(b), b1 = vload(b + VL);
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
      if (r < mr) {
        const VF x = vset1(mode == A_ROWS ? a[r * lda] : a[r]);
        c0[r] = vfma(x, b0, c0[r]);
        c1[r] = vfma(x, b1, c1[r]);
      }
    }
    a += mode == A_PACKED ? MR : mode == A_ROWS ? 1 : lda;
    b += NR;
  }
  _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
    if (r < mr) {
      vstore(c + (rows ? rows[r] : r) * ldc, c0[r]);
      vstore(c + (rows ? rows[r] : r) * ldc + VL, c1[r]);
    }
  }
}

/* Rows of C given by a table (a product over some columns of A, gemm_args.a_columns) only
 * with a packed A; the other calls get the tile whose rows are evenly spaced at compile time
 * (a table for them too measured 3–4% slower for x·W). */
#define TILE_CASE(R)                                                            \
  case R:                                                                       \
    if (rows) tile(R, A_PACKED, a, lda, b, c, rows, ldc, kc, load_c);                 \
    else if (mode == A_PACKED) tile(R, A_PACKED, a, lda, b, c, NULL, ldc, kc, load_c); \
    else if (mode == A_ROWS) tile(R, A_ROWS, a, lda, b, c, NULL, ldc, kc, load_c);    \
    else tile(R, A_TRANSPOSED, a, lda, b, c, NULL, ldc, kc, load_c);                  \
    return;

static void tile_dispatch(int mr, int mode, const float *a, long lda, const float *b, float *c, const int *rows, long ldc, long kc, int load_c) {
  switch (mr) {
    TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
#if MR > 6
    TILE_CASE(7) TILE_CASE(8) TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
#endif
#if MR > 12
#error "tile_dispatch handles MR up to 12"
#endif
    default: return;
  }
}

/* dst[i·ldd + j] = src[j·lds + i] for an 8×8 block (AVX2; AVX-512F implies it). */
INLINE void transpose8x8(const float *src, long lds, float *dst, long ldd) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
               r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds),
               r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
               u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)),
               u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2)),
               u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* Step p of op(B) stored k×n, and row i of C (a product over some columns of A: gemm_args). */
INLINE const float *b_row(const gemm_args *g, long p) {
  return g->b + (g->a_columns && !g->trans_a ? g->a_columns[p] : p) * g->n;
}
INLINE int c_rows_spread(const gemm_args *g) {
  return g->a_columns && g->trans_a;
}
INLINE float *c_row(const gemm_args *g, long i) {
  return g->c + (c_rows_spread(g) ? g->a_columns[i] : i) * g->n;
}

/* Rows p0…p0+kc, columns j0…j0+cols of op(B) into dst as kc rows of NR floats, zero past cols. */
static void pack_b(const gemm_args *g, long p0, long kc, long j0, long cols, float *dst) {
  const long k = g->k;
  if (!g->trans_b) {
    for (long p = 0; p < kc; p++) {
      const float *src = b_row(g, p0 + p) + j0;
      float *d = dst + p * NR;
      if (cols == NR) {
        vstore(d, vload(src));
        vstore(d + VL, vload(src + VL));
      } else {
        for (long j = 0; j < NR; j++) d[j] = j < cols ? src[j] : 0.0f;
      }
    }
    return;
  }
  /* B stored n×k: column j of op(B) is row j0 + j of B. Full 8×8 blocks by transposes. */
  const float *rows = g->b + j0 * k + p0;
  long p = 0;
  if (cols == NR) {
    for (; p + 8 <= kc; p += 8) {
      for (long j = 0; j < NR; j += 8) transpose8x8(rows + j * k + p, k, dst + p * NR + j, NR);
    }
  }
  for (; p < kc; p++) {
    float *d = dst + p * NR;
    for (long j = 0; j < NR; j++) d[j] = j < cols ? rows[j * k + p] : 0.0f;
  }
}

/*
 * Columns jc…jc1 of op(B) for steps p0…p0+kc as consecutive panels of kc×NR (zero past the
 * last column). B stored k×n is read a whole row at a time: packing panel by panel read 64-byte
 * pieces of kc rows n floats apart, which measured ~15% slower for the whole product.
 */
static void pack_b_block(const gemm_args *g, long p0, long kc, long jc, long jc1, float *dst) {
  if (g->trans_b) {
    for (long j0 = jc; j0 < jc1; j0 += NR, dst += kc * NR) pack_b(g, p0, kc, j0, MIN(NR, g->n - j0), dst);
    return;
  }
  const long n = g->n;
  for (long p = 0; p < kc; p++) {
    const float *src = b_row(g, p0 + p);
    float *d = dst + p * NR;
    for (long j0 = jc; j0 < jc1; j0 += NR, d += kc * NR) {
      if (j0 + NR <= n) {
        vstore(d, vload(src + j0));
        vstore(d + VL, vload(src + j0 + VL));
      } else {
        for (long j = 0; j < NR; j++) d[j] = j0 + j < n ? src[j0 + j] : 0.0f;
      }
    }
  }
}

/*
 * Rows i0…i0+rows of op(A), steps p0…p0+kc, into dst as strips of MR rows: strip s holds kc
 * groups of MR adjacent floats (rows past the end are zero). A contiguous strip streams through
 * the cache far better than MR rows k floats apart, and is packed once for every B panel.
 */
static void pack_a(const gemm_args *g, long p0, long kc, long i0, long rows, float *dst) {
  const long m = g->m, k = g->k;
  for (long s = 0; s < rows; s += MR, dst += MR * kc) {
    const long mr = MIN(MR, rows - s);
    if (g->a_columns) {
      /* Some columns of A only (A's rows a_columns_total apart): a step's MR values by one
       * gather, of the strip's rows at one column (A as stored) or of one row at the strip's
       * columns (transposed). mr ≤ MR ≤ VL; addon.c keeps MR·a_columns_total within an int. */
      const int *columns = g->a_columns;
      const long stride = g->a_columns_total;
      int lanes[VL] = { 0 };
      if (g->trans_a) {
        for (long r = 0; r < mr; r++) lanes[r] = columns[i0 + s + r];
        const VI index = vi_load(lanes);
        for (long p = 0; p < kc; p++) vstore_mr(dst + p * MR, vgather_first(g->a + (p0 + p) * stride, index, (int)mr));
      } else {
        for (long r = 0; r < mr; r++) lanes[r] = (int)(r * stride);
        const VI index = vi_load(lanes);
        const float *rows = g->a + (i0 + s) * stride;
        for (long p = 0; p < kc; p++) vstore_mr(dst + p * MR, vgather_first(rows + columns[p0 + p], index, (int)mr));
      }
      continue;
    }
    if (g->trans_a) {
      const float *src = g->a + p0 * m + i0 + s;
      for (long p = 0; p < kc; p++, src += m) {
        float *d = dst + p * MR;
        for (long r = 0; r < MR; r++) d[r] = r < mr ? src[r] : 0.0f;
      }
      continue;
    }
    const float *src = g->a + (i0 + s) * k + p0;
    long p = 0;
    /* 8 steps at a time by 8×8 transposes of row groups; the last group may read up to 7 rows
     * past the strip, so only where those rows exist. */
    if (mr == MR && i0 + s + ((MR + 7) & ~7) <= m) {
      float t[64];
      for (; p + 8 <= kc; p += 8) {
        for (long r0 = 0; r0 < MR; r0 += 8) {
          transpose8x8(src + r0 * k + p, k, t, 8);
          const long width = MIN(8, MR - r0);
          for (long q = 0; q < 8; q++) memcpy(dst + (p + q) * MR + r0, t + q * 8, (size_t)width * sizeof(float));
        }
      }
    }
    for (; p < kc; p++) {
      for (long r = 0; r < MR; r++) dst[p * MR + r] = r < mr ? src[r * k + p] : 0.0f;
    }
  }
}

/* The K blocking of every product: k in equal blocks of at most KC. */
static long k_block(long k) {
  const long blocks = (k + KC - 1) / KC;
  return (k + blocks - 1) / blocks;
}

/*
 * A packed whole (pack_a_strips): for each K block (p0 = 0, kcs, …) the strips of all rows, at
 * p0 · m̃ floats (m̃: m rounded up to MR), strip s of the block at s · MR · kc within it.
 */
static size_t NAME(packed_a_floats)(const gemm_args *g) {
  return (size_t)((g->m + MR - 1) / MR * MR) * (size_t)g->k;
}

/* Strips [s0, s1) of every K block of op(A) into the whole-A layout at dst; threads pack disjoint strips. */
static void NAME(pack_a_strips)(const gemm_args *g, long s0, long s1, float *dst) {
  const long k = g->k, mp = (g->m + MR - 1) / MR * MR, kcs = k_block(k);
  const long i0 = s0 * MR, i1 = MIN(s1 * MR, g->m);
  if (i0 >= i1) return;
  for (long p0 = 0; p0 < k; p0 += kcs) {
    const long kc = MIN(kcs, k - p0);
    pack_a(g, p0, kc, i0, i1 - i0, dst + p0 * mp + i0 * kc);
  }
}

/* Columns [col0, col1) of the rows of C that no row of the product gives (gemm_args.a_columns
 * with trans_a): product row i clears those after its own up to the next one's, row 0 also
 * those before it, so every such row is cleared once whichever rows a thread computes. */
static void zero_other_c_rows(const gemm_args *g, long row0, long row1, long col0, long col1) {
  const size_t bytes = (size_t)(col1 - col0) * sizeof(float);
  if (row0 == 0) {
    for (long r = 0; r < g->a_columns[0]; r++) memset(g->c + r * g->n + col0, 0, bytes);
  }
  for (long i = row0; i < row1; i++) {
    const long end = i + 1 < g->m ? g->a_columns[i + 1] : g->a_columns_total;
    for (long r = g->a_columns[i] + 1; r < end; r++) memset(g->c + r * g->n + col0, 0, bytes);
  }
}

/*
 * Rows [row0, row1) × columns [col0, col1) of C. `whole_a` is op(A) packed whole (pack_a_strips),
 * shared by the threads of one product, or NULL: each call then packs the rows it needs itself
 * (or, for one panel of columns, reads A in place). Either way every element of C is the same
 * chain of fused multiply-adds.
 */
static void gemm_blocks(const gemm_args *g, const float *whole_a, long row0, long row1, long col0, long col1, float *scratch) {
  const long m = g->m, k = g->k, n = g->n;
  float *const bblock = scratch;                         /* KC × NC: the panels of a column block */
  float *const edge = bblock + KC * NC;                  /* MR × NR: C tiles narrower than NR */
  float *const apack = edge + MR * NR;                   /* MC × KC */
  if (k == 0) {
    if (!g->accumulate) {
      for (long i = row0; i < row1; i++) memset(c_row(g, i) + col0, 0, (size_t)(col1 - col0) * sizeof(float));
    }
    return;
  }
  /* K in equal blocks of at most KC, so a B panel of a block stays in L1; columns in blocks of
   * NC, so the packed B block stays in L2 while every strip of A passes it. */
  const long kcs = k_block(k);
  const long mp = (m + MR - 1) / MR * MR;
  /* Packing A pays off over several B panels; one panel (a narrow product) reads A in place,
   * unless only some columns of A count. */
  const int packed = whole_a != NULL || col1 - col0 > NR || g->a_columns != NULL;
  if (c_rows_spread(g) && !g->accumulate) zero_other_c_rows(g, row0, row1, col0, col1);
  const int mode = packed ? A_PACKED : g->trans_a ? A_TRANSPOSED : A_ROWS;
  const long lda = packed ? MR : g->trans_a ? m : k;
  for (long p0 = 0; p0 < k; p0 += kcs) {
    const long kc = MIN(kcs, k - p0);
    const int load_c = g->accumulate || p0 > 0;
    for (long jc = col0; jc < col1; jc += NC) {
      const long jc1 = MIN(jc + NC, col1);
      pack_b_block(g, p0, kc, jc, jc1, bblock);
      for (long i0 = row0; i0 < row1; i0 += MC) {
        const long i1 = MIN(i0 + MC, row1);
        const float *ablock = whole_a ? whole_a + p0 * mp + i0 * kc : apack;
        if (packed && !whole_a) pack_a(g, p0, kc, i0, i1 - i0, apack);
        const float *bp = bblock;
        for (long j0 = jc; j0 < jc1; j0 += NR, bp += kc * NR) {
          const long cols = MIN(NR, n - j0);
          for (long i = i0; i < i1; i += MR) {
            const int mr = (int)MIN(MR, i1 - i);
            const float *ap = packed ? ablock + (i - i0) * kc : g->trans_a ? g->a + p0 * m + i : g->a + i * k + p0;
            if (cols == NR) {
              if (c_rows_spread(g)) tile_dispatch(mr, mode, ap, lda, bp, g->c + j0, g->a_columns + i, n, kc, load_c);
              else tile_dispatch(mr, mode, ap, lda, bp, g->c + i * n + j0, NULL, n, kc, load_c);
              continue;
            }
            /* A narrow tile: through the edge tile. */
            if (load_c) {
              for (int r = 0; r < mr; r++) {
                const float *cp = c_row(g, i + r) + j0;
                for (long j = 0; j < NR; j++) edge[r * NR + j] = j < cols ? cp[j] : 0.0f;
              }
            }
            tile_dispatch(mr, mode, ap, lda, bp, edge, NULL, NR, kc, load_c);
            for (int r = 0; r < mr; r++) memcpy(c_row(g, i + r) + j0, edge + r * NR, (size_t)cols * sizeof(float));
          }
        }
      }
    }
  }
}

static void NAME(gemm_tiles)(const gemm_args *g, long row0, long row1, long col0, long col1, float *scratch) {
  gemm_blocks(g, NULL, row0, row1, col0, col1, scratch);
}

static void NAME(gemm_columns_packed)(const gemm_args *g, const float *whole_a, long col0, long col1, float *scratch) {
  gemm_blocks(g, whole_a, 0, g->m, col0, col1, scratch);
}

/* ------------------------------------------------------------------------------------------ */
/* Elementwise work. The last n % VL elements run the same vector code on a broadcast scalar,  */
/* so every element is computed alike.                                                          */
/* ------------------------------------------------------------------------------------------ */

/*
 * exp(x): x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by Cephes' expf polynomial (~1 ulp), 2^n built
 * in the exponent bits; clamped to [−87, 88] so 2^n stays a normal float. The clamp keeps x
 * second in min/max, which return their second operand for a NaN, so NaN propagates.
 */
INLINE VF vexp(VF x) {
  x = vmin(vset1(88.0f), vmax(vset1(-87.0f), x));
  const VF magic = vset1(12582912.0f); /* 1.5·2^23: adding it rounds to an integer in the low bits */
  const VF shifted = vfma(x, vset1(1.44269504088896341f), magic);
  const VF n = vsub(shifted, magic);
  VF r = vfma(n, vset1(-0.693359375f), x);
  r = vfma(n, vset1(2.12194440e-4f), r);
  VF p = vset1(1.9875691500e-4f);
  p = vfma(p, r, vset1(1.3981999507e-3f));
  p = vfma(p, r, vset1(8.3334519073e-3f));
  p = vfma(p, r, vset1(4.1665795894e-2f));
  p = vfma(p, r, vset1(1.6666665459e-1f));
  p = vfma(p, r, vset1(5.0000001201e-1f));
  p = vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
  const VI e = vi_shl23(vi_add(vi_sub(vcast_i(shifted), vcast_i(magic)), vi_set1(127)));
  return vmul(p, vcast_f(e));
}

INLINE VF vsigmoid(VF x) {
  const VF one = vset1(1.0f);
  return vdiv(one, vadd(one, vexp(vsub(vzero(), x))));
}

/* tanh(|x|) = (1 − e)/(1 + e), e = exp(−2|x|); below |x| = 0.25 the odd Taylor series through x⁹. */
INLINE VF vtanh(VF x) {
  const VF sign = vset1(-0.0f);
  const VF ax = vandnot(sign, x);
  const VF e = vexp(vmul(ax, vset1(-2.0f)));
  const VF one = vset1(1.0f);
  const VF big = vdiv(vsub(one, e), vadd(one, e));
  const VF x2 = vmul(ax, ax);
  VF s = vset1((float)(62.0 / 2835.0));
  s = vfma(s, x2, vset1((float)(-17.0 / 315.0)));
  s = vfma(s, x2, vset1((float)(2.0 / 15.0)));
  s = vfma(s, x2, vset1((float)(-1.0 / 3.0)));
  const VF small = vfma(vmul(s, x2), ax, ax);
  const VF magnitude = vsel_lt(ax, vset1(0.25f), small, big);
  return vor(magnitude, vand(x, sign));
}

INLINE VF vactivate(const int kind, VF x, VF alpha) {
  if (kind == ACT_RELU) return vmax(x, vzero()); /* NaN gives 0, like x > 0 ? x : 0 */
  if (kind == ACT_LEAKY_RELU) return vsel_gt(x, vzero(), x, vmul(x, alpha));
  if (kind == ACT_SIGMOID) return vsigmoid(x);
  if (kind == ACT_TANH) return vtanh(x);
  return x;
}

INLINE VF vactivate_backward(const int kind, VF y, VF dy, VF alpha) {
  const VF one = vset1(1.0f);
  if (kind == ACT_RELU) return vsel_gt(y, vzero(), dy, vzero());
  if (kind == ACT_LEAKY_RELU) return vsel_gt(y, vzero(), dy, vmul(dy, alpha));
  if (kind == ACT_SIGMOID) return vmul(dy, vmul(y, vsub(one, y)));
  if (kind == ACT_TANH) return vmul(dy, vsub(one, vmul(y, y)));
  return dy;
}

#define ACTIVATE_LOOP(KIND)                                                                  \
  do {                                                                                       \
    long i = 0;                                                                              \
    for (; i + VL <= n; i += VL) vstore(y + i, vactivate(KIND, vload(x + i), a));            \
    for (; i < n; i++) y[i] = vfirst(vactivate(KIND, vset1(x[i]), a));                       \
  } while (0)

static void NAME(activate)(int kind, const float *x, float *y, long n, float alpha) {
  const VF a = vset1(alpha);
  switch (kind) {
    case ACT_RELU: ACTIVATE_LOOP(ACT_RELU); break;
    case ACT_LEAKY_RELU: ACTIVATE_LOOP(ACT_LEAKY_RELU); break;
    case ACT_SIGMOID: ACTIVATE_LOOP(ACT_SIGMOID); break;
    case ACT_TANH: ACTIVATE_LOOP(ACT_TANH); break;
    default: if (x != y) memmove(y, x, (size_t)n * sizeof(float));
  }
}

#define BACKWARD_LOOP(KIND)                                                                              \
  do {                                                                                                   \
    long i = 0;                                                                                          \
    for (; i + VL <= n; i += VL) vstore(dx + i, vactivate_backward(KIND, vload(y + i), vload(dy + i), a)); \
    for (; i < n; i++) dx[i] = vfirst(vactivate_backward(KIND, vset1(y[i]), vset1(dy[i]), a));            \
  } while (0)

static void NAME(activate_backward)(int kind, const float *y, const float *dy, float *dx, long n, float alpha) {
  const VF a = vset1(alpha);
  switch (kind) {
    case ACT_RELU: BACKWARD_LOOP(ACT_RELU); break;
    case ACT_LEAKY_RELU: BACKWARD_LOOP(ACT_LEAKY_RELU); break;
    case ACT_SIGMOID: BACKWARD_LOOP(ACT_SIGMOID); break;
    case ACT_TANH: BACKWARD_LOOP(ACT_TANH); break;
    default: if (dx != dy) memmove(dx, dy, (size_t)n * sizeof(float));
  }
}

static void NAME(add_row_vector)(float *x, const float *bias, long rows, long cols) {
  for (long r = 0; r < rows; r++) {
    float *row = x + r * cols;
    long j = 0;
    for (; j + VL <= cols; j += VL) vstore(row + j, vadd(vload(row + j), vload(bias + j)));
    for (; j < cols; j++) row[j] += bias[j];
  }
}

/* Each column is summed in row order from 0, then added to out: the reference's order. */
static void NAME(sum_rows)(const float *x, float *out, long rows, long cols, long col0, long col1, int accumulate) {
  long j = col0;
  for (; j + VL <= col1; j += VL) {
    VF s = vzero();
    for (long r = 0; r < rows; r++) s = vadd(s, vload(x + r * cols + j));
    vstore(out + j, accumulate ? vadd(vload(out + j), s) : s);
  }
  for (; j < col1; j++) {
    float s = 0.0f;
    for (long r = 0; r < rows; r++) s += x[r * cols + j];
    out[j] = accumulate ? out[j] + s : s;
  }
}

static void NAME(multiply)(const float *x, float *y, long n) {
  long i = 0;
  for (; i + VL <= n; i += VL) vstore(y + i, vmul(vload(y + i), vload(x + i)));
  for (; i < n; i++) y[i] *= x[i];
}

static void NAME(axpy)(float alpha, const float *x, float *y, long n) {
  const VF a = vset1(alpha);
  long i = 0;
  for (; i + VL <= n; i += VL) vstore(y + i, vfma(a, vload(x + i), vload(y + i)));
  for (; i < n; i++) y[i] = vfirst(vfma(a, vset1(x[i]), vset1(y[i])));
}

static void NAME(scale)(float *x, float alpha, long n) {
  const VF a = vset1(alpha);
  long i = 0;
  for (; i + VL <= n; i += VL) vstore(x + i, vmul(vload(x + i), a));
  for (; i < n; i++) x[i] *= alpha;
}

/* g' = g + wd·w; v = μ·v + g'; w −= lr·(nesterov ? g' + μ·v : v). Returns the new w; stores v. */
INLINE VF vsgd(VF w, VF g, VF v, VF lr, VF mu, VF wd, int nesterov, float *v_out) {
  const VF gi = vfma(wd, w, g);
  const VF vi = vfma(mu, v, gi);
  vstore(v_out, vi);
  const VF step = nesterov ? vfma(mu, vi, gi) : vi;
  return vsub(w, vmul(lr, step));
}

static void NAME(sgd_step)(float *w, const float *g, float *v, long n, float lr, float momentum, float weight_decay, int nesterov) {
  const VF lrv = vset1(lr), mu = vset1(momentum), wd = vset1(weight_decay);
  long i = 0;
  for (; i + VL <= n; i += VL) vstore(w + i, vsgd(vload(w + i), vload(g + i), vload(v + i), lrv, mu, wd, nesterov, v + i));
  float lane[VL];
  for (; i < n; i++) {
    const VF r = vsgd(vset1(w[i]), vset1(g[i]), vset1(v[i]), lrv, mu, wd, nesterov, lane);
    v[i] = lane[0];
    w[i] = vfirst(r);
  }
}

INLINE VF vadam(VF w, VF g, VF m, VF v, float *m_out, float *v_out, VF b1, VF b2, VF rb1, VF rb2, VF lrc, VF c2inv, VF eps, VF wd) {
  const VF gi = vfma(wd, w, g);
  const VF mi = vfma(b1, m, vmul(rb1, gi));
  const VF vi = vfma(b2, v, vmul(vmul(rb2, gi), gi));
  vstore(m_out, mi);
  vstore(v_out, vi);
  return vsub(w, vdiv(vmul(lrc, mi), vadd(vsqrt(vmul(vi, c2inv)), eps)));
}

static void NAME(adam_step)(float *w, const float *g, float *m, float *v, long n, float beta1, float beta2, float one_minus_beta1,
                            float one_minus_beta2, float epsilon, float weight_decay, float lr_over_c1, float inv_c2) {
  const VF b1 = vset1(beta1), b2 = vset1(beta2), rb1 = vset1(one_minus_beta1), rb2 = vset1(one_minus_beta2);
  const VF lrc = vset1(lr_over_c1), c2inv = vset1(inv_c2), eps = vset1(epsilon), wd = vset1(weight_decay);
  long i = 0;
  for (; i + VL <= n; i += VL) {
    vstore(w + i, vadam(vload(w + i), vload(g + i), vload(m + i), vload(v + i), m + i, v + i, b1, b2, rb1, rb2, lrc, c2inv, eps, wd));
  }
  float lm[VL], lv[VL];
  for (; i < n; i++) {
    const VF r = vadam(vset1(w[i]), vset1(g[i]), vset1(m[i]), vset1(v[i]), lm, lv, b1, b2, rb1, rb2, lrc, c2inv, eps, wd);
    m[i] = lm[0];
    v[i] = lv[0];
    w[i] = vfirst(r);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Dropout masks: the hash of src/engine/kernels/dropout.ts, lane by lane.                      */
/* ------------------------------------------------------------------------------------------ */

static inline unsigned mix32(unsigned h) {
  h = (h ^ (h >> 16)) * 0x85ebca6bu;
  h = (h ^ (h >> 13)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

INLINE VI vmix32(VI h) {
  h = vi_mul(vi_xor(h, vi_shr(h, 16)), vi_set1((int)0x85ebca6bu));
  h = vi_mul(vi_xor(h, vi_shr(h, 13)), vi_set1((int)0xc2b2ae35u));
  return vi_xor(h, vi_shr(h, 16));
}

/* Elements [i0, i1) (i0 even): element i keeps when 16 bits of mix32(mix32(⌊i/2⌋ ^ key0) + key1) — the
 * low half for even i, the high half for odd — are below threshold. */
static void NAME(dropout)(const float *x, float *y, float *mask, long i0, long i1, unsigned threshold, float scale, unsigned key0, unsigned key1) {
  const VI k0 = vi_set1((int)key0), k1 = vi_set1((int)key1), low16 = vi_set1(0xffff), thr = vi_set1((int)threshold);
  const VI lane = vi_iota();
  const VI pair_of_lane = vi_shr(lane, 1);
  const VI half_shift = vi_mul(vi_and(lane, vi_set1(1)), vi_set1(16));
  const VF s = vset1(scale), zero = vzero();
  long i = i0;
  for (; i + VL <= i1; i += VL) {
    const VI pair = vi_add(vi_set1((int)(i >> 1)), pair_of_lane);
    const VI h = vmix32(vi_add(vmix32(vi_xor(pair, k0)), k1));
    const VI bits = vi_and(vi_shrv(h, half_shift), low16);
    const VF m = vsel_ilt(bits, thr, s, zero);
    vstore(mask + i, m);
    vstore(y + i, vmul(vload(x + i), m));
  }
  for (; i < i1; i++) {
    const unsigned h = mix32(mix32((unsigned)(i >> 1) ^ key0) + key1);
    const float m = ((h >> ((i & 1) * 16)) & 0xffffu) < threshold ? scale : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

/* seen[j] for columns [c0, c1) of rows [r0, r1) of a matrix `cols` wide: the bits of |a[r, j]|
 * or-ed down the rows (zero exactly where all of them are ±0). */
static void NAME(or_columns)(const float *a, long cols, long r0, long r1, long c0, long c1, float *seen) {
  memset(seen + c0, 0, (size_t)(c1 - c0) * sizeof(float));
  const VF sign = vset1(-0.0f);
  for (long r = r0; r < r1; r++) {
    const float *row = a + r * cols;
    long j = c0;
    for (; j + VL <= c1; j += VL) vstore(seen + j, vor(vload(seen + j), vandnot(sign, vload(row + j))));
    for (; j < c1; j++) {
      unsigned bits, so_far;
      memcpy(&bits, row + j, sizeof bits);
      memcpy(&so_far, seen + j, sizeof so_far);
      so_far |= bits << 1;
      memcpy(seen + j, &so_far, sizeof so_far);
    }
  }
}

const isa_kernels NAME(horn_kernels) = {
  .name = ISA_NAME,
  .mr = MR,
  .nr = NR,
  .nc = NC,
  .scratch_floats = KC * NC + MR * NR + MC * KC,
  .gemm_tiles = NAME(gemm_tiles),
  .packed_a_floats = NAME(packed_a_floats),
  .pack_a_strips = NAME(pack_a_strips),
  .gemm_columns_packed = NAME(gemm_columns_packed),
  .or_columns = NAME(or_columns),
  .activate = NAME(activate),
  .activate_backward = NAME(activate_backward),
  .add_row_vector = NAME(add_row_vector),
  .sum_rows = NAME(sum_rows),
  .multiply = NAME(multiply),
  .dropout = NAME(dropout),
  .axpy = NAME(axpy),
  .scale = NAME(scale),
  .sgd_step = NAME(sgd_step),
  .adam_step = NAME(adam_step),
};

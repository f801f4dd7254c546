/* AVX2 + FMA kernels: 256-bit vectors, a 6×16 register tile (12 accumulators, 2 B vectors and
 * a broadcast of the 16 ymm registers). Compiled with -mavx2 -mfma; called only after
 * addon.c checked the CPU. */
#include <immintrin.h>

typedef __m256 VF;
typedef __m256i VI;
#define VL 8
#define MR 6
#ifndef KC
#define KC 256 /* a 256×16 B panel is 16 KiB: half of a 32 KiB L1 */
#endif
#ifndef MC
#define MC 144
#endif
#ifndef NC
#define NC 256 /* columns of a packed B block: KC×NC floats, half of a 512 KiB–2 MiB L2 */
#endif
#define NAME(x) x##_avx2
#define ISA_NAME "avx2"

#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, v) _mm256_storeu_ps(p, v)
#define vset1(x) _mm256_set1_ps(x)
#define vzero() _mm256_setzero_ps()
#define vfma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define vadd(a, b) _mm256_add_ps(a, b)
#define vsub(a, b) _mm256_sub_ps(a, b)
#define vmul(a, b) _mm256_mul_ps(a, b)
#define vdiv(a, b) _mm256_div_ps(a, b)
#define vsqrt(a) _mm256_sqrt_ps(a)
#define vmin(a, b) _mm256_min_ps(a, b)
#define vmax(a, b) _mm256_max_ps(a, b)
#define vand(a, b) _mm256_and_ps(a, b)
#define vor(a, b) _mm256_or_ps(a, b)
#define vandnot(a, b) _mm256_andnot_ps(a, b)
#define vsel_gt(a, b, t, f) _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_GT_OQ))
#define vsel_lt(a, b, t, f) _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LT_OQ))
#define vfirst(v) _mm256_cvtss_f32(v)
#define vcast_i(v) _mm256_castps_si256(v)
#define vcast_f(v) _mm256_castsi256_ps(v)
#define vi_add(a, b) _mm256_add_epi32(a, b)
#define vi_sub(a, b) _mm256_sub_epi32(a, b)
#define vi_set1(x) _mm256_set1_epi32(x)
#define vi_shl23(v) _mm256_slli_epi32(v, 23)
#define vi_xor(a, b) _mm256_xor_si256(a, b)
#define vi_and(a, b) _mm256_and_si256(a, b)
#define vi_mul(a, b) _mm256_mullo_epi32(a, b)
#define vi_shr(v, n) _mm256_srli_epi32(v, n)
#define vi_shrv(v, s) _mm256_srlv_epi32(v, s)
#define vi_iota() _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define vsel_ilt(a, b, t, f) _mm256_blendv_ps(f, t, _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, a)))
#define vi_load(p) _mm256_loadu_si256((const __m256i *)(p))
/* Lanes i < n: base[index[i]]; the others 0 (and not read). */
#define vgather_first(base, index, n) \
  _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, index, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), vi_iota())), 4)
/* The first MR lanes of v at p. */
#define vstore_mr(p, v) _mm256_maskstore_ps(p, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), v)

#include "simd_impl.h"

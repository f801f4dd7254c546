/* AVX-512F kernels: 512-bit vectors, a 12×32 register tile (24 accumulators, 2 B vectors and a
 * broadcast of the 32 zmm registers). Compiled with -mavx512f -mfma; called only after
 * addon.c checked the CPU and the OS (XSAVE state) for AVX-512. AVX-512F alone has no float
 * and/or, so those go through the integer forms. */
#include <immintrin.h>

typedef __m512 VF;
typedef __m512i VI;
#define VL 16
#define MR 12
#define KC 192 /* a 192×32 B panel is 24 KiB, inside a 32–48 KiB L1 */
#define MC 144
#ifndef NC
#define NC 256 /* columns of a packed B block: KC×NC floats, half of a 512 KiB–2 MiB L2 */
#endif
#define NAME(x) x##_avx512
#define ISA_NAME "avx512"

#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, v) _mm512_storeu_ps(p, v)
#define vset1(x) _mm512_set1_ps(x)
#define vzero() _mm512_setzero_ps()
#define vfma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vadd(a, b) _mm512_add_ps(a, b)
#define vsub(a, b) _mm512_sub_ps(a, b)
#define vmul(a, b) _mm512_mul_ps(a, b)
#define vdiv(a, b) _mm512_div_ps(a, b)
#define vsqrt(a) _mm512_sqrt_ps(a)
#define vmin(a, b) _mm512_min_ps(a, b)
#define vmax(a, b) _mm512_max_ps(a, b)
#define vcast_i(v) _mm512_castps_si512(v)
#define vcast_f(v) _mm512_castsi512_ps(v)
#define vand(a, b) vcast_f(_mm512_and_epi32(vcast_i(a), vcast_i(b)))
#define vor(a, b) vcast_f(_mm512_or_epi32(vcast_i(a), vcast_i(b)))
#define vandnot(a, b) vcast_f(_mm512_andnot_epi32(vcast_i(a), vcast_i(b)))
#define vsel_gt(a, b, t, f) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), f, t)
#define vsel_lt(a, b, t, f) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), f, t)
#define vfirst(v) _mm512_cvtss_f32(v)
#define vi_add(a, b) _mm512_add_epi32(a, b)
#define vi_sub(a, b) _mm512_sub_epi32(a, b)
#define vi_set1(x) _mm512_set1_epi32(x)
#define vi_shl23(v) _mm512_slli_epi32(v, 23)
#define vi_xor(a, b) _mm512_xor_si512(a, b)
#define vi_and(a, b) _mm512_and_si512(a, b)
#define vi_mul(a, b) _mm512_mullo_epi32(a, b)
#define vi_shr(v, n) _mm512_srli_epi32(v, n)
#define vi_shrv(v, s) _mm512_srlv_epi32(v, s)
#define vi_iota() _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define vsel_ilt(a, b, t, f) _mm512_mask_blend_ps(_mm512_cmplt_epi32_mask(a, b), f, t)
#define vi_load(p) _mm512_loadu_si512((const void *)(p))
/* Lanes i < n: base[index[i]]; the others 0 (and not read). */
#define vgather_first(base, index, n) _mm512_mask_i32gather_ps(_mm512_setzero_ps(), (__mmask16)((1u << (n)) - 1), index, base, 4)
/* The first MR lanes of v at p. */
#define vstore_mr(p, v) _mm512_mask_storeu_ps(p, (__mmask16)((1u << MR) - 1), v)

#include "simd_impl.h"

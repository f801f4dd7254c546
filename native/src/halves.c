/*
 * fp32 <-> IEEE fp16 for horn's wire (src/wire/tensors.ts), with the F16C conversions: round to
 * nearest even, overflow to infinity, subnormals exact, as the JavaScript conversion computes
 * them (NaN stays NaN; its payload bits may differ). Compiled with -mf16c and called only after
 * the CPU check in addon.c.
 */
#include "halves.h"

#include <immintrin.h>

#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

void halves_encode(const float *src, uint16_t *dst, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), RNE));
  for (; i < n; i++) dst[i] = (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(src[i]), RNE), 0);
}

void halves_decode(const uint16_t *src, float *dst, long n, int accumulate) {
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
    _mm256_storeu_ps(dst + i, accumulate ? _mm256_add_ps(_mm256_loadu_ps(dst + i), v) : v);
  }
  for (; i < n; i++) {
    const float v = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(src[i])));
    dst[i] = accumulate ? dst[i] + v : v;
  }
}

/* fp32 <-> fp16 conversions of whole arrays (F16C; see halves.c). */
#ifndef HORN_HALVES_H
#define HORN_HALVES_H

#include <stdint.h>

void halves_encode(const float *src, uint16_t *dst, long n);
/* dst = decoded, or dst += decoded with `accumulate`. */
void halves_decode(const uint16_t *src, float *dst, long n, int accumulate);

#endif

// exp over a 16-lane vector (AVX-512): clamp, Cody-Waite split of ln 2, Cephes' expf polynomial, 2^n from the bits
// (@cope/decoding's vector-math.wat, operation for operation: its multiplies and adds rounded one by one). Within 2 ulp.
#ifndef COPE_VECTOR_EXP_H
#define COPE_VECTOR_EXP_H
#if defined(__AVX512F__)
#include <immintrin.h>

/* exp(x) of one vector as the module computes it (clamp, Cody-Waite, Cephes' polynomial, 2^n from the bits). */
static inline __m512 exp_vec(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-87.33f), x));
  const __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _mm512_set1_ps(12582912.0f));
  const __m512 nn = _mm512_sub_ps(t, _mm512_set1_ps(12582912.0f));
  x = _mm512_sub_ps(_mm512_sub_ps(x, _mm512_mul_ps(nn, _mm512_set1_ps(0.693359375f))), _mm512_mul_ps(nn, _mm512_set1_ps(-2.12194440e-4f)));
  __m512 p = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(1.9875691500e-4f), x), _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, x), x), x), _mm512_set1_ps(1.0f));
  const __m512i bits = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B3FFF81)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

#endif
#endif

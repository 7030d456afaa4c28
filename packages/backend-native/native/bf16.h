// bf16 values: the upper 16 bits of a float32.
#ifndef COPE_BF16_H
#define COPE_BF16_H
#include <stdint.h>

static inline float bf16_value(uint16_t b) {
  union { uint32_t u; float f; } v = {(uint32_t)b << 16};
  return v.f;
}

#endif

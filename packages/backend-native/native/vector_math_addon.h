// vector_math.h's kernels as N-API functions (Float32Arrays, a multiple of 8 elements).
#ifndef COPE_VECTOR_MATH_ADDON_H
#define COPE_VECTOR_MATH_ADDON_H
#include <node_api.h>

/* Defines vmAvailable, vmMax, vmExpShiftSum, vmLogAffine, vmAffine, vmSumAtLeast and vmLogContrastAtLeast on `exports`. */
void define_vector_math(napi_env env, napi_value exports);

#endif

#pragma once
// STRATA_HD marks per-element math shared by CPU loops and CUDA kernels (kernels/functors.h).
#if defined(__CUDACC__)
#define STRATA_HD __host__ __device__
#define STRATA_HD_INLINE __host__ __device__ __forceinline__
#else
#define STRATA_HD
// Forced, as on the device: per-element functors must inline into the loops that vectorize them
// (a big kernel file otherwise exhausts GCC's inlining budget and leaves calls in the loop).
#define STRATA_HD_INLINE inline __attribute__((always_inline))
#endif

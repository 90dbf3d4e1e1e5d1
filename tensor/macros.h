#pragma once
// STRATA_HD marks per-element math shared by CPU loops and CUDA kernels (kernels/functors.h).
#if defined(__CUDACC__)
#define STRATA_HD __host__ __device__
#define STRATA_HD_INLINE __host__ __device__ __forceinline__
#else
#define STRATA_HD
#define STRATA_HD_INLINE inline
#endif

// GLIA_HD marks functions that are compiled for both host and device, so that one
// model or rule body serves the CPU loop and the CUDA kernel alike.
#pragma once

#if defined(__CUDACC__)
#define GLIA_HD __host__ __device__ __forceinline__
#else
#define GLIA_HD inline __attribute__((always_inline))
#endif

// Strided n-d copy: dst[sum i_k*dstStrides_k] = src[sum i_k*srcStrides_k] over every index
// vector i of `shape` (row-major linear order). A source stride of 0 repeats (expand).
// CPU reference: CpuCopy.copy. The host merges dimensions that are contiguous for both
// operands first, so most copies arrive here as rank 1 or 2.
#include "common.cuh"

extern "C" __global__ void moesr_copy_strided(const float* src, float* dst,
                                              long long n, int rank, Dims shape, Dims srcStrides,
                                              Dims dstStrides) {
    MOESR_GRID_STRIDE(i, n) {
        long long s, d;
        moesr_offset2(i, rank, shape, srcStrides, dstStrides, s, d);
        dst[d] = src[s];
    }
}

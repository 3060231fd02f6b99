// Index select, gather and their adjoints. Indices arrive as floats holding whole numbers (exact
// below 2^24); one that is not a whole number in [0, size) sets a bit in *err (the host turns it
// into an IllegalArgumentException at its next synchronisation, as the CPU backend throws at
// once) and its element is written as 0 (or skipped in the adjoints) instead of touching memory
// outside the tensor.
// CPU reference: CpuIndex.
#include "common.cuh"

// Whether float index f is a whole number in [0, size) (false for NaN, fractions, negatives and
// values too large, all checked before any conversion to an integer).
static __device__ __forceinline__ bool moesr_index_ok(float f, long long size) {
    return f >= 0.0f && (double)f < (double)size && floorf(f) == f;
}

// x viewed as [outer, axis, inner]: out[o, j, i] = x[o, index[j], i] for j < indexCount.
extern "C" __global__ void moesr_index_select(const float* x, const float* index, float* out,
                                              long long outer, long long axis, long long inner,
                                              long long indexCount, int* err) {
    long long n = outer * indexCount * inner;
    MOESR_GRID_STRIDE(e, n) {
        long long i = e % inner;
        long long j = (e / inner) % indexCount;
        long long o = e / (inner * indexCount);
        float f = index[j];
        if (!moesr_index_ok(f, axis)) {
            atomicOr(err, MOESR_ERR_INDEX_SELECT);
            out[e] = 0.0f;
        } else {
            out[e] = x[(o * axis + (long long)f) * inner + i];
        }
    }
}

// gradX[o, index[j], i] += gradOut[o, j, i]; gradX was zeroed by the host.
extern "C" __global__ void moesr_index_select_backward(const float* gradOut, const float* index, float* gradX,
                                                       long long outer, long long axis, long long inner,
                                                       long long indexCount, int* err) {
    long long n = outer * indexCount * inner;
    MOESR_GRID_STRIDE(e, n) {
        long long i = e % inner;
        long long j = (e / inner) % indexCount;
        long long o = e / (inner * indexCount);
        float f = index[j];
        if (!moesr_index_ok(f, axis)) {
            atomicOr(err, MOESR_ERR_INDEX_SELECT);
        } else {
            atomicAdd(gradX + (o * axis + (long long)f) * inner + i, gradOut[e]);
        }
    }
}

// Offset in x of index position p (over indexShape) with coordinate `dim` replaced by k.
static __device__ __forceinline__ long long moesr_gather_offset(long long p, long long k, int rank,
                                                                const Dims& indexShape, const Dims& xStrides,
                                                                int dim) {
    long long off = 0;
#pragma unroll
    for (int d = MOESR_MAX_RANK - 1; d >= 0; --d) {
        if (d < rank) {
            long long size = indexShape.v[d];
            long long q = p / size;
            off += (d == dim ? k : p - q * size) * xStrides.v[d];
            p = q;
        }
    }
    return off;
}

// torch.gather along `dim`: for every position p of the index tensor (shape indexShape),
// out[p] = x[p with coordinate dim replaced by index[p]]. xStrides are x's contiguous strides.
extern "C" __global__ void moesr_gather(const float* x, const float* index, float* out, long long n,
                                        int rank, Dims indexShape, Dims xStrides, int dim, long long dimSize,
                                        int* err) {
    MOESR_GRID_STRIDE(p, n) {
        float f = index[p];
        if (!moesr_index_ok(f, dimSize)) {
            atomicOr(err, MOESR_ERR_GATHER);
            out[p] = 0.0f;
            continue;
        }
        long long off = moesr_gather_offset(p, (long long)f, rank, indexShape, xStrides, dim);
        out[p] = x[off];
    }
}

// The adjoint of gather: gradX[... index[p] ...] += gradOut[p]; gradX was zeroed by the host.
extern "C" __global__ void moesr_gather_backward(const float* gradOut, const float* index, float* gradX, long long n,
                                                 int rank, Dims indexShape, Dims xStrides, int dim, long long dimSize,
                                                 int* err) {
    MOESR_GRID_STRIDE(p, n) {
        float f = index[p];
        if (!moesr_index_ok(f, dimSize)) {
            atomicOr(err, MOESR_ERR_GATHER);
            continue;
        }
        long long off = moesr_gather_offset(p, (long long)f, rank, indexShape, xStrides, dim);
        atomicAdd(gradX + off, gradOut[p]);
    }
}

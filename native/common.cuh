// Shared pieces of the moesr kernels: the fixed-rank shape/stride struct, grid-stride loops,
// strided offsets, block reductions and Java-compatible float helpers.
//
// Conventions (the Java side, dev.moesr.cudakernels.CudaBackend, relies on them):
//  - every kernel is extern "C", named moesr_*, and takes element counts as long long;
//  - shapes and strides travel by value as Dims (MOESR_MAX_RANK long longs, unused slots 0),
//    strides counted in floats (or in complex elements where a kernel says so);
//  - 1-D launches use grid-stride loops, so any grid size is correct;
//  - kernels that can meet bad input (an index out of range) set a bit in *err instead of
//    writing out of bounds; the host reads the flags when it next synchronises.
#ifndef MOESR_COMMON_CUH
#define MOESR_COMMON_CUH

#define MOESR_MAX_RANK 8

// Error bits, mirrored in CudaBackend.
#define MOESR_ERR_INDEX_SELECT 1
#define MOESR_ERR_GATHER 2

struct Dims {
    long long v[MOESR_MAX_RANK];
};

// Up to 16 device pointers by value (the expert-averaging kernel).
struct Ptrs16 {
    const float* p[16];
};

#define MOESR_GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)blockDim.x * gridDim.x)

// Offset of row-major linear index i of `shape` (rank dims) under `strides`.
static __device__ __forceinline__ long long moesr_offset(long long i, int rank, const Dims& shape,
                                                         const Dims& strides) {
    if (rank == 1) return i * strides.v[0];
    long long off = 0;
#pragma unroll
    for (int d = MOESR_MAX_RANK - 1; d >= 0; --d) {
        if (d < rank) {
            long long q = i / shape.v[d];
            off += (i - q * shape.v[d]) * strides.v[d];
            i = q;
        }
    }
    return off;
}

// Offsets of one linear index under two stride sets at once (one division per dimension).
static __device__ __forceinline__ void moesr_offset2(long long i, int rank, const Dims& shape,
                                                     const Dims& s0, const Dims& s1,
                                                     long long& o0, long long& o1) {
    if (rank == 1) {
        o0 = i * s0.v[0];
        o1 = i * s1.v[0];
        return;
    }
    o0 = 0;
    o1 = 0;
#pragma unroll
    for (int d = MOESR_MAX_RANK - 1; d >= 0; --d) {
        if (d < rank) {
            long long q = i / shape.v[d];
            long long c = i - q * shape.v[d];
            o0 += c * s0.v[d];
            o1 += c * s1.v[d];
            i = q;
        }
    }
}

static __device__ __forceinline__ void moesr_offset3(long long i, int rank, const Dims& shape,
                                                     const Dims& s0, const Dims& s1, const Dims& s2,
                                                     long long& o0, long long& o1, long long& o2) {
    o0 = 0;
    o1 = 0;
    o2 = 0;
#pragma unroll
    for (int d = MOESR_MAX_RANK - 1; d >= 0; --d) {
        if (d < rank) {
            long long q = i / shape.v[d];
            long long c = i - q * shape.v[d];
            o0 += c * s0.v[d];
            o1 += c * s1.v[d];
            o2 += c * s2.v[d];
            i = q;
        }
    }
}

// Java's Math.max/min on floats and doubles: NaN if either is NaN, and -0 < +0.
static __device__ __forceinline__ float moesr_jmaxf(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.0f && b == 0.0f) return signbit(a) ? b : a;
    return a >= b ? a : b;
}

static __device__ __forceinline__ float moesr_jminf(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.0f && b == 0.0f) return signbit(a) ? a : b;
    return a <= b ? a : b;
}

static __device__ __forceinline__ double moesr_jmax(double a, double b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.0 && b == 0.0) return signbit(a) ? b : a;
    return a >= b ? a : b;
}

static __device__ __forceinline__ double moesr_jmin(double a, double b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.0 && b == 0.0) return signbit(a) ? a : b;
    return a <= b ? a : b;
}

// Java's Math.pow where it differs from C's pow: a NaN exponent gives NaN (C: pow(1, NaN) = 1),
// and (+-1)^(+-inf) is NaN (C: 1).
static __device__ __forceinline__ double moesr_jpow(double x, double y) {
    if (y == 0.0) return 1.0;
    if (y != y) return y;
    if (x != x) return x;
    if (fabs(x) == 1.0 && isinf(y)) return __longlong_as_double(0x7ff8000000000000LL);
    return pow(x, y);
}

// Sum of a double over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
static __device__ __forceinline__ double moesr_warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
}

static __device__ double moesr_block_sum(double v) {
    __shared__ double partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = moesr_warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    unsigned warps = (blockDim.x + 31) >> 5;
    v = threadIdx.x < warps ? partial[threadIdx.x] : 0.0;
    if (warp == 0) v = moesr_warp_sum(v);
    if (threadIdx.x == 0) partial[0] = v;
    __syncthreads();
    double r = partial[0];
    __syncthreads();   // partial[] may be reused by the next call
    return r;
}

// Largest float of the block (NaN wins, as Java's Math.max); every thread gets it.
static __device__ float moesr_block_max(float v) {
    __shared__ float partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = moesr_jmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    unsigned warps = (blockDim.x + 31) >> 5;
    v = threadIdx.x < warps ? partial[threadIdx.x] : -INFINITY;
    if (warp == 0) {
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v = moesr_jmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    }
    if (threadIdx.x == 0) partial[0] = v;
    __syncthreads();
    float r = partial[0];
    __syncthreads();
    return r;
}

#endif

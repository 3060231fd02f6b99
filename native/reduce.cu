// Reductions over marked dimensions, and row softmax / log-softmax with their backward.
// CPU reference: CpuReduce.reduce (sums in double; MAX/MIN/ARGMAX/ARGMIN take the first
// extreme in row-major order of the reduced dimensions, a NaN wins as soon as it is seen,
// an empty reduction gives 0 for SUM, NaN for MAX/MIN and index 0 for ARGMAX/ARGMIN).
//
// The host describes the input as two strided index spaces: the kept dimensions (one output
// element each, in output order) and the reduced ones (walked for every output element), both
// with input strides.
#include "common.cuh"

enum MoesrReduceOp {
    ROP_SUM = 0,
    ROP_MAX = 1,
    ROP_MIN = 2,
    ROP_ARGMAX = 3,
    ROP_ARGMIN = 4,
};

#define MOESR_NO_POS 0x7fffffffffffffffLL

// Whether candidate (v, p) beats (bv, bp) for MAX (wantMax) or MIN: a NaN beats every number,
// the earlier position wins between NaNs and between equal values, an empty slot (bp ==
// MOESR_NO_POS) loses to anything.
static __device__ __forceinline__ bool moesr_beats(bool wantMax, float v, long long p, float bv, long long bp) {
    if (p == MOESR_NO_POS) return false;
    if (bp == MOESR_NO_POS) return true;
    bool vnan = v != v, bnan = bv != bv;
    if (vnan || bnan) return vnan && (!bnan || p < bp);
    if (v == bv) return p < bp;
    return wantMax ? v > bv : v < bv;
}

static __device__ __forceinline__ float moesr_reduce_result(int op, double sum, float best, long long bestPos) {
    switch (op) {
        case ROP_SUM: return (float)sum;
        case ROP_MAX:
        case ROP_MIN: return bestPos == MOESR_NO_POS ? __int_as_float(0x7fc00000) : best;
        default: return bestPos == MOESR_NO_POS ? 0.0f : (float)bestPos;
    }
}

// This thread's share of a sum over reduced indices [lo, hi) taken every `step`: four independent
// loads and accumulators per iteration, so each thread keeps several loads in flight (with one
// chained load per iteration a whole-tensor sum was latency-bound at a quarter of the bandwidth).
static __device__ __forceinline__ double moesr_strided_sum(const float* base, long long lo, long long hi, long long step,
                                                           int redRank, const Dims& redShape, const Dims& redStrides) {
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    long long r = lo;
    for (; r + 3 * step < hi; r += 4 * step) {
        float v0 = base[moesr_offset(r, redRank, redShape, redStrides)];
        float v1 = base[moesr_offset(r + step, redRank, redShape, redStrides)];
        float v2 = base[moesr_offset(r + 2 * step, redRank, redShape, redStrides)];
        float v3 = base[moesr_offset(r + 3 * step, redRank, redShape, redStrides)];
        a0 += v0;
        a1 += v1;
        a2 += v2;
        a3 += v3;
    }
    for (; r < hi; r += step) a0 += base[moesr_offset(r, redRank, redShape, redStrides)];
    return (a0 + a1) + (a2 + a3);
}

// One block per output element (grid-stride over outputs); blockDim.x a power of two <= 256.
extern "C" __global__ void moesr_reduce_block(int op, const float* x, float* out, long long nOut, long long nRed,
                                              int keptRank, Dims keptShape, Dims keptStrides,
                                              int redRank, Dims redShape, Dims redStrides) {
    __shared__ float bestV[256];
    __shared__ long long bestP[256];
    const bool wantMax = op == ROP_MAX || op == ROP_ARGMAX;
    const int t = threadIdx.x;
    for (long long o = blockIdx.x; o < nOut; o += gridDim.x) {
        const float* base = x + moesr_offset(o, keptRank, keptShape, keptStrides);
        if (op == ROP_SUM) {
            double total = moesr_block_sum(moesr_strided_sum(base, t, nRed, blockDim.x, redRank, redShape, redStrides));
            if (t == 0) out[o] = (float)total;
        } else {
            float bv = 0.0f;
            long long bp = MOESR_NO_POS;
            for (long long r = t; r < nRed; r += blockDim.x) {
                float v = base[moesr_offset(r, redRank, redShape, redStrides)];
                if (moesr_beats(wantMax, v, r, bv, bp)) { bv = v; bp = r; }
            }
            bestV[t] = bv;
            bestP[t] = bp;
            __syncthreads();
            for (int s = blockDim.x >> 1; s > 0; s >>= 1) {
                if (t < s && moesr_beats(wantMax, bestV[t + s], bestP[t + s], bestV[t], bestP[t])) {
                    bestV[t] = bestV[t + s];
                    bestP[t] = bestP[t + s];
                }
                __syncthreads();
            }
            if (t == 0) out[o] = moesr_reduce_result(op, 0.0, bestV[0], bestP[0]);
            __syncthreads();   // bestV/bestP are rewritten for the next output
        }
    }
}

// SUM with few outputs and long reductions (a gradient's sum of squares, a bias gradient): one
// block per output would leave most SMs idle, so `splits` blocks share each output, block b
// summing a contiguous range of output b / splits's reduced index space into partial[b] (in
// double); moesr_reduce_sum_finish then adds each output's partials in order.
extern "C" __global__ void moesr_reduce_sum_partial(const float* x, double* partial, long long nOut, long long nRed, long long splits,
                                                    int keptRank, Dims keptShape, Dims keptStrides,
                                                    int redRank, Dims redShape, Dims redStrides) {
    long long chunk = (nRed + splits - 1) / splits;
    for (long long b = blockIdx.x; b < nOut * splits; b += gridDim.x) {
        long long o = b / splits, s = b - o * splits;
        const float* base = x + moesr_offset(o, keptRank, keptShape, keptStrides);
        long long lo = s * chunk, hi = lo + chunk < nRed ? lo + chunk : nRed;
        double total = moesr_block_sum(moesr_strided_sum(base, lo + threadIdx.x, hi, blockDim.x, redRank, redShape, redStrides));
        if (threadIdx.x == 0) partial[b] = total;
    }
}

extern "C" __global__ void moesr_reduce_sum_finish(const double* partial, float* out, long long nOut, long long splits) {
    MOESR_GRID_STRIDE(o, nOut) {
        double s = 0.0;
        for (long long k = 0; k < splits; k++) s += partial[o * splits + k];
        out[o] = (float)s;
    }
}

// One thread per output element, for short reductions (the host picks this when nRed is small).
extern "C" __global__ void moesr_reduce_thread(int op, const float* x, float* out, long long nOut, long long nRed,
                                               int keptRank, Dims keptShape, Dims keptStrides,
                                               int redRank, Dims redShape, Dims redStrides) {
    const bool wantMax = op == ROP_MAX || op == ROP_ARGMAX;
    MOESR_GRID_STRIDE(o, nOut) {
        const float* base = x + moesr_offset(o, keptRank, keptShape, keptStrides);
        double acc = 0.0;
        float bv = 0.0f;
        long long bp = MOESR_NO_POS;
        for (long long r = 0; r < nRed; r++) {
            float v = base[moesr_offset(r, redRank, redShape, redStrides)];
            if (op == ROP_SUM) acc += v;
            else if (moesr_beats(wantMax, v, r, bv, bp)) { bv = v; bp = r; }
        }
        out[o] = moesr_reduce_result(op, acc, bv, bp);
    }
}

// Row softmax of a rows x cols matrix, one block per row (grid-stride over rows), as the CPU
// computes it: shift by the row max (by 0 for a row of -inf), sum in double; softmax keeps each
// exponential as a float and scales by the float 1/sum, log-softmax is (x - max) - log(sum).
extern "C" __global__ void moesr_softmax(const float* x, float* out, long long rows, long long cols, int logOut) {
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* xr = x + row * cols;
        float* yr = out + row * cols;
        float m = -INFINITY;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) m = moesr_jmaxf(m, xr[j]);
        m = moesr_block_max(m);
        double shift = m == -INFINITY ? 0.0 : (double)m;
        double s = 0.0;
        if (logOut) {
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += exp((double)xr[j] - shift);
            s = moesr_block_sum(s);
            double ls = log(s);
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = (float)(((double)xr[j] - shift) - ls);
        } else {
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += (double)(float)exp((double)xr[j] - shift);
            s = moesr_block_sum(s);
            float inv = (float)(1.0 / s);
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = __fmul_rn((float)exp((double)xr[j] - shift), inv);
        }
    }
}

// Softmax of rows of at most MOESR_SOFTMAX_PER_THREAD * blockDim.x columns, one block per row
// (grid-stride over rows): each thread keeps its columns in registers, so x is read once and y
// written once (the kernel above reads x three times). exp in float (expf, within 2 ulps, as
// the CPU's float exponential), the sum in double, y = e * (float)(1 / sum) as above.
#define MOESR_SOFTMAX_PER_THREAD 8
extern "C" __global__ void moesr_softmax_cached(const float* x, float* out, long long rows, long long cols) {
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* xr = x + row * cols;
        float* yr = out + row * cols;
        float v[MOESR_SOFTMAX_PER_THREAD];
        float m = -INFINITY;
#pragma unroll
        for (int k = 0; k < MOESR_SOFTMAX_PER_THREAD; k++) {
            long long j = threadIdx.x + (long long)k * blockDim.x;
            v[k] = j < cols ? xr[j] : -INFINITY;
            m = moesr_jmaxf(m, v[k]);
        }
        m = moesr_block_max(m);
        float shift = m == -INFINITY ? 0.0f : m;
        double s = 0.0;
#pragma unroll
        for (int k = 0; k < MOESR_SOFTMAX_PER_THREAD; k++) {
            long long j = threadIdx.x + (long long)k * blockDim.x;
            if (j < cols) {
                v[k] = expf(__fsub_rn(v[k], shift));
                s += (double)v[k];
            }
        }
        s = moesr_block_sum(s);
        float inv = (float)(1.0 / s);
#pragma unroll
        for (int k = 0; k < MOESR_SOFTMAX_PER_THREAD; k++) {
            long long j = threadIdx.x + (long long)k * blockDim.x;
            if (j < cols) yr[j] = __fmul_rn(v[k], inv);
        }
    }
}

// Gradient of the row softmax from its output y:
// softmax: gx = y * (g - sum(g * y)); log-softmax: gx = g - exp(y) * sum(g).
extern "C" __global__ void moesr_softmax_backward(const float* y, const float* gradOut, float* gradIn,
                                                  long long rows, long long cols, int logOut) {
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* yr = y + row * cols;
        const float* gr = gradOut + row * cols;
        float* gi = gradIn + row * cols;
        double s = 0.0;
        if (logOut) {
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += gr[j];
        } else {
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += (double)gr[j] * yr[j];
        }
        s = moesr_block_sum(s);
        if (logOut) {
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) gi[j] = (float)((double)gr[j] - exp((double)yr[j]) * s);
        } else {
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) gi[j] = (float)((double)yr[j] * ((double)gr[j] - s));
        }
    }
}

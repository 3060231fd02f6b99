// Group normalisation, optionally fused with SiLU, and its backward.
// CPU reference: CpuNorm (tensor-core); semantics in Backend.groupNorm / groupNormBackward.
//
// x is [n, channels, spatial] with channels in groups of perGroup; a group of one sample is
// the contiguous run of perGroup * spatial floats at (sample * groups + group) * groupSize, and
// the (sample, group) index of element i is i / spatial / perGroup.
//
// Statistics: one block per (sample, group); each thread sums its elements shifted by the
// group's first element in double (so a large common offset does not cancel the variance), the
// block combines in double. The elementwise passes repeat the CPU's float arithmetic step by
// step (the _rn intrinsics keep nvcc from contracting to fused multiply-adds), SiLU and its
// derivative included (in float, with expf).
#include "common.cuh"

// SiLU and its derivative in float: a / (1 + exp(-a)) and s (1 + a (1 - s)) with
// s = 1 / (1 + exp(-a)), with the hardware exponential and division (__expf, __fdividef: a few
// ulps, where CpuNorm's SiluKernel is within 1); the apply pass stays memory-bound.
static __device__ __forceinline__ float moesr_gn_silu(float a) {
    return __fdividef(a, __fadd_rn(1.0f, __expf(-a)));
}

// The pre-activation a = (x - mean) * (rstd * weight) + bias, as CpuNorm computes it.
static __device__ __forceinline__ float moesr_gn_pre(float centred, float scale, float shift) {
    return __fadd_rn(__fmul_rn(centred, scale), shift);
}

// ga = g * silu'(a) (or g without SiLU).
static __device__ __forceinline__ float moesr_gn_grad_pre(float g, float a, int silu) {
    if (!silu) return g;
    float s = __fdividef(1.0f, __fadd_rn(1.0f, __expf(-a)));
    return __fmul_rn(g, __fmul_rn(s, __fadd_rn(1.0f, __fmul_rn(a, __fsub_rn(1.0f, s)))));
}

// Mean and 1/sqrt(var + eps) of each group: one block per group (grid-stride over groups),
// blockDim.x a multiple of 32 up to 1024.
// With vec (groupSize % 4 == 0, x 16-byte aligned) the threads read float4s.
extern "C" __global__ void moesr_group_norm_stats(const float* x, float* mean, float* rstd,
                                                  long long groupCount, long long groupSize, float eps, int vec) {
    for (long long grp = blockIdx.x; grp < groupCount; grp += gridDim.x) {
        const float* xg = x + grp * groupSize;
        double shift = groupSize > 0 ? (double)xg[0] : 0.0;
        double s1 = 0.0, s2 = 0.0;
        if (vec) {
            const float4* x4 = reinterpret_cast<const float4*>(xg);
            for (long long i = threadIdx.x; i < groupSize / 4; i += blockDim.x) {
                float4 v = x4[i];
                double d0 = (double)v.x - shift, d1 = (double)v.y - shift, d2 = (double)v.z - shift, d3 = (double)v.w - shift;
                s1 += (d0 + d1) + (d2 + d3);
                s2 += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
            }
        } else {
            for (long long i = threadIdx.x; i < groupSize; i += blockDim.x) {
                double d = (double)xg[i] - shift;
                s1 += d;
                s2 += d * d;
            }
        }
        s1 = moesr_block_sum(s1);
        s2 = moesr_block_sum(s2);
        if (threadIdx.x == 0) {
            double m = groupSize > 0 ? s1 / (double)groupSize : 0.0;
            double var = groupSize > 0 ? s2 / (double)groupSize - m * m : 0.0;
            if (var < 0.0) var = 0.0;   // rounding; a NaN stays NaN, as on the CPU
            mean[grp] = (float)(shift + m);
            rstd[grp] = (float)(1.0 / sqrt(var + (double)eps));
        }
    }
}

// The elementwise passes go over (row, chunk) pairs, one block each (grid-stride over pairs):
// a row is one (sample, channel) run of `spatial` floats, a chunk `chunkLen` of them. The row's
// mean, scale and shift are read once per block, with no integer division per element.
// With vec (spatial % 4 == 0, chunkLen % 4 == 0, x, out and gradients 16-byte aligned) each thread moves float4s.
#define MOESR_GN_ROW_PAIRS(rows, spatial, chunkLen)                                              \
    long long chunks = ((spatial) + (chunkLen) - 1) / (chunkLen);                               \
    for (long long pair = blockIdx.x; pair < (rows) * chunks; pair += gridDim.x)

// Where (row, chunk) pair `pair` lies: its row (sample * channels + channel), channel, group and
// element range [start, end) within the row.
struct MoesrGnChunk {
    long long row, grp, start, end;
    int c;
};

static __device__ __forceinline__ MoesrGnChunk moesr_gn_chunk(long long pair, long long chunks, long long spatial,
                                                               long long chunkLen, int channels, int perGroup) {
    MoesrGnChunk k;
    k.row = pair / chunks;
    k.start = (pair - k.row * chunks) * chunkLen;
    k.end = k.start + chunkLen < spatial ? k.start + chunkLen : spatial;
    k.c = (int)(k.row % channels);
    k.grp = k.row / perGroup;
    return k;
}

// out = [silu](a) for every element; weight and bias may be null (1 and 0).
extern "C" __global__ void moesr_group_norm_apply(const float* x, const float* weight, const float* bias,
                                                  const float* mean, const float* rstd, float* out,
                                                  long long rows, long long spatial, long long chunkLen,
                                                  int channels, int perGroup, int silu, int vec) {
    MOESR_GN_ROW_PAIRS(rows, spatial, chunkLen) {
        MoesrGnChunk at = moesr_gn_chunk(pair, chunks, spatial, chunkLen, channels, perGroup);
        long long row = at.row, start = at.start, end = at.end, grp = at.grp;
        int c = at.c;
        float mu = mean[grp], r = rstd[grp];
        float scale = weight ? __fmul_rn(r, weight[c]) : r;
        float shift = bias ? bias[c] : 0.0f;
        const float* xr = x + row * spatial;
        float* yr = out + row * spatial;
        if (vec) {
            const float4* x4 = reinterpret_cast<const float4*>(xr);
            float4* y4 = reinterpret_cast<float4*>(yr);
            for (long long k = start / 4 + threadIdx.x; k < end / 4; k += blockDim.x) {
                float4 v = x4[k];
                float a0 = moesr_gn_pre(__fsub_rn(v.x, mu), scale, shift), a1 = moesr_gn_pre(__fsub_rn(v.y, mu), scale, shift);
                float a2 = moesr_gn_pre(__fsub_rn(v.z, mu), scale, shift), a3 = moesr_gn_pre(__fsub_rn(v.w, mu), scale, shift);
                if (silu) { a0 = moesr_gn_silu(a0); a1 = moesr_gn_silu(a1); a2 = moesr_gn_silu(a2); a3 = moesr_gn_silu(a3); }
                y4[k] = make_float4(a0, a1, a2, a3);
            }
        } else {
            for (long long k = start + threadIdx.x; k < end; k += blockDim.x) {
                float a = moesr_gn_pre(__fsub_rn(xr[k], mu), scale, shift);
                yr[k] = silu ? moesr_gn_silu(a) : a;
            }
        }
    }
}

// Backward, step 1: per (sample, channel) row of `spatial` elements, the sums of ga and of
// ga * xhat (in double), one block per row (grid-stride over rows).
extern "C" __global__ void moesr_group_norm_backward_rows(const float* gradOut, const float* x, const float* weight,
                                                          const float* bias, const float* mean, const float* rstd,
                                                          double* sumGa, double* sumGaXhat,
                                                          long long rows, long long spatial, int channels, int perGroup, int silu) {
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        int c = (int)(row % channels);
        long long grp = row / perGroup;
        float mu = mean[grp], r = rstd[grp];
        float scale = weight ? __fmul_rn(r, weight[c]) : r;
        float shift = bias ? bias[c] : 0.0f;
        const float* xr = x + row * spatial;
        const float* gr = gradOut + row * spatial;
        double sGa = 0.0, sGaXhat = 0.0;
        for (long long k = threadIdx.x; k < spatial; k += blockDim.x) {
            float centred = __fsub_rn(xr[k], mu);
            float ga = moesr_gn_grad_pre(gr[k], moesr_gn_pre(centred, scale, shift), silu);
            sGa += ga;
            sGaXhat += __fmul_rn(ga, __fmul_rn(centred, r));
        }
        sGa = moesr_block_sum(sGa);
        sGaXhat = moesr_block_sum(sGaXhat);
        if (threadIdx.x == 0) {
            sumGa[row] = sGa;
            sumGaXhat[row] = sGaXhat;
        }
    }
}

// Backward, step 2 (one thread per item, grid-stride over max(groupCount, channels)):
// for each (sample, group) the means of ga * w and of ga * w * xhat over the group into
// coef[2 grp], coef[2 grp + 1]; for each channel the parameter gradients summed over samples
// (either pointer may be null).
extern "C" __global__ void moesr_group_norm_backward_combine(const double* sumGa, const double* sumGaXhat, const float* weight,
                                                             float* coef, float* gradWeight, float* gradBias,
                                                             long long samples, int channels, int perGroup, long long groupSize) {
    long long groupCount = samples * (channels / perGroup);
    long long items = groupCount > channels ? groupCount : channels;
    MOESR_GRID_STRIDE(i, items) {
        if (i < groupCount && coef) {
            long long first = i * perGroup;   // row of the group's first channel: (sample * channels + channel)
            int c0 = (int)(first % channels);
            double g1 = 0.0, g2 = 0.0;
            for (int j = 0; j < perGroup; j++) {
                double w = weight ? (double)weight[c0 + j] : 1.0;
                g1 += sumGa[first + j] * w;
                g2 += sumGaXhat[first + j] * w;
            }
            coef[2 * i] = groupSize > 0 ? (float)(g1 / (double)groupSize) : 0.0f;
            coef[2 * i + 1] = groupSize > 0 ? (float)(g2 / (double)groupSize) : 0.0f;
        }
        if (i < channels) {
            double b = 0.0, w = 0.0;
            for (long long s = 0; s < samples; s++) {
                b += sumGa[s * channels + i];
                w += sumGaXhat[s * channels + i];
            }
            if (gradBias) gradBias[i] = (float)b;
            if (gradWeight) gradWeight[i] = (float)w;
        }
    }
}

// Backward, step 3: gradX = rstd * (ga * w - m1 - xhat * m2), elementwise over (row, chunk) pairs.
extern "C" __global__ void moesr_group_norm_backward_x(const float* gradOut, const float* x, const float* weight,
                                                       const float* bias, const float* mean, const float* rstd,
                                                       const float* coef, float* gradX,
                                                       long long rows, long long spatial, long long chunkLen,
                                                       int channels, int perGroup, int silu) {
    MOESR_GN_ROW_PAIRS(rows, spatial, chunkLen) {
        MoesrGnChunk at = moesr_gn_chunk(pair, chunks, spatial, chunkLen, channels, perGroup);
        long long row = at.row, start = at.start, end = at.end, grp = at.grp;
        int c = at.c;
        float mu = mean[grp], r = rstd[grp];
        float w = weight ? weight[c] : 1.0f;
        float scale = __fmul_rn(r, w);
        float shift = bias ? bias[c] : 0.0f;
        float m1 = coef[2 * grp], m2 = coef[2 * grp + 1];
        const float* xr = x + row * spatial;
        const float* gr = gradOut + row * spatial;
        float* gxr = gradX + row * spatial;
        for (long long k = start + threadIdx.x; k < end; k += blockDim.x) {
            float centred = __fsub_rn(xr[k], mu);
            float ga = moesr_gn_grad_pre(gr[k], moesr_gn_pre(centred, scale, shift), silu);
            float inner = __fsub_rn(__fsub_rn(__fmul_rn(ga, w), m1), __fmul_rn(__fmul_rn(centred, r), m2));
            gxr[k] = __fmul_rn(r, inner);
        }
    }
}

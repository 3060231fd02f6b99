// 2-D max and average pooling over NCHW planes (PyTorch floor mode; padding counts in the
// average, count_include_pad = true; padding is at most half the kernel, so every window holds
// at least one input element and, in floor mode, never reaches past the padded input: the
// divisor is always kh * kw). CPU reference: CpuPool.
//
// The backward kernels gather (one thread per input element, summing the windows that cover
// it) instead of scattering with atomics, so they are deterministic and need no zeroing.
#include "common.cuh"

// First input index (within the plane) of the largest value of each window, NaN winning as
// soon as it is seen; out = that value, argmax = ih * W + iw as a float.
extern "C" __global__ void moesr_maxpool2d(const float* x, float* out, float* argmax, long long planes,
                                           int H, int W, int OH, int OW, int kh, int kw,
                                           int sh, int sw, int ph, int pw) {
    long long n = planes * OH * OW;
    MOESR_GRID_STRIDE(i, n) {
        int ow = (int)(i % OW);
        int oh = (int)((i / OW) % OH);
        long long p = i / ((long long)OW * OH);
        const float* xp = x + p * H * W;
        int h0 = oh * sh - ph, w0 = ow * sw - pw;
        float best = -INFINITY;
        int bestAt = -1;
        bool nan = false;
        for (int a = 0; a < kh; a++) {
            int ih = h0 + a;
            if (ih < 0 || ih >= H) continue;
            for (int b = 0; b < kw; b++) {
                int iw = w0 + b;
                if (iw < 0 || iw >= W) continue;
                float v = xp[ih * W + iw];
                if (nan) continue;
                if (v != v) { nan = true; best = v; bestAt = ih * W + iw; }
                else if (bestAt < 0 || v > best) { best = v; bestAt = ih * W + iw; }
            }
        }
        out[i] = best;
        argmax[i] = (float)(bestAt < 0 ? 0 : bestAt);
    }
}

// Range of output rows (or columns) whose window covers input row ih: [lo, hi], empty if lo > hi.
static __device__ __forceinline__ void moesr_covering(int ih, int k, int s, int pad, int outSize, int& lo, int& hi) {
    int top = ih + pad;                       // position in the padded input
    lo = top < k ? 0 : (top - k) / s + 1;     // first window with start + k > top
    hi = top / s;                             // last window with start <= top
    if (hi > outSize - 1) hi = outSize - 1;
}

// gradX[p, ih, iw] = sum of gradOut over the windows whose argmax is (ih, iw).
extern "C" __global__ void moesr_maxpool2d_backward(const float* gradOut, const float* argmax, float* gradX,
                                                    long long planes, int H, int W, int OH, int OW,
                                                    int kh, int kw, int sh, int sw, int ph, int pw) {
    long long n = planes * H * W;
    MOESR_GRID_STRIDE(i, n) {
        int iw = (int)(i % W);
        int ih = (int)((i / W) % H);
        long long p = i / ((long long)W * H);
        const float* gp = gradOut + p * OH * OW;
        const float* ap = argmax + p * OH * OW;
        float self = (float)(ih * W + iw);
        int oh0, oh1, ow0, ow1;
        moesr_covering(ih, kh, sh, ph, OH, oh0, oh1);
        moesr_covering(iw, kw, sw, pw, OW, ow0, ow1);
        double acc = 0.0;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++)
                if (ap[oh * OW + ow] == self) acc += gp[oh * OW + ow];
        gradX[i] = (float)acc;
    }
}

// out = (sum of the window's input elements, padding as zeros) / (kh * kw).
extern "C" __global__ void moesr_avgpool2d(const float* x, float* out, long long planes,
                                           int H, int W, int OH, int OW, int kh, int kw,
                                           int sh, int sw, int ph, int pw) {
    long long n = planes * OH * OW;
    MOESR_GRID_STRIDE(i, n) {
        int ow = (int)(i % OW);
        int oh = (int)((i / OW) % OH);
        long long p = i / ((long long)OW * OH);
        const float* xp = x + p * H * W;
        int h0 = oh * sh - ph, w0 = ow * sw - pw;
        double acc = 0.0;
        for (int a = 0; a < kh; a++) {
            int ih = h0 + a;
            if (ih < 0 || ih >= H) continue;
            for (int b = 0; b < kw; b++) {
                int iw = w0 + b;
                if (iw >= 0 && iw < W) acc += xp[ih * W + iw];
            }
        }
        out[i] = (float)(acc / ((double)kh * kw));
    }
}

// gradX[p, ih, iw] = sum over the windows covering (ih, iw) of gradOut / (kh * kw).
extern "C" __global__ void moesr_avgpool2d_backward(const float* gradOut, float* gradX, long long planes,
                                                    int H, int W, int OH, int OW, int kh, int kw,
                                                    int sh, int sw, int ph, int pw) {
    long long n = planes * H * W;
    MOESR_GRID_STRIDE(i, n) {
        int iw = (int)(i % W);
        int ih = (int)((i / W) % H);
        long long p = i / ((long long)W * H);
        const float* gp = gradOut + p * OH * OW;
        int oh0, oh1, ow0, ow1;
        moesr_covering(ih, kh, sh, ph, OH, oh0, oh1);
        moesr_covering(iw, kw, sw, pw, OW, ow0, ow1);
        double acc = 0.0;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) acc += gp[oh * OW + ow];
        gradX[i] = (float)(acc / ((double)kh * kw));
    }
}

// Optimiser updates, in place on parameter-sized tensors: Backend.adamStep and .emaUpdate (used
// by nn's Adam, AdamW and Ema), and CudaBackend.averageInto. CPU reference: CpuBackend's loops,
// and the double-precision loops of OptimKernelsTest.
#include "common.cuh"

// One fused Adam step (Backend.adamStep): with decoupled weight decay (AdamW, as torch.optim.AdamW)
//   p -= lr * weightDecay * p, else (Adam's L2 term) g += weightDecay * p; then
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g^2
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)      bc1 = 1 - beta1^t, bc2 = 1 - beta2^t
extern "C" __global__ void moesr_adam_step(float* param, const float* grad, float* m, float* v, long long n,
                                           float lr, float beta1, float beta2, float eps, float weightDecay,
                                           float bc1, float bc2, int decoupled) {
    float keep = decoupled ? 1.0f - lr * weightDecay : 1.0f, l2 = decoupled ? 0.0f : weightDecay;
    MOESR_GRID_STRIDE(i, n) {
        float p = param[i];
        float g = grad[i] + l2 * p;
        p *= keep;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

// Exponential moving average of weights: ema += rate * (param - ema), rate = 1 - decay.
extern "C" __global__ void moesr_ema_update(float* ema, const float* param, long long n, float rate) {
    MOESR_GRID_STRIDE(i, n) ema[i] += rate * (param[i] - ema[i]);
}

// out = (accumulate ? out : 0) + scale * sum_k src[k], over `count` (<= 16) tensors of n floats;
// the sum in double. Averaging N experts: scale = 1/N, chunks of 16, accumulate after the first.
extern "C" __global__ void moesr_average(float* out, long long n, int count, Ptrs16 src, float scale, int accumulate) {
    MOESR_GRID_STRIDE(i, n) {
        double s = 0.0;
        for (int k = 0; k < count && k < 16; k++) s += src.p[k][i];
        double r = (double)scale * s;
        if (accumulate) r += out[i];
        out[i] = (float)r;
    }
}

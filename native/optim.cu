// Optimiser updates, in place on parameter-sized tensors. Not part of the Backend interface
// yet: CudaBackend exposes them as adamwStep, emaUpdate and averageInto. CPU reference: the
// double-precision loops in OptimKernelsParityTest (and the nn module's optimisers).
#include "common.cuh"

// One fused AdamW step (decoupled weight decay, as torch.optim.AdamW):
//   p -= lr * weightDecay * p
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g^2
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)      bc1 = 1 - beta1^t, bc2 = 1 - beta2^t
extern "C" __global__ void moesr_adamw_step(float* param, const float* grad, float* m, float* v, long long n,
                                            float lr, float beta1, float beta2, float eps, float weightDecay,
                                            float bc1, float bc2) {
    MOESR_GRID_STRIDE(i, n) {
        float g = grad[i];
        float p = param[i] * (1.0f - lr * weightDecay);
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

// Exponential moving average of weights: ema += (1 - decay) * (param - ema).
extern "C" __global__ void moesr_ema_update(float* ema, const float* param, long long n, float decay) {
    float w = 1.0f - decay;
    MOESR_GRID_STRIDE(i, n) ema[i] += w * (param[i] - ema[i]);
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

// Creation kernels: arange, and the in-place scaling used after cuFFT (and for beta * C in an
// empty matmul). fill needs no kernel: the backend uses cuMemsetD32Async with the float's bits.
// CPU reference: CpuBackend.arange.
#include "common.cuh"

// out[i] = start + i * step, rounded as Java's float arithmetic does (no fused multiply-add).
extern "C" __global__ void moesr_arange(float* out, long long n, float start, float step) {
    MOESR_GRID_STRIDE(i, n) out[i] = __fadd_rn(start, __fmul_rn((float)i, step));
}

// x[i] *= s in place (orthonormal FFT scaling: s = 1/sqrt(h*w)).
extern "C" __global__ void moesr_scale(float* x, long long n, float s) {
    MOESR_GRID_STRIDE(i, n) x[i] = __fmul_rn(x[i], s);
}

// Complex products and moduli on interleaved (re, im) storage. CPU reference: CpuComplex.
#include "common.cuh"

// out[p] = a[aOff(p)] * b[bOff(p)] (b conjugated when asked) for p over the complex element
// shape `shape`; strides in complex elements, 0 where an input broadcasts. In double, rounded
// once, as the CPU: products of floats are exact in double, so only the sum rounds and the
// result is bit-identical whether or not the compiler fuses it.
extern "C" __global__ void moesr_complex_mul(const float* a, const float* b, float* out, long long n,
                                             int rank, Dims shape, Dims aStrides, Dims bStrides,
                                             int conjugateB) {
    MOESR_GRID_STRIDE(p, n) {
        long long ia, ib;
        moesr_offset2(p, rank, shape, aStrides, bStrides, ia, ib);
        double ar = a[2 * ia], ai = a[2 * ia + 1];
        double br = b[2 * ib], bi = conjugateB ? -(double)b[2 * ib + 1] : (double)b[2 * ib + 1];
        out[2 * p] = (float)(ar * br - ai * bi);
        out[2 * p + 1] = (float)(ar * bi + ai * br);
    }
}

// out[p] = |z[p]| = sqrt(re^2 + im^2), in double (no overflow), rounded once.
extern "C" __global__ void moesr_complex_abs(const float* z, float* out, long long n) {
    MOESR_GRID_STRIDE(p, n) {
        double re = z[2 * p], im = z[2 * p + 1];
        out[p] = (float)sqrt(re * re + im * im);
    }
}

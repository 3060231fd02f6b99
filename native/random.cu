// Philox4x32-10 random tensors, bit-identical to the CPU backend (see philox.cuh).
// Each thread makes whole blocks of four values; a grid-stride loop covers any n.
#include "philox.cuh"

extern "C" __global__ void philox_uniform(float* out, long long n, unsigned long long seed, unsigned long long counter) {
    long long blocks = (n + 3) / 4;
    long long stride = (long long) gridDim.x * blockDim.x;
    for (long long b = (long long) blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        uint32_t w[4];
        philox_stream_block(seed, counter + (unsigned long long) b, w);
        long long i = 4 * b;
        for (int k = 0; k < 4 && i + k < n; k++) out[i + k] = philox_to_uniform(w[k]);
    }
}

extern "C" __global__ void philox_normal(float* out, long long n, unsigned long long seed, unsigned long long counter) {
    long long blocks = (n + 3) / 4;
    long long stride = (long long) gridDim.x * blockDim.x;
    for (long long b = (long long) blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        uint32_t w[4];
        philox_stream_block(seed, counter + (unsigned long long) b, w);
        float z[4];
        philox_to_normal_pair(w[0], w[1], &z[0], &z[1]);
        philox_to_normal_pair(w[2], w[3], &z[2], &z[3]);
        long long i = 4 * b;
        for (int k = 0; k < 4 && i + k < n; k++) out[i + k] = z[k];
    }
}

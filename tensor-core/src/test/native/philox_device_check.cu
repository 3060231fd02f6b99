// Runs the kernels of native/random.cu on the GPU and compares every value, bit for bit, with
// the host path of philox.cuh (which PhiloxNativeParityTest ties to the Java backend).
// Exit code 0 when all match; prints the first mismatches otherwise. Used by
// PhiloxNativeParityTest when a GPU is present.
#include "random.cu"

#include <cstdio>
#include <cstring>
#include <vector>

static int check(bool normal, unsigned long long seed, unsigned long long counter, long long n) {
    float* d = nullptr;
    if (cudaMalloc(&d, (n > 0 ? n : 1) * sizeof(float)) != cudaSuccess) { std::printf("cudaMalloc failed\n"); return 1; }
    int threads = 256;
    int blocks = (int) (((n + 3) / 4 + threads - 1) / threads);
    if (blocks > 4096) blocks = 4096;   // the grid-stride loop covers the rest
    if (blocks < 1) blocks = 1;
    if (normal) philox_normal<<<blocks, threads>>>(d, n, seed, counter);
    else philox_uniform<<<blocks, threads>>>(d, n, seed, counter);
    std::vector<float> got(n);
    cudaError_t err = cudaMemcpy(got.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d);
    if (err != cudaSuccess) { std::printf("kernel or copy failed: %s\n", cudaGetErrorString(err)); return 1; }
    int bad = 0;
    for (long long b = 0; 4 * b < n; b++) {
        uint32_t w[4];
        philox_stream_block(seed, counter + (uint64_t) b, w);
        float z[4];
        if (normal) {
            philox_to_normal_pair(w[0], w[1], &z[0], &z[1]);
            philox_to_normal_pair(w[2], w[3], &z[2], &z[3]);
        } else {
            for (int k = 0; k < 4; k++) z[k] = philox_to_uniform(w[k]);
        }
        for (int k = 0; k < 4 && 4 * b + k < n; k++) {
            if (std::memcmp(&z[k], &got[4 * b + k], 4) != 0 && bad++ < 10) {
                std::printf("%s seed %llx counter %llx element %lld: device %.9g, host %.9g\n", normal ? "normal" : "uniform",
                            seed, counter, 4 * b + k, got[4 * b + k], z[k]);
            }
        }
    }
    return bad;
}

int main() {
    int bad = 0;
    bad += check(false, 0, 0, 4);
    bad += check(false, 0x0123456789ABCDEFull, 0xFFFFFFFEull, 1000003);
    bad += check(true, 42, 7, 1000003);
    bad += check(true, 0x9E3779B97F4A7C15ull, 0xFFFFFFFFull, 4099);
    std::printf(bad == 0 ? "device streams match the host bit for bit\n" : "%d mismatches\n", bad);
    return bad == 0 ? 0 : 1;
}

// Host program for PhiloxNativeParityTest: runs the __host__ __device__ functions of
// native/philox.cuh on the CPU and prints their exact bits, for comparison with the Java backend.
// Reads commands from stdin, one per line, and prints one hex word per value:
//   uniform SEED COUNTER N    N floats of the uniform stream (float bits)
//   normal SEED COUNTER N     N floats of the normal stream (float bits)
//   math XBITS                pm_log(x), sin(2 pi x), cos(2 pi x) for the double with these bits
// SEED, COUNTER, XBITS are unsigned 64-bit hex numbers.
#include "philox.cuh"

#include <cinttypes>
#include <cstdio>
#include <cstring>

static uint32_t float_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static uint64_t double_bits(double d) { uint64_t u; std::memcpy(&u, &d, 8); return u; }

int main() {
    char kind[16];
    while (std::scanf("%15s", kind) == 1) {
        if (std::strcmp(kind, "math") == 0) {
            uint64_t bits;
            if (std::scanf("%" SCNx64, &bits) != 1) return 2;
            double x;
            std::memcpy(&x, &bits, 8);
            double s, c;
            pm_sincos2pi(x, &s, &c);
            std::printf("%016" PRIx64 " %016" PRIx64 " %016" PRIx64 "\n", double_bits(pm_log(x)), double_bits(s), double_bits(c));
            continue;
        }
        uint64_t seed, counter;
        long long n;
        if (std::scanf("%" SCNx64 " %" SCNx64 " %lld", &seed, &counter, &n) != 3) return 2;
        bool normal = std::strcmp(kind, "normal") == 0;
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
            for (int k = 0; k < 4 && 4 * b + k < n; k++) std::printf("%08" PRIx32 "\n", float_bits(z[k]));
        }
    }
    return 0;
}

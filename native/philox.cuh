// Philox4x32-10 streams, bit-identical to the Java CPU backend (dev.moesr.tensor.Philox,
// dev.moesr.tensor.cpu.CpuRandom and PortableMath). Every function here is __host__ __device__:
// the device path rounds each operation with the _rn intrinsics, which are never fused into an
// FMA; the host path keeps each product in a volatile so that no compiler contracts it either.
// Element i of a tensor drawn at (seed, counter) uses block counter + i/4, word i % 4.
// The double-precision math mirrors PortableMath line by line: change one, change the other.
#pragma once

#include <stdint.h>

#ifndef __CUDACC__
#define __host__
#define __device__
#endif

#define PHILOX_HD __host__ __device__ inline

// ---- correctly rounded, never fused double operations --------------------------------------

PHILOX_HD double pm_add(double a, double b) {
#ifdef __CUDA_ARCH__
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}

PHILOX_HD double pm_sub(double a, double b) {
#ifdef __CUDA_ARCH__
    return __dsub_rn(a, b);
#else
    return a - b;
#endif
}

PHILOX_HD double pm_mul(double a, double b) {
#ifdef __CUDA_ARCH__
    return __dmul_rn(a, b);
#else
    volatile double p = a * b;   // a stored product cannot be fused with the next addition
    return p;
#endif
}

PHILOX_HD double pm_div(double a, double b) {
#ifdef __CUDA_ARCH__
    return __ddiv_rn(a, b);
#else
    return a / b;
#endif
}

PHILOX_HD double pm_sqrt(double a) {
#ifdef __CUDA_ARCH__
    return __dsqrt_rn(a);
#else
    volatile double r = __builtin_sqrt(a);
    return r;
#endif
}

PHILOX_HD double pm_floor(double a) {
#ifdef __CUDA_ARCH__
    return floor(a);
#else
    return __builtin_floor(a);
#endif
}

// ---- Philox4x32-10 -------------------------------------------------------------------------

// The four words of block (c0, c1, c2, c3) under key (k0, k1).
PHILOX_HD void philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                             uint32_t k0, uint32_t k1, uint32_t out[4]) {
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t) 0xD2511F53u * c0;
        uint64_t p1 = (uint64_t) 0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t) (p0 >> 32), lo0 = (uint32_t) p0;
        uint32_t hi1 = (uint32_t) (p1 >> 32), lo1 = (uint32_t) p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

// The block at 64-bit counter c of the stream with 64-bit seed s.
PHILOX_HD void philox_stream_block(uint64_t seed, uint64_t c, uint32_t out[4]) {
    philox4x32_10((uint32_t) c, (uint32_t) (c >> 32), 0u, 0u, (uint32_t) seed, (uint32_t) (seed >> 32), out);
}

// ---- portable log and sin/cos (mirror of PortableMath) ---------------------------------------

#define PM_SQRT_HALF 0x1.6a09e667f3bcdp-1
#define PM_SQRT_TWO 0x1.6a09e667f3bcdp0
#define PM_LN2_HI 0x1.62e42feep-1
#define PM_LN2_LO 0x1.a39ef35793c76p-33
#define PM_HALF_PI 0x1.921fb54442d18p0

// Natural logarithm of a positive finite x; NaN otherwise.
PHILOX_HD double pm_log(double x) {
    if (!(x > 0.0) || x == __builtin_huge_val()) return __builtin_nan("");
    double m = x;
    int e = 0;
    while (m < 0x1p-32) { m = pm_mul(m, 0x1p32); e = e - 32; }
    while (m > 0x1p32) { m = pm_mul(m, 0x1p-32); e = e + 32; }
    while (m < PM_SQRT_HALF) { m = pm_mul(m, 2.0); e = e - 1; }
    while (m >= PM_SQRT_TWO) { m = pm_mul(m, 0.5); e = e + 1; }
    double s = pm_div(pm_sub(m, 1.0), pm_add(m, 1.0));
    double s2 = pm_mul(s, s);
    double p = 0x1.642c8590b2164p-5;                      // 1/23
    p = pm_add(0x1.8618618618618p-5, pm_mul(s2, p));     // 1/21
    p = pm_add(0x1.af286bca1af28p-5, pm_mul(s2, p));     // 1/19
    p = pm_add(0x1.e1e1e1e1e1e1ep-5, pm_mul(s2, p));     // 1/17
    p = pm_add(0x1.1111111111111p-4, pm_mul(s2, p));     // 1/15
    p = pm_add(0x1.3b13b13b13b14p-4, pm_mul(s2, p));     // 1/13
    p = pm_add(0x1.745d1745d1746p-4, pm_mul(s2, p));     // 1/11
    p = pm_add(0x1.c71c71c71c71cp-4, pm_mul(s2, p));     // 1/9
    p = pm_add(0x1.2492492492492p-3, pm_mul(s2, p));     // 1/7
    p = pm_add(0x1.999999999999ap-3, pm_mul(s2, p));     // 1/5
    p = pm_add(0x1.5555555555555p-2, pm_mul(s2, p));     // 1/3
    double twoS = pm_mul(2.0, s);
    double lnM = pm_add(twoS, pm_mul(twoS, pm_mul(s2, p)));
    double de = (double) e;
    return pm_add(pm_mul(de, PM_LN2_HI), pm_add(pm_mul(de, PM_LN2_LO), lnM));
}

PHILOX_HD double pm_sin_poly(double x) {
    double x2 = pm_mul(x, x);
    double p = 0x1.952c77030ad4ap-49;                     //  1/17!
    p = pm_add(-0x1.ae7f3e733b81fp-41, pm_mul(x2, p));   // -1/15!
    p = pm_add(0x1.6124613a86d09p-33, pm_mul(x2, p));    //  1/13!
    p = pm_add(-0x1.ae64567f544e4p-26, pm_mul(x2, p));   // -1/11!
    p = pm_add(0x1.71de3a556c734p-19, pm_mul(x2, p));    //  1/9!
    p = pm_add(-0x1.a01a01a01a01ap-13, pm_mul(x2, p));   // -1/7!
    p = pm_add(0x1.1111111111111p-7, pm_mul(x2, p));     //  1/5!
    p = pm_add(-0x1.5555555555555p-3, pm_mul(x2, p));    // -1/3!
    return pm_add(x, pm_mul(x, pm_mul(x2, p)));
}

PHILOX_HD double pm_cos_poly(double x) {
    double x2 = pm_mul(x, x);
    double p = 0x1.ae7f3e733b81fp-45;                     //  1/16!
    p = pm_add(-0x1.93974a8c07c9dp-37, pm_mul(x2, p));   // -1/14!
    p = pm_add(0x1.1eed8eff8d898p-29, pm_mul(x2, p));    //  1/12!
    p = pm_add(-0x1.27e4fb7789f5cp-22, pm_mul(x2, p));   // -1/10!
    p = pm_add(0x1.a01a01a01a01ap-16, pm_mul(x2, p));    //  1/8!
    p = pm_add(-0x1.6c16c16c16c17p-10, pm_mul(x2, p));   // -1/6!
    p = pm_add(0x1.5555555555555p-5, pm_mul(x2, p));     //  1/4!
    return pm_add(1.0, pm_mul(x2, pm_add(-0x1.0p-1, pm_mul(x2, p))));
}

// sin(2 pi u) and cos(2 pi u) for |u| < 2^49: reduction to the nearest quarter turn is exact.
PHILOX_HD void pm_sincos2pi(double u, double* s, double* c) {
    double t = pm_mul(4.0, u);
    double q = pm_floor(pm_add(t, 0.5));
    double x = pm_mul(pm_sub(t, q), PM_HALF_PI);
    double sp = pm_sin_poly(x), cp = pm_cos_poly(x);
    switch ((int) ((long long) q & 3)) {
        case 0: *s = sp; *c = cp; break;
        case 1: *s = cp; *c = -sp; break;
        case 2: *s = -sp; *c = -cp; break;
        default: *s = -cp; *c = sp; break;
    }
}

// ---- the streams ------------------------------------------------------------------------

// Uniform float in [0, 1) from the top 24 bits of a word (exact).
PHILOX_HD float philox_to_uniform(uint32_t w) {
    return (float) (w >> 8) * 0x1p-24f;
}

// Box-Muller on the word pair (wa, wb): z0 = r cos(2 pi u2), z1 = r sin(2 pi u2) with
// r = sqrt(-2 ln u1), u1 = ((wa >> 8) + 1) / 2^24, u2 = (wb >> 8) / 2^24; rounded to float once.
PHILOX_HD void philox_to_normal_pair(uint32_t wa, uint32_t wb, float* z0, float* z1) {
    double u1 = pm_mul((double) ((wa >> 8) + 1u), 0x1p-24);
    double r = pm_sqrt(pm_mul(-2.0, pm_log(u1)));
    double u2 = pm_mul((double) (wb >> 8), 0x1p-24);
    double s, c;
    pm_sincos2pi(u2, &s, &c);
    *z0 = (float) pm_mul(r, c);
    *z1 = (float) pm_mul(r, s);
}

package dev.moesr.tensor.cpu;

/**
 * Logarithm and sine/cosine in double precision built only from IEEE-754 +, -, *, / (each
 * correctly rounded, never fused) and exact operations (comparisons, floor, scaling by powers of
 * two). Java's Math.log/sin/cos and CUDA's log/sincos may differ in the last bit; these give the
 * same bits everywhere. native/philox.cuh mirrors every line in the same order of operations:
 * change one and change the other. Accuracy: a few ulp.
 */
final class PortableMath {
    private PortableMath() {}

    private static final double SQRT_HALF = 0x1.6a09e667f3bcdp-1;
    private static final double SQRT_TWO = 0x1.6a09e667f3bcdp0;
    // ln 2 split so that e * LN2_HI is exact for |e| < 2^11 (the fdlibm constants)
    private static final double LN2_HI = 0x1.62e42feep-1;
    private static final double LN2_LO = 0x1.a39ef35793c76p-33;
    private static final double HALF_PI = 0x1.921fb54442d18p0;

    // 1/3, 1/5, ..., 1/23: the series 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.172
    private static final double L3 = 0x1.5555555555555p-2, L5 = 0x1.999999999999ap-3, L7 = 0x1.2492492492492p-3,
            L9 = 0x1.c71c71c71c71cp-4, L11 = 0x1.745d1745d1746p-4, L13 = 0x1.3b13b13b13b14p-4,
            L15 = 0x1.1111111111111p-4, L17 = 0x1.e1e1e1e1e1e1ep-5, L19 = 0x1.af286bca1af28p-5,
            L21 = 0x1.8618618618618p-5, L23 = 0x1.642c8590b2164p-5;

    // Taylor coefficients (-1)^k / n! of sin (odd n up to 17) and cos (even n up to 16): for
    // |x| <= pi/4 the first dropped term is below 1e-18
    private static final double S3 = -0x1.5555555555555p-3, S5 = 0x1.1111111111111p-7, S7 = -0x1.a01a01a01a01ap-13,
            S9 = 0x1.71de3a556c734p-19, S11 = -0x1.ae64567f544e4p-26, S13 = 0x1.6124613a86d09p-33,
            S15 = -0x1.ae7f3e733b81fp-41, S17 = 0x1.952c77030ad4ap-49;
    private static final double C2 = -0x1.0p-1, C4 = 0x1.5555555555555p-5, C6 = -0x1.6c16c16c16c17p-10,
            C8 = 0x1.a01a01a01a01ap-16, C10 = -0x1.27e4fb7789f5cp-22, C12 = 0x1.1eed8eff8d898p-29,
            C14 = -0x1.93974a8c07c9dp-37, C16 = 0x1.ae7f3e733b81fp-45;

    /**
     * Natural logarithm of a positive finite x: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
     * ln x = e ln 2 + 2 atanh((m-1)/(m+1)). Returns NaN for x <= 0, NaN or infinity.
     */
    static double log(double x) {
        if (!(x > 0) || x == Double.POSITIVE_INFINITY) return Double.NaN;
        double m = x;
        int e = 0;
        // scaling by powers of two is exact
        while (m < 0x1p-32) { m = m * 0x1p32; e = e - 32; }
        while (m > 0x1p32) { m = m * 0x1p-32; e = e + 32; }
        while (m < SQRT_HALF) { m = m * 2.0; e = e - 1; }
        while (m >= SQRT_TWO) { m = m * 0.5; e = e + 1; }
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        double p = L3 + s2 * (L5 + s2 * (L7 + s2 * (L9 + s2 * (L11 + s2 * (L13 + s2 * (L15 + s2 * (L17
                + s2 * (L19 + s2 * (L21 + s2 * L23)))))))));
        double twoS = 2.0 * s;
        double lnM = twoS + twoS * (s2 * p);
        double de = e;
        return de * LN2_HI + (de * LN2_LO + lnM);
    }

    /** sin(2 pi u), for |u| < 2^49. */
    static double sin2pi(double u) {
        double t = 4.0 * u;                  // quarter turns, exact
        double q = Math.floor(t + 0.5);      // nearest quarter
        double x = (t - q) * HALF_PI;        // t - q is exact; |x| <= pi/4
        return switch ((int) ((long) q & 3)) {
            case 0 -> sinPoly(x);
            case 1 -> cosPoly(x);
            case 2 -> -sinPoly(x);
            default -> -cosPoly(x);
        };
    }

    /** cos(2 pi u), for |u| < 2^49. */
    static double cos2pi(double u) {
        double t = 4.0 * u;
        double q = Math.floor(t + 0.5);
        double x = (t - q) * HALF_PI;
        return switch ((int) ((long) q & 3)) {
            case 0 -> cosPoly(x);
            case 1 -> -sinPoly(x);
            case 2 -> -cosPoly(x);
            default -> sinPoly(x);
        };
    }

    private static double sinPoly(double x) {
        double x2 = x * x;
        double p = S3 + x2 * (S5 + x2 * (S7 + x2 * (S9 + x2 * (S11 + x2 * (S13 + x2 * (S15 + x2 * S17))))));
        return x + x * (x2 * p);
    }

    private static double cosPoly(double x) {
        double x2 = x * x;
        double p = C4 + x2 * (C6 + x2 * (C8 + x2 * (C10 + x2 * (C12 + x2 * (C14 + x2 * C16)))));
        return 1.0 + x2 * (C2 + x2 * p);
    }
}

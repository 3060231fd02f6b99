package dev.moesr.diffusion.unet;

import dev.moesr.nn.Module;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.testing.Gen;

/**
 * Double-precision reference implementations of the UNet's blocks, as plain loops over
 * row-major arrays, and a helper that gives a module random, non-trivial weights.
 */
final class Reference {
    private Reference() {}

    /** Every parameter uniform: norm scales in [0.7, 1.3], the rest in +-1/sqrt(fan-in) (biases +-0.3). */
    static void randomise(Module m, Gen g) {
        for (var e : m.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            int[] d = p.dims();
            boolean normScale = d.length == 1 && e.getKey().contains("norm") && e.getKey().endsWith("weight");
            double bound = d.length == 1 ? 0.3 : 1 / Math.sqrt((double) p.numel() / d[0]);
            p.assign(normScale ? g.floats((int) p.numel(), 0.7, 1.3) : g.floats((int) p.numel(), -bound, bound));
        }
    }

    /** GroupNorm of x (B, C, L) in {@code groups} groups, biased variance, affine per channel. */
    static double[] groupNorm(double[] x, int b, int c, int len, int groups, double[] w, double[] bias, double eps) {
        double[] out = new double[x.length];
        int per = c / groups;
        for (int n = 0; n < b; n++) {
            for (int g = 0; g < groups; g++) {
                double mean = 0, var = 0;
                int count = per * len;
                for (int ch = g * per; ch < (g + 1) * per; ch++) for (int l = 0; l < len; l++) mean += x[(n * c + ch) * len + l];
                mean /= count;
                for (int ch = g * per; ch < (g + 1) * per; ch++) {
                    for (int l = 0; l < len; l++) {
                        double d = x[(n * c + ch) * len + l] - mean;
                        var += d * d;
                    }
                }
                var /= count;
                double inv = 1 / Math.sqrt(var + eps);
                for (int ch = g * per; ch < (g + 1) * per; ch++) {
                    for (int l = 0; l < len; l++) {
                        int i = (n * c + ch) * len + l;
                        out[i] = (x[i] - mean) * inv * w[ch] + bias[ch];
                    }
                }
            }
        }
        return out;
    }

    /** LayerNorm of one vector. */
    static double[] layerNorm(double[] v, double[] w, double[] bias, double eps) {
        double mean = 0, var = 0;
        for (double a : v) mean += a;
        mean /= v.length;
        for (double a : v) var += (a - mean) * (a - mean);
        var /= v.length;
        double inv = 1 / Math.sqrt(var + eps);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (v[i] - mean) * inv * w[i] + bias[i];
        return out;
    }

    /** y = W v + b with W [out, in] row-major. */
    static double[] affine(double[] w, double[] b, double[] v) {
        int out = b.length, in = v.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++) s += w[o * in + i] * v[i];
            y[o] = s;
        }
        return y;
    }

    /** The expert FFN: W2 gelu(W1 v + b1) + b2. */
    static double[] ffn(double[] w1, double[] b1, double[] w2, double[] b2, double[] v) {
        double[] h = affine(w1, b1, v);
        for (int i = 0; i < h.length; i++) h[i] = gelu(h[i]);
        return affine(w2, b2, h);
    }

    static double gelu(double x) { return 0.5 * x * (1 + erf(x / Math.sqrt(2))); }

    /** erf to ~1e-14: the Maclaurin series below 2.5, the continued fraction of erfc above. */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 2.5) {
            double term = a, sum = a, x2 = a * a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))), evaluated from the tail
            double f = a;
            for (int k = 60; k >= 1; k--) f = a + (k / 2.0) / f;
            r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}

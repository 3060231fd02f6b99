package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.UnaryOp;

/** Elementwise kernels: unary functions and their derivatives, broadcast binary ops, where. */
final class CpuElementwise {
    private CpuElementwise() {}

    static void unary(UnaryOp op, CpuStorage x, CpuStorage out, float a, float b) {
        float[] xv = x.data, ov = out.data;
        int xb = x.base, ob = out.base;
        Parallel.forRange((int) x.length(), 16384, (from, to) -> {
            // the cheapest ops get loops of their own (they vectorise); the rest share one
            switch (op) {
                case ADD_SCALAR -> { for (int i = from; i < to; i++) ov[ob + i] = xv[xb + i] + a; }
                case MUL_SCALAR -> { for (int i = from; i < to; i++) ov[ob + i] = xv[xb + i] * a; }
                case NEG -> { for (int i = from; i < to; i++) ov[ob + i] = -xv[xb + i]; }
                case SQUARE -> { for (int i = from; i < to; i++) ov[ob + i] = xv[xb + i] * xv[xb + i]; }
                case RELU -> { for (int i = from; i < to; i++) ov[ob + i] = Math.max(xv[xb + i], 0f); }
                // a float product is exact in double, so float arithmetic gives f's result bit for bit
                case LEAKY_RELU -> { for (int i = from; i < to; i++) { float v = xv[xb + i]; ov[ob + i] = v > 0 ? v : a * v; } }
                default -> { for (int i = from; i < to; i++) ov[ob + i] = f(op, xv[xb + i], a, b); }
            }
        });
    }

    static void unaryBackward(UnaryOp op, CpuStorage x, CpuStorage gradOut, CpuStorage gradIn, float a, float b) {
        float[] xv = x.data, gv = gradOut.data, ov = gradIn.data;
        int xb = x.base, gb = gradOut.base, ob = gradIn.base;
        Parallel.forRange((int) x.length(), 16384, (from, to) -> {
            for (int i = from; i < to; i++) ov[ob + i] = gradTimes(gv[gb + i], df(op, xv[xb + i], a, b));
        });
    }

    /**
     * gradOut * f'(x), where a zero derivative gives exactly 0 even for an infinite or NaN
     * gradient: a flat region passes nothing back (PyTorch's relu/clamp backward agree).
     */
    static float gradTimes(float g, double d) {
        return d == 0 ? 0f : (float) (g * d);
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double INV_SQRT_2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    /** The function itself, evaluated in double and rounded once. */
    static float f(UnaryOp op, float xf, float a, float b) {
        double x = xf;
        return (float) switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> sigmoid(x);
            case SILU -> x * sigmoid(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
            case GELU_ERF -> 0.5 * x * (1 + erf(x * INV_SQRT_2));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x > 0 ? x : a * x;
            case SOFTPLUS -> a * x > b ? x : Math.log1p(Math.exp(a * x)) / a;
            case CLAMP -> Math.min(Math.max(x, a), b);
            case POW_SCALAR -> Math.pow(x, a);
            case ADD_SCALAR -> xf + a;     // float addition, as a user of float32 expects
            case MUL_SCALAR -> xf * a;
            case SOFTSHRINK -> x > a ? x - a : x < -a ? x + a : 0;
        };
    }

    /** f'(x). */
    static double df(UnaryOp op, float xf, float a, float b) {
        double x = xf;
        return switch (op) {
            case NEG -> -1;
            case EXP -> Math.exp(x);
            case LOG -> 1 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case ABS -> x > 0 ? 1 : x < 0 ? -1 : 0;
            case TANH -> { double t = Math.tanh(x); yield 1 - t * t; }
            case SIGMOID -> { double s = sigmoid(x); yield s * (1 - s); }
            case SILU -> { double s = sigmoid(x); yield s * (1 + x * (1 - s)); }
            case SQUARE -> 2 * x;
            case RECIPROCAL -> -1 / (x * x);
            case GELU_ERF -> 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
            case GELU_TANH -> {
                double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
                double t = Math.tanh(u);
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
            }
            case RELU -> x > 0 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : a;
            case SOFTPLUS -> a * x > b ? 1 : sigmoid(a * x);
            case CLAMP -> x >= a && x <= b ? 1 : 0;
            case POW_SCALAR -> a == 0 ? 0 : a * Math.pow(x, a - 1);
            case ADD_SCALAR -> 1;
            case MUL_SCALAR -> a;
            case SOFTSHRINK -> x > a || x < -a ? 1 : 0;
        };
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** erf(x) from the Chebyshev fit of erfc in Numerical Recipes (fractional error below 1.2e-7). */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }

    /**
     * ADD, SUB and MUL of a contiguous run of a with a contiguous run of b (sj 1) or one value of
     * b (sj 0: a broadcast bias or scale) as plain indexed loops, which the JIT vectorises (the
     * general loops below step by variable strides and do not). Returns false for other ops.
     */
    private static boolean unitStride(BinaryOp op, float[] av, int i, float[] bv, int j, int sj, float[] ov, int o, int n) {
        if (sj == 0) {
            float c = bv[j];
            switch (op) {
                case ADD -> { for (int k = 0; k < n; k++) ov[o + k] = av[i + k] + c; }
                case SUB -> { for (int k = 0; k < n; k++) ov[o + k] = av[i + k] - c; }
                case MUL -> { for (int k = 0; k < n; k++) ov[o + k] = av[i + k] * c; }
                default -> { return false; }
            }
            return true;
        }
        switch (op) {
            case ADD -> { for (int k = 0; k < n; k++) ov[o + k] = av[i + k] + bv[j + k]; }
            case SUB -> { for (int k = 0; k < n; k++) ov[o + k] = av[i + k] - bv[j + k]; }
            case MUL -> { for (int k = 0; k < n; k++) ov[o + k] = av[i + k] * bv[j + k]; }
            default -> { return false; }
        }
        return true;
    }

    static void binary(BinaryOp op, CpuStorage a, int[] aShape, CpuStorage b, int[] bShape, CpuStorage out, int[] outShape) {
        float[] av = a.data, bv = b.data, ov = out.data;
        StridedLoop loop = StridedLoop.of(outShape, StridedLoop.contiguousStrides(outShape),
                StridedLoop.broadcastStrides(aShape, outShape), StridedLoop.broadcastStrides(bShape, outShape));
        loop.run(new long[] {out.base, a.base, b.base}, (off, step, n) -> {
            int o = (int) off[0], i = (int) off[1], j = (int) off[2];
            int si = (int) step[1], sj = (int) step[2];
            if (si == 1 && (sj == 1 || sj == 0) && unitStride(op, av, i, bv, j, sj, ov, o, n)) return;
            switch (op) {
                case ADD -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] + bv[j]; }
                case SUB -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] - bv[j]; }
                case MUL -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] * bv[j]; }
                case DIV -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] / bv[j]; }
                case POW -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = (float) Math.pow(av[i], bv[j]); }
                case MAX -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = Math.max(av[i], bv[j]); }
                case MIN -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = Math.min(av[i], bv[j]); }
                case EQ -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] == bv[j] ? 1f : 0f; }
                case GT -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] > bv[j] ? 1f : 0f; }
                case LT -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] < bv[j] ? 1f : 0f; }
                case GE -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] >= bv[j] ? 1f : 0f; }
                case LE -> { for (int k = 0; k < n; k++, i += si, j += sj) ov[o + k] = av[i] <= bv[j] ? 1f : 0f; }
            }
        });
    }

    static void where(CpuStorage cond, int[] condShape, CpuStorage a, int[] aShape, CpuStorage b, int[] bShape, CpuStorage out, int[] outShape) {
        float[] cv = cond.data, av = a.data, bv = b.data, ov = out.data;
        StridedLoop loop = StridedLoop.of(outShape, StridedLoop.contiguousStrides(outShape), StridedLoop.broadcastStrides(condShape, outShape),
                StridedLoop.broadcastStrides(aShape, outShape), StridedLoop.broadcastStrides(bShape, outShape));
        loop.run(new long[] {out.base, cond.base, a.base, b.base}, (off, step, n) -> {
            int o = (int) off[0], c = (int) off[1], i = (int) off[2], j = (int) off[3];
            int sc = (int) step[1], si = (int) step[2], sj = (int) step[3];
            for (int k = 0; k < n; k++, c += sc, i += si, j += sj) ov[o + k] = cv[c] != 0f ? av[i] : bv[j];
        });
    }
}

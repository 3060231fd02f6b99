package dev.moesr.tensor.cpu;

/**
 * SiLU and its gradient over runs of a float array, in float precision:
 * {@code silu(a) = a / (1 + exp(-a))} and {@code g * silu'(a) = g * s * (1 + a * (1 - s))} with
 * {@code s = 1 / (1 + exp(-a))}, where exp is a float exponential within an ulp or two. The fused
 * group norm uses it; the Vector API version is about ten times faster than the double-precision
 * scalar exponential of the SILU unary op, which is what made SiLU, not the normalisation, the
 * cost of group norm + SiLU on the CPU.
 */
abstract class SiluKernel {
    /** {@code a[off + k] = silu(a[off + k])} for k < len. */
    abstract void siluInPlace(float[] a, int off, int len);

    /** {@code a[off + k] = g[gOff + k] * silu'(a[off + k])} for k < len. */
    abstract void siluGradInPlace(float[] a, int off, float[] g, int gOff, int len);

    /**
     * The Vector API kernel when the incubator module was loaded, else the scalar one; decided
     * once; {@code -Dmoesr.scalar=true} forces the scalar kernel (as for the GEMM micro-kernel).
     */
    static SiluKernel best() { return Holder.BEST; }

    private static final class Holder {
        static final SiluKernel BEST = VectorKernels.choose(SiluKernel.class, "VectorSiluKernel", Scalar.INSTANCE);
    }

    /** The same formulas one element at a time, with Math.exp rounded to float. */
    static final class Scalar extends SiluKernel {
        static final Scalar INSTANCE = new Scalar();

        @Override void siluInPlace(float[] a, int off, int len) {
            for (int k = off; k < off + len; k++) a[k] = a[k] / (1f + (float) Math.exp(-a[k]));
        }

        @Override void siluGradInPlace(float[] a, int off, float[] g, int gOff, int len) {
            for (int k = 0; k < len; k++) {
                float x = a[off + k];
                float s = 1f / (1f + (float) Math.exp(-x));
                a[off + k] = g[gOff + k] * (s * (1f + x * (1f - s)));
            }
        }
    }
}

package dev.moesr.tensor.cpu;

/**
 * exp(x - shift) over a run of a float array, in float precision, returning the sum of the
 * results (accumulated in double): the inner loop of softmax. The Vector API version uses the
 * vectorised float exponential of {@link VectorMath} (within an ulp or two of the exact value) and is several
 * times faster than the double-precision scalar exponential, which made softmax the largest
 * cost of the VQ decoder's attention on the CPU.
 */
abstract class ExpKernel {
    /** {@code dst[dOff + k] = exp(src[sOff + k] - shift)} for k < len, the difference rounded to float (as the GPU kernel); returns their sum. */
    abstract double expShifted(float[] src, int sOff, float[] dst, int dOff, int len, float shift);

    /** The Vector API kernel when the incubator module was loaded, else the scalar one ({@code -Dmoesr.scalar=true} forces it). */
    static ExpKernel best() { return Holder.BEST; }

    private static final class Holder {
        static final ExpKernel BEST = VectorKernels.choose(ExpKernel.class, "VectorExpKernel", Scalar.INSTANCE);
    }

    /** One element at a time, with Math.exp rounded to float. */
    static final class Scalar extends ExpKernel {
        static final Scalar INSTANCE = new Scalar();

        @Override double expShifted(float[] src, int sOff, float[] dst, int dOff, int len, float shift) {
            double sum = 0;
            for (int k = 0; k < len; k++) {
                float e = (float) Math.exp(src[sOff + k] - shift);
                dst[dOff + k] = e;
                sum += e;
            }
            return sum;
        }
    }
}

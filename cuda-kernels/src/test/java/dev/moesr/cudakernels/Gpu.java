package dev.moesr.cudakernels;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Shared pieces of the gpu-tagged tests: the device (or a skip that says why there is none) and
 * the comparison of GPU results with CPU ones.
 */
final class Gpu {
    static final Device CUDA = Device.cuda(0);
    /** Tolerances of the CPU/GPU parity checks (relative to the largest magnitude of the reference). */
    static final double TOL = 1e-5, TOL_TF32 = 1e-3;

    private Gpu() {}

    /** The backend of cuda:0, or skips the test with the reason the device cannot be used. */
    static CudaBackend backend() {
        String why = Backends.unavailableReason(CUDA);
        assumeTrue(why == null, () -> "no usable CUDA device: " + why);
        return (CudaBackend) Backends.get(CUDA);
    }

    /** max |got - ref| / max |ref| (1 when ref is all zeros); NaNs must sit at the same places. */
    static double relErr(String what, float[] ref, float[] got) {
        assertEquals(ref.length, got.length, what + ": length");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            boolean nr = Float.isNaN(ref[i]), ng = Float.isNaN(got[i]);
            if (nr || ng) {
                if (nr != ng) fail(what + ": NaN mismatch at " + i + ": cpu " + ref[i] + ", gpu " + got[i]);
                continue;
            }
            if (Float.isInfinite(ref[i]) || Float.isInfinite(got[i])) {
                if (ref[i] != got[i]) fail(what + ": infinity mismatch at " + i + ": cpu " + ref[i] + ", gpu " + got[i]);
                continue;
            }
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxDiff / Math.max(maxRef, 1e-30);
    }

    static void assertClose(String what, float[] ref, float[] got, double tol) {
        double e = relErr(what, ref, got);
        if (!(e <= tol)) {
            int worst = 0;
            double wd = -1;
            for (int i = 0; i < ref.length; i++) {
                double d = Math.abs((double) got[i] - ref[i]);
                if (d > wd) { wd = d; worst = i; }
            }
            fail(String.format("%s: relative error %.3g > %.1g (worst at %d: cpu %s, gpu %s)", what, e, tol, worst, ref[worst], got[worst]));
        }
    }

    static void assertClose(String what, Tensor ref, Tensor got, double tol) {
        assertEquals(ref.shape(), got.shape(), what + ": shape");
        assertClose(what, ref.toFloatArray(), got.toFloatArray(), tol);
    }

    /** Bit-for-bit equality, except that a NaN matches any NaN (signed zeros and infinities must match). */
    static void assertBitsOrBothNaN(String what, float[] ref, float[] got) {
        assertEquals(ref.length, got.length, what + ": length");
        for (int i = 0; i < ref.length; i++) {
            boolean same = Float.isNaN(ref[i]) ? Float.isNaN(got[i]) : Float.floatToRawIntBits(ref[i]) == Float.floatToRawIntBits(got[i]);
            if (!same) fail(what + ": differs at " + i + " of " + ref.length + ": cpu " + ref[i] + ", gpu " + got[i]);
        }
    }

    /** Bit-for-bit equality (for kernels that must compute exactly what the CPU computes). */
    static void assertBits(String what, float[] ref, float[] got) {
        assertEquals(ref.length, got.length, what + ": length");
        for (int i = 0; i < ref.length; i++) {
            if (Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(got[i])) {
                fail(what + ": differs at " + i + " of " + ref.length + ": cpu " + ref[i] + ", gpu " + got[i]);
            }
        }
    }
}

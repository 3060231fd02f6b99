package dev.moesr.tensor.testing;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one helper that checks an op against its double-precision reference, forward and
 * gradient (in the spirit of tinygrad's helper_test_op):
 * <ol>
 *   <li>forward: the float32 op against the reference evaluated in double;</li>
 *   <li>gradient: the analytic float32 gradient of {@code sum(out * w)}, for a random weight
 *       tensor {@code w}, against central differences of the double reference.</li>
 * </ol>
 * Tolerances are {@code atol + rtol * |reference|}. Complex tensors are compared as their
 * interleaved floats; their gradients hold (dL/dRe, dL/dIm).
 */
public final class OpCheck {
    /** Reference: the inputs as double arrays (complex ones interleaved, shape with a trailing 2). */
    @FunctionalInterface
    public interface Reference {
        Ref apply(Ref... inputs);
    }

    private final String name;
    private final long seed;
    private double atol = 1e-5, rtol = 1e-4;
    private double gradAtol = 1e-3, gradRtol = 1e-2;
    private double h = 1e-6;
    private int maxProbes = 48;

    private OpCheck(String name, long seed) {
        this.name = name;
        this.seed = seed;
    }

    /** A check named for its op, with the seed of the case (printed on failure). */
    public static OpCheck of(String name, long seed) { return new OpCheck(name, seed); }

    public OpCheck forwardTol(double atol, double rtol) { this.atol = atol; this.rtol = rtol; return this; }

    public OpCheck gradTol(double atol, double rtol) { this.gradAtol = atol; this.gradRtol = rtol; return this; }

    /** Step of the central differences (default 1e-6: the reference runs in double). */
    public OpCheck step(double h) { this.h = h; return this; }

    /** At most this many elements of each input are probed by finite differences (default 48). */
    public OpCheck probes(int n) { this.maxProbes = n; return this; }

    /** Runs forward and gradient checks; inputs that need grad get their gradient checked. */
    public void run(Function<Tensor[], Tensor> op, Reference ref, Tensor... inputs) {
        try (Scope scope = Scope.open()) {
            Ref[] refIn = new Ref[inputs.length];
            for (int i = 0; i < inputs.length; i++) refIn[i] = toRef(inputs[i]);
            Tensor out = op.apply(inputs);
            Ref expected = ref.apply(refIn);
            Ref got = toRef(out);
            if (!Arrays.equals(got.shape, expected.shape)) {
                fail(where() + ": forward shape " + Arrays.toString(got.shape) + ", reference " + Arrays.toString(expected.shape));
            }
            compare("forward", got.v, expected.v, atol, rtol);

            boolean anyGrad = false;
            for (Tensor t : inputs) anyGrad |= t.needsGrad();
            if (!anyGrad) return;
            SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
            double[] w = new double[got.v.length];
            float[] wf = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                wf[i] = (float) (r.nextDouble() * 2 - 1);
                w[i] = wf[i];
            }
            for (Tensor t : inputs) t.zeroGrad();
            Tensor weights = out.isComplex() ? Tensor.ofComplex(wf, out.dims()) : Tensor.of(wf, out.dims());
            Tensor weighted = out.isComplex() ? out.real().mul(weights.real()).add(out.imag().mul(weights.imag())) : out.mul(weights);
            weighted.sum().backward();
            for (int i = 0; i < inputs.length; i++) {
                Tensor t = inputs[i];
                if (!t.needsGrad()) continue;
                if (t.grad() == null) fail(where() + ": input " + i + " got no gradient");
                double[] analytic = toDoubles(t.grad().toFloatArray());
                double[] numeric = new double[analytic.length];
                boolean[] probed = new boolean[analytic.length];
                int[] order = probeOrder(analytic.length, r);
                for (int j : order) {
                    double[] x = refIn[i].v;
                    double saved = x[j];
                    x[j] = saved + h;
                    double plus = dot(ref.apply(refIn).v, w);
                    x[j] = saved - h;
                    double minus = dot(ref.apply(refIn).v, w);
                    x[j] = saved;
                    numeric[j] = (plus - minus) / (2 * h);
                    probed[j] = true;
                }
                for (int j = 0; j < analytic.length; j++) {
                    if (!probed[j]) continue;
                    double tol = gradAtol + gradRtol * Math.abs(numeric[j]);
                    if (!(Math.abs(analytic[j] - numeric[j]) <= tol)) {
                        fail(where() + ": gradient of input " + i + " " + Arrays.toString(t.dims()) + " at flat index " + j
                                + ": analytic " + analytic[j] + ", central difference " + numeric[j]);
                    }
                }
            }
            for (Tensor t : inputs) t.zeroGrad();
        }
    }

    private int[] probeOrder(int n, SplittableRandom r) {
        if (n <= maxProbes) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int[] pick = new int[maxProbes];
        for (int i = 0; i < maxProbes; i++) pick[i] = r.nextInt(n);
        return pick;
    }

    private void compare(String what, double[] got, double[] expected, double atol, double rtol) {
        for (int i = 0; i < got.length; i++) {
            double tol = atol + rtol * Math.abs(expected[i]);
            boolean bothNan = Double.isNaN(got[i]) && Double.isNaN(expected[i]);
            boolean sameInf = Double.isInfinite(expected[i]) && got[i] == expected[i];
            if (!bothNan && !sameInf && !(Math.abs(got[i] - expected[i]) <= tol)) {
                fail(where() + ": " + what + " value at flat index " + i + ": got " + got[i] + ", reference " + expected[i]);
            }
        }
    }

    private String where() { return name + " (seed " + seed + ")"; }

    /** A tensor's values as a reference array (complex: interleaved, trailing dimension 2). */
    public static Ref toRef(Tensor t) {
        double[] v = toDoubles(t.toFloatArray());
        int[] s = t.dims();
        if (t.isComplex()) {
            s = Arrays.copyOf(s, s.length + 1);
            s[s.length - 1] = 2;
        }
        return new Ref(v, s);
    }

    static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}

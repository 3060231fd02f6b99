package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReductionOpsTest {

    static Stream<Long> cases() { return Gen.seeds("reduce", 40); }

    enum Kind { SUM, MEAN, VAR, MAX, MIN }

    /** Reference reduction in double over the dims marked in {@code m}. */
    static Ref reduce(Ref x, boolean[] m, boolean keepDim, Kind kind, int correction) {
        List<Integer> outDims = new ArrayList<>();
        int[] kept = x.shape.clone();
        for (int i = 0; i < m.length; i++) {
            if (m[i]) kept[i] = 1;
            if (!m[i] || keepDim) outDims.add(kept[i]);
        }
        Ref k = Ref.zeros(kept);
        int count = x.numel() / Math.max(1, k.numel());
        double[] best = new double[k.numel()];
        java.util.Arrays.fill(best, kind == Kind.MAX ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
        double[] sum = new double[k.numel()];
        for (int i = 0; i < x.numel(); i++) {
            int[] idx = x.index(i);
            for (int d = 0; d < m.length; d++) if (m[d]) idx[d] = 0;
            int o = k.at(idx);
            sum[o] += x.v[i];
            best[o] = kind == Kind.MAX ? Math.max(best[o], x.v[i]) : Math.min(best[o], x.v[i]);
        }
        if (kind == Kind.VAR) {
            double[] ss = new double[k.numel()];
            for (int i = 0; i < x.numel(); i++) {
                int[] idx = x.index(i);
                for (int d = 0; d < m.length; d++) if (m[d]) idx[d] = 0;
                int o = k.at(idx);
                double c = x.v[i] - sum[o] / count;
                ss[o] += c * c;
            }
            for (int o = 0; o < ss.length; o++) k.v[o] = ss[o] / (count - correction);
        } else {
            for (int o = 0; o < k.numel(); o++) {
                k.v[o] = switch (kind) {
                    case SUM -> sum[o];
                    case MEAN -> sum[o] / count;
                    case MAX, MIN -> best[o];
                    case VAR -> throw new AssertionError();
                };
            }
        }
        return new Ref(k.v, outDims.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void check(Kind kind, long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 5);
        boolean[] m = new boolean[s.length];
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            if (g.nextBoolean()) { m[i] = true; dims.add(g.nextBoolean() ? i : i - s.length); }
        }
        if (dims.isEmpty()) { m[0] = true; dims.add(0); }
        int[] d = dims.stream().mapToInt(Integer::intValue).toArray();
        boolean keep = g.nextBoolean();
        if (kind == Kind.VAR) {
            // the unbiased variance needs at least two reduced elements
            for (int i = 0; i < s.length; i++) if (m[i]) { s[i] = Math.max(s[i], 2); break; }
        }
        Tensor x = Tensor.of(g.floats(Gen.numel(s), -2, 2), s).requiresGrad();
        int[] fd = d;
        OpCheck.of(kind.name().toLowerCase(), seed).run(in -> switch (kind) {
            case SUM -> in[0].sum(fd, keep);
            case MEAN -> in[0].mean(fd, keep);
            case VAR -> in[0].var(fd, keep, 1);
            case MAX -> { if (fd.length == 1) yield in[0].max(fd[0], keep); yield Reductions.max(in[0], fd, keep); }
            case MIN -> { if (fd.length == 1) yield in[0].min(fd[0], keep); yield Reductions.min(in[0], fd, keep); }
        }, r -> reduce(r[0], m, keep, kind, 1), x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void sum(long seed) { check(Kind.SUM, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void mean(long seed) { check(Kind.MEAN, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void var(long seed) { check(Kind.VAR, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void max(long seed) { check(Kind.MAX, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void min(long seed) { check(Kind.MIN, seed); }

    @Test
    void argmaxAndArgminPickFirstOfTies() {
        Tensor x = Tensor.of(new float[] {1, 5, 5, 0, -2, 7, 7, -2}, 2, 4);
        assertArrayEquals(new float[] {1, 1}, x.argmax(1, false).toFloatArray());
        assertArrayEquals(new float[] {3, 0}, x.argmin(1, false).toFloatArray());
        assertArrayEquals(new int[] {2, 1}, x.argmax(-1, true).dims());
        assertArrayEquals(new float[] {0, 1, 1, 0}, x.argmax(0, false).toFloatArray());
    }

    /** The last-dimension fast path against a double-precision reference: ties to the first, the first NaN over all, infinities. */
    @Test
    void argAlongTheLastDimensionMatchesTheReferenceWithTiesNaNsAndInfinities() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        float[] pool = {0f, 1f, -1f, 2.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f};
        for (int trial = 0; trial < 300; trial++) {
            int rows = 1 + rng.nextInt(5), cols = 1 + rng.nextInt(9);
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) v[i] = rng.nextInt(4) == 0 ? pool[rng.nextInt(pool.length)] : rng.nextInt(5) - 2;
            Tensor x = Tensor.of(v, rows, cols);
            float[] mins = x.argmin(1, false).toFloatArray(), maxs = x.argmax(1, false).toFloatArray();
            for (int r = 0; r < rows; r++) {
                int lo = 0, hi = 0, nan = -1;
                for (int c = 0; c < cols; c++) {
                    double e = v[r * cols + c];
                    if (Double.isNaN(e) && nan < 0) nan = c;
                    if (e < v[r * cols + lo]) lo = c;
                    if (e > v[r * cols + hi]) hi = c;
                }
                if (Double.isNaN(v[r * cols])) lo = hi = 0;   // a NaN first: nothing compares below or above it
                assertEquals(nan >= 0 ? nan : lo, (int) mins[r], "argmin of row " + java.util.Arrays.toString(java.util.Arrays.copyOfRange(v, r * cols, (r + 1) * cols)));
                assertEquals(nan >= 0 ? nan : hi, (int) maxs[r], "argmax of row " + java.util.Arrays.toString(java.util.Arrays.copyOfRange(v, r * cols, (r + 1) * cols)));
            }
        }
    }

    @Test
    void maxGradientSplitsBetweenTies() {
        Tensor x = Tensor.of(new float[] {3, 1, 3}, 3).requiresGrad();
        x.max().backward();
        assertArrayEquals(new float[] {0.5f, 0, 0.5f}, x.grad().toFloatArray());
    }

    @Test
    void sumOfEmptyIsZero() {
        assertEquals(0f, Tensor.zeros(0, 4).sum().item());
    }

    // ---- softmax ----------------------------------------------------------------------------

    /** Reference (log-)softmax along axis in double, with the max subtracted as in any careful implementation. */
    static Ref softmaxRef(Ref x, int axis, boolean log) {
        Ref out = Ref.zeros(x.shape);
        int n = x.shape[axis], stride = x.strides()[axis];
        for (int i = 0; i < x.numel(); i++) {
            if (x.index(i)[axis] != 0) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < n; k++) max = Math.max(max, x.v[i + k * stride]);
            double sum = 0;
            for (int k = 0; k < n; k++) sum += Math.exp(x.v[i + k * stride] - max);
            for (int k = 0; k < n; k++) {
                double z = x.v[i + k * stride] - max;
                out.v[i + k * stride] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return out;
    }

    private static void checkSoftmax(long seed, boolean log) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 5);
        int axis = g.nextInt(0, s.length - 1);
        int dim = g.nextBoolean() ? axis : axis - s.length;
        // an offset far from zero: exp without the max subtracted would overflow float32
        double offset = g.pick(new Double[] {0.0, 80.0, -300.0});
        Tensor x = Tensor.of(g.floats(Gen.numel(s), offset - 3, offset + 3), s).requiresGrad();
        OpCheck.of(log ? "log_softmax" : "softmax", seed)
                .forwardTol(log ? 1e-4 : 1e-6, 1e-4)
                .run(in -> log ? in[0].logSoftmax(dim) : in[0].softmax(dim), r -> softmaxRef(r[0], axis, log), x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void softmax(long seed) { checkSoftmax(seed, false); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void logSoftmax(long seed) { checkSoftmax(seed, true); }

    @Test
    void softmaxOfHugeValuesStaysFinite() {
        Tensor x = Tensor.of(new float[] {1e30f, 1e30f, -1e30f, 0, 0, 0}, 2, 3);
        assertArrayEquals(new float[] {0.5f, 0.5f, 0, 1 / 3f, 1 / 3f, 1 / 3f}, x.softmax(1).toFloatArray(), 1e-7f);
        float[] ls = x.logSoftmax(-1).toFloatArray();
        assertEquals((float) -Math.log(2), ls[0], 1e-6f);
        assertEquals(-2e30f, ls[2], 1e24f);
        assertTrue(Float.isFinite(ls[2]));
    }

    @Test
    void softmaxOfSizeOneAndEmptyDims() {
        assertArrayEquals(new float[] {1, 1, 1}, Tensor.of(new float[] {4, -2, 7}, 3, 1).softmax(1).toFloatArray());
        assertArrayEquals(new float[] {0, 0, 0}, Tensor.of(new float[] {4, -2, 7}, 3, 1).logSoftmax(-1).toFloatArray());
        Tensor empty = Tensor.zeros(0, 4).requiresGrad();
        Tensor y = empty.softmax(1);
        assertArrayEquals(new int[] {0, 4}, y.dims());
        y.sum().backward();
        assertArrayEquals(new int[] {0, 4}, empty.grad().dims());
        assertArrayEquals(new int[] {3, 0}, Tensor.zeros(3, 0).softmax(0).dims());
        assertEquals(1f, Tensor.scalar(3).softmax(0).item());
    }

    @Test
    void softmaxRejectsComplexAndBadDims() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).softmax(2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.scalar(1).softmax(1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofComplex(new float[] {1, 2}, 1).softmax(0));
    }
}

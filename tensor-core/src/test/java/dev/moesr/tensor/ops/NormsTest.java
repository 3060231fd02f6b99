package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NormsTest {

    static Stream<Long> cases() { return Gen.seeds("norms", 30); }

    /**
     * Reference normalisation in double: elements with the same key are normalised together
     * (population variance), then scaled and shifted by weight/bias picked by {@code param}.
     */
    static Ref normalize(Ref x, double eps, java.util.function.IntUnaryOperator key, int keys,
                         Ref weight, Ref bias, java.util.function.IntUnaryOperator param) {
        double[] sum = new double[keys], count = new double[keys], ss = new double[keys];
        for (int i = 0; i < x.numel(); i++) { sum[key.applyAsInt(i)] += x.v[i]; count[key.applyAsInt(i)]++; }
        for (int i = 0; i < x.numel(); i++) {
            int k = key.applyAsInt(i);
            double c = x.v[i] - sum[k] / count[k];
            ss[k] += c * c;
        }
        Ref out = Ref.zeros(x.shape);
        for (int i = 0; i < x.numel(); i++) {
            int k = key.applyAsInt(i);
            double y = (x.v[i] - sum[k] / count[k]) / Math.sqrt(ss[k] / count[k] + eps);
            if (weight != null) y *= weight.v[param.applyAsInt(i)];
            if (bias != null) y += bias.v[param.applyAsInt(i)];
            out.v[i] = y;
        }
        return out;
    }

    /**
     * An input, sometimes off-centre. Offsets stay moderate: with only a few elements per group
     * the spread can be small, and float32 rounding of the mean (half an ulp of the offset)
     * divided by that spread is an error no float32 implementation avoids; large offsets get
     * their own test below.
     */
    static Tensor input(Gen g, int[] s) {
        double offset = g.pick(new Double[] {0.0, 0.0, 8.0, -5.0});
        return Tensor.of(g.floats(Gen.numel(s), offset - 2, offset + 2), s).requiresGrad();
    }

    /** A per-channel or per-feature parameter, or null. */
    static Tensor param(Gen g, int[] s) {
        return g.nextInt(0, 3) == 0 ? null : g.leaf(s, -1.5, 1.5);
    }

    /** Runs OpCheck with the null parameters left out of the input list. */
    static void run(String name, long seed, double atol, java.util.function.Function<Tensor[], Tensor> op,
                    java.util.function.Function<Ref[], Ref> ref, Tensor x, Tensor weight, Tensor bias) {
        List<Tensor> in = new ArrayList<>(List.of(x));
        if (weight != null) in.add(weight);
        if (bias != null) in.add(bias);
        boolean hasW = weight != null, hasB = bias != null;
        OpCheck.of(name, seed).forwardTol(atol, 1e-4).run(
                t -> op.apply(new Tensor[] {t[0], hasW ? t[1] : null, hasB ? t[hasW ? 2 : 1] : null}),
                r -> ref.apply(new Ref[] {r[0], hasW ? r[1] : null, hasB ? r[hasW ? 2 : 1] : null}),
                in.toArray(new Tensor[0]));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void groupNorm(long seed) {
        Gen g = new Gen(seed);
        int groups = g.nextInt(1, 3), c = groups * g.nextInt(1, 3);
        int[] s = new int[g.nextInt(2, 4)];
        s[0] = g.nextInt(1, 2);
        s[1] = c;
        for (int i = 2; i < s.length; i++) s[i] = g.nextInt(1, 3);
        // with one channel per group and no spatial dims a group holds one element: normalised to 0
        int spatial = Gen.numel(s) / s[0] / c;
        float eps = g.pick(new Float[] {1e-5f, 1e-6f, 0.1f});
        int cPer = c / groups;
        run("groupNorm", seed, 1e-4, t -> t[0].groupNorm(groups, t[1], t[2], eps),
                r -> normalize(r[0], eps, i -> i / (cPer * spatial), s[0] * groups, r[1], r[2], i -> i / spatial % c),
                input(g, s), param(g, new int[] {c}), param(g, new int[] {c}));
    }

    /** silu(y) = y * sigmoid(y) of every element, in double. */
    static Ref silu(Ref y) {
        Ref out = Ref.zeros(y.shape);
        for (int i = 0; i < y.numel(); i++) out.v[i] = y.v[i] / (1 + Math.exp(-y.v[i]));
        return out;
    }

    /**
     * The fused kernel with and without SiLU over the shapes the random test above rarely
     * reaches: one group, one channel per group, odd channel and spatial sizes, spatial size 1,
     * rank 2 (no spatial dimensions) up to rank 5.
     */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void fusedGroupNormAndSiluOverEdgeShapes(long seed) {
        Gen g = new Gen(seed);
        int c = g.pick(new Integer[] {1, 3, 5, 6, 9});
        int[] divisors = java.util.stream.IntStream.rangeClosed(1, c).filter(d -> c % d == 0).toArray();
        int groups = g.pick(new Integer[] {1, c, divisors[g.nextInt(0, divisors.length - 1)]});
        int[] s = new int[g.nextInt(2, 5)];
        s[0] = g.nextInt(1, 3);
        s[1] = c;
        for (int i = 2; i < s.length; i++) s[i] = g.pick(new Integer[] {1, 1, 2, 3, 5});
        int spatial = Gen.numel(s) / s[0] / c, cPer = c / groups;
        float eps = g.pick(new Float[] {1e-5f, 1e-6f, 0.1f});
        boolean withSilu = g.nextBoolean();
        java.util.function.Function<Ref[], Ref> norm =
                r -> normalize(r[0], eps, i -> i / (cPer * spatial), s[0] * groups, r[1], r[2], i -> i / spatial % c);
        // a group of a single element normalises to 0 for every x: its gradient is 0 and is checked as such
        run(withSilu ? "groupNormSilu" : "groupNorm", seed, 1e-4,
                t -> withSilu ? t[0].groupNormSilu(groups, t[1], t[2], eps) : t[0].groupNorm(groups, t[1], t[2], eps),
                r -> withSilu ? silu(norm.apply(r)) : norm.apply(r),
                input(g, s), param(g, new int[] {c}), param(g, new int[] {c}));
    }

    /** groupNormSilu is exactly groupNorm followed by silu, values and gradients. */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void groupNormSiluMatchesTheComposition(long seed) {
        Gen g = new Gen(seed);
        int groups = g.nextInt(1, 4), c = groups * g.nextInt(1, 3);
        int[] s = {g.nextInt(1, 2), c, g.nextInt(1, 4), g.nextInt(1, 4)};
        int spatial = s[2] * s[3], cPer = c / groups;
        run("groupNormSilu", seed, 1e-4, t -> t[0].groupNormSilu(groups, t[1], t[2], 1e-5f),
                r -> silu(normalize(r[0], 1e-5, i -> i / (cPer * spatial), s[0] * groups, r[1], r[2], i -> i / spatial % c)),
                input(g, s), g.leaf(new int[] {c}, -1.5, 1.5), g.leaf(new int[] {c}, -1.5, 1.5));
        Tensor x = input(g, s), w = g.leaf(new int[] {c}, -1.5, 1.5), b = g.leaf(new int[] {c}, -1.5, 1.5);
        float[] fused = x.groupNormSilu(groups, w, b, 1e-5f).toFloatArray();
        float[] composed = x.groupNorm(groups, w, b, 1e-5f).silu().toFloatArray();
        // the fused SiLU is float arithmetic (a / (1 + exp(-a))), the SILU op rounds a double once: a few ulps apart
        for (int i = 0; i < fused.length; i++) assertEquals(composed[i], fused[i], 1e-6 * (1 + Math.abs(composed[i])), "at " + i);
    }

    /**
     * The fused kernel keeps the statistics of an input far from zero: x + 1000 normalised and
     * its gradients match the double reference as closely as the centred input does.
     */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void groupNormGradientsSurviveALargeOffset(long seed) {
        Gen g = new Gen(seed);
        int groups = g.nextInt(1, 2), c = groups * 2;
        int[] s = {1, c, 4, 4};
        int spatial = 16, cPer = 2;
        float[] v = g.floats(Gen.numel(s), 999, 1001);
        boolean withSilu = g.nextBoolean();
        java.util.function.Function<Ref[], Ref> norm =
                r -> normalize(r[0], 1e-5, i -> i / (cPer * spatial), groups, r[1], r[2], i -> i / spatial % c);
        OpCheck.of("groupNorm at 1000", seed).forwardTol(3e-4, 1e-4).gradTol(3e-3, 3e-3).step(1e-2).run(
                t -> withSilu ? t[0].groupNormSilu(groups, t[1], t[2], 1e-5f) : t[0].groupNorm(groups, t[1], t[2], 1e-5f),
                r -> withSilu ? silu(norm.apply(r)) : norm.apply(r),
                Tensor.of(v, s).requiresGrad(), g.leaf(new int[] {c}, -1.5, 1.5), g.leaf(new int[] {c}, -1.5, 1.5));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void layerNorm(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 4);
        int k = g.nextInt(1, s.length);
        int[] normalized = Arrays.copyOfRange(s, s.length - k, s.length);
        int features = Gen.numel(normalized);
        float eps = g.pick(new Float[] {1e-5f, 1e-3f});
        run("layerNorm", seed, 1e-4, t -> t[0].layerNorm(normalized, t[1], t[2], eps),
                r -> normalize(r[0], eps, i -> i / features, Gen.numel(s) / features, r[1], r[2], i -> i % features),
                input(g, s), param(g, normalized), param(g, normalized));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void batchNormTraining(long seed) {
        Gen g = new Gen(seed);
        int[] s = new int[g.nextInt(2, 4)];
        s[0] = g.nextInt(1, 3);
        s[1] = g.nextInt(1, 3);
        for (int i = 2; i < s.length; i++) s[i] = g.nextInt(1, 3);
        if (Gen.numel(s) / s[1] < 2) s[0] = 2;   // training needs two values per channel
        int c = s[1], spatial = Gen.numel(s) / s[0] / c;
        float eps = 1e-5f;
        run("batchNorm training", seed, 1e-4, t -> t[0].batchNorm(null, null, t[1], t[2], true, 0.1f, eps),
                r -> normalize(r[0], eps, i -> i / spatial % c, c, r[1], r[2], i -> i / spatial % c),
                input(g, s), param(g, new int[] {c}), param(g, new int[] {c}));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void batchNormEvaluation(long seed) {
        Gen g = new Gen(seed);
        int[] s = {g.nextInt(1, 3), g.nextInt(1, 3), g.nextInt(1, 3)};
        int c = s[1], spatial = s[2];
        float eps = 1e-5f;
        float[] mean = g.floats(c, -1, 1), var = g.floats(c, 0.2, 2);
        Tensor rm = Tensor.of(mean, c), rv = Tensor.of(var, c);
        run("batchNorm eval", seed, 1e-5, t -> t[0].batchNorm(rm, rv, t[1], t[2], false, 0.1f, eps), r -> {
            Ref out = Ref.zeros(r[0].shape);
            for (int i = 0; i < out.numel(); i++) {
                int ch = i / spatial % c;
                double y = (r[0].v[i] - mean[ch]) / Math.sqrt(var[ch] + (double) eps);
                if (r[1] != null) y *= r[1].v[ch];
                if (r[2] != null) y += r[2].v[ch];
                out.v[i] = y;
            }
            return out;
        }, Tensor.of(g.floats(Gen.numel(s), -2, 2), s).requiresGrad(), param(g, new int[] {c}), param(g, new int[] {c}));
        // evaluation leaves the running statistics alone
        assertArrayEquals(mean, rm.toFloatArray());
        assertArrayEquals(var, rv.toFloatArray());
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void batchNormUpdatesRunningStatisticsInPlace(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 3), c = g.nextInt(1, 3), hw = g.nextInt(2, 5);
        float momentum = (float) g.nextDouble(0.05, 0.9);
        float[] x = g.floats(n * c * hw, -2, 2), mean0 = g.floats(c, -1, 1), var0 = g.floats(c, 0.5, 2);
        Tensor rm = Tensor.of(mean0, c), rv = Tensor.of(var0, c);
        Tensor rmView = rm.reshape(1, c);   // shares rm's storage: it must see the update too
        Tensor.of(x, n, c, hw).requiresGrad().batchNorm(rm, rv, null, null, true, momentum, 1e-5f).sum().backward();
        for (int ch = 0; ch < c; ch++) {
            double sum = 0, ss = 0;
            int count = n * hw;
            for (int b = 0; b < n; b++) for (int k = 0; k < hw; k++) sum += x[(b * c + ch) * hw + k];
            double mu = sum / count;
            for (int b = 0; b < n; b++) for (int k = 0; k < hw; k++) ss += Math.pow(x[(b * c + ch) * hw + k] - mu, 2);
            assertEquals((1 - momentum) * mean0[ch] + momentum * mu, rm.toFloatArray()[ch], 1e-5, "running mean " + ch);
            assertEquals((1 - momentum) * var0[ch] + momentum * ss / (count - 1), rv.toFloatArray()[ch], 1e-5, "running var " + ch);
        }
        assertArrayEquals(rm.toFloatArray(), rmView.toFloatArray());
        assertFalse(rm.needsGrad() || rv.needsGrad(), "running statistics are buffers, not part of the graph");
    }

    /**
     * A large mean must not cancel the variance: with x = 1000 + u, a one-pass E[x^2] - E[x]^2 in
     * float32 loses the variance to rounding (an ulp of 1e6 is 0.06), the two-pass form keeps it.
     */
    @Test
    void largeMeanDoesNotCancelTheVariance() {
        Gen g = new Gen(7);
        float[] v = g.floats(2 * 4 * 64, -1, 1);
        for (int i = 0; i < v.length; i++) v[i] += 1000;
        Tensor x = Tensor.of(v, 2, 4, 8, 8);
        Ref ref = OpCheck.toRef(x);
        double[] want = normalize(ref, 1e-5, i -> i / 128, 4, null, null, i -> 0).v;
        float[] got = x.groupNorm(2, null, null, 1e-5f).toFloatArray();
        float[] gotSilu = x.groupNormSilu(2, null, null, 1e-5f).toFloatArray();
        float[] ln = x.layerNorm(new int[] {8, 8}, null, null, 1e-5f).toFloatArray();
        double[] wantLn = normalize(ref, 1e-5, i -> i / 64, 8, null, null, i -> 0).v;
        float[] bn = x.batchNorm(null, null, null, null, true, 0.1f, 1e-5f).toFloatArray();
        double[] wantBn = normalize(ref, 1e-5, i -> i / 64 % 4, 4, null, null, i -> 0).v;
        for (int i = 0; i < v.length; i++) {
            assertEquals(want[i], got[i], 3e-4, "groupNorm at " + i);
            assertEquals(want[i] / (1 + Math.exp(-want[i])), gotSilu[i], 3e-4, "groupNormSilu at " + i);
            assertEquals(wantLn[i], ln[i], 3e-4, "layerNorm at " + i);
            assertEquals(wantBn[i], bn[i], 3e-4, "batchNorm at " + i);
        }
    }

    @Test
    void groupNormOfEmptyBatchIsEmpty() {
        Tensor y = Tensor.zeros(0, 4, 3).groupNorm(2, null, null, 1e-5f);
        assertArrayEquals(new int[] {0, 4, 3}, y.dims());
        // the parameters of an empty batch get zero gradients
        Tensor w = Tensor.ones(4).requiresGrad(), b = Tensor.zeros(4).requiresGrad();
        Tensor.zeros(0, 4, 3).groupNormSilu(2, w, b, 1e-5f).sum().backward();
        assertArrayEquals(new float[4], w.grad().toFloatArray());
        assertArrayEquals(new float[4], b.grad().toFloatArray());
    }

    @Test
    void badArgumentsGetClearErrors() {
        Tensor x = Tensor.zeros(2, 6, 3);
        assertMentions("groups", () -> x.groupNorm(4, null, null, 1e-5f));
        assertMentions("[6]", () -> x.groupNorm(3, Tensor.ones(3), null, 1e-5f));
        assertMentions("got shape [6]", () -> Tensor.zeros(6).groupNorm(3, null, null, 1e-5f));
        assertMentions("groups", () -> x.groupNormSilu(0, null, null, 1e-5f));
        assertMentions("bias", () -> x.groupNormSilu(3, null, Tensor.ones(2), 1e-5f));
        assertMentions("[2, 6, 3]", () -> x.layerNorm(new int[] {6}, null, null, 1e-5f));
        assertMentions("[3]", () -> x.layerNorm(new int[] {3}, Tensor.ones(4), null, 1e-5f));
        assertMentions("more than one value", () -> Tensor.zeros(1, 6).batchNorm(null, null, null, null, true, 0.1f, 1e-5f));
        assertMentions("running", () -> x.batchNorm(null, null, null, null, false, 0.1f, 1e-5f));
        assertMentions("running mean", () -> x.batchNorm(Tensor.zeros(5), Tensor.ones(6), null, null, true, 0.1f, 1e-5f));
    }

    private static void assertMentions(String text, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(text), "message should mention " + text + ": " + e.getMessage());
    }
}

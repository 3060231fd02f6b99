package dev.moesr.diffusion.unet;

import dev.moesr.nn.Parameter;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.AdamW;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Space-MoE: routing, averaged inference and weight sharing, against plain double loops. */
@SuppressWarnings("try")   // scopes in tests only bound a region
class SpaceMoETest {
    private static final String[] EXPERT_PARAMS = {"0.weight", "0.bias", "2.weight", "2.bias"};

    static Stream<Long> seeds() { return Gen.seeds("space moe", 8); }

    /**
     * y[b, :, t] = x[b, :, t] + E(LayerNorm(x[b, :, t])), with E expert {@code group[t]} of the
     * expert weights in {@code w} (per expert: W1, b1, W2, b2), or the mean of the experts when {@code group} is null.
     */
    static Ref reference(Ref x, Ref lnW, Ref lnB, Ref[] w, int experts, int[] group) {
        int b = x.shape[0], c = x.shape[1], len = x.shape[2] * x.shape[3];
        double[][][] p = new double[experts][4][];
        for (int i = 0; i < experts; i++) for (int k = 0; k < 4; k++) p[i][k] = w[4 * i + k].v;
        double[][] mean = new double[4][];
        for (int k = 0; k < 4; k++) {
            mean[k] = new double[p[0][k].length];
            for (int i = 0; i < experts; i++) for (int j = 0; j < mean[k].length; j++) mean[k][j] += p[i][k][j] / experts;
        }
        double[] out = x.v.clone();
        for (int s = 0; s < b; s++) {
            for (int t = 0; t < len; t++) {
                double[] v = new double[c];
                for (int ch = 0; ch < c; ch++) v[ch] = x.v[(s * c + ch) * len + t];
                double[][] e = group == null ? mean : p[group[t]];
                double[] y = Reference.ffn(e[0], e[1], e[2], e[3], Reference.layerNorm(v, lnW.v, lnB.v, 1e-5));
                for (int ch = 0; ch < c; ch++) out[(s * c + ch) * len + t] += y[ch];
            }
        }
        return new Ref(out, x.shape);
    }

    /** The expert of each token position under the next permutation of {@code rng}'s stream (without advancing it). */
    static int[] groupsOf(Philox rng, int len, int experts) {
        int[] perm = new Philox(rng.seed(), rng.counter()).permutation(len);
        int[] group = new int[len];
        for (int k = 0; k < len; k++) group[perm[k]] = k / (len / experts);
        return group;
    }

    /** The layer input and every parameter, as OpCheck inputs (the layer's own tensors, so their gradients are checked). */
    static Tensor[] inputs(SpaceMoE moe, Tensor x) {
        List<Tensor> in = new ArrayList<>(List.of(x, moe.norm().weight().tensor(), moe.norm().bias().tensor()));
        for (int i = 0; i < moe.experts; i++) {
            Map<String, Parameter> p = moe.expert(i).namedParameters();
            for (String name : EXPERT_PARAMS) in.add(p.get(name).tensor());
        }
        return in.toArray(new Tensor[0]);
    }

    static Ref[] expertRefs(Ref[] r, int experts) {
        Ref[] w = new Ref[4 * experts];
        System.arraycopy(r, 3, w, 0, w.length);
        return w;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void routedForwardAndGradientsMatchTheReference(long seed) {
        Gen g = new Gen(seed);
        int experts = g.nextInt(1, 3), c = g.nextInt(2, 5), b = g.nextInt(1, 2), h = experts * g.nextInt(1, 2), w = g.nextInt(1, 3);
        try (Scope s = Scope.open()) {
            SpaceMoE moe = new SpaceMoE(c, experts, new Philox(seed));
            Reference.randomise(moe, g);
            Philox router = new Philox(seed ^ 0x1234, 7);
            moe.setRoutingRng(router);
            int[] group = groupsOf(router, h * w, experts);   // the permutation the forward will draw
            OpCheck.of("routed Space-MoE B" + b + " C" + c + " " + h + "x" + w + ", " + experts + " experts", seed)
                    .run(in -> moe.forward(in[0]), r -> reference(r[0], r[1], r[2], expertRefs(r, experts), experts, group),
                            inputs(moe, g.leaf(new int[] {b, c, h, w}, -2, 2)));
            moe.release();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void averagedInferenceMatchesTheMeanOfTheExpertsWithGradients(long seed) {
        Gen g = new Gen(seed);
        int experts = g.nextInt(1, 4), c = g.nextInt(2, 5), b = g.nextInt(1, 2), h = g.nextInt(1, 3), w = g.nextInt(1, 3);
        try (Scope s = Scope.open()) {
            SpaceMoE moe = new SpaceMoE(c, experts, new Philox(seed));
            Reference.randomise(moe, g);
            moe.eval();
            OpCheck.of("averaged Space-MoE B" + b + " C" + c + " " + h + "x" + w + ", " + experts + " experts", seed)
                    .run(in -> moe.forward(in[0]), r -> reference(r[0], r[1], r[2], expertRefs(r, experts), experts, null),
                            inputs(moe, g.leaf(new int[] {b, c, h, w}, -2, 2)));
            // without gradients the kept averaged FFN gives the same values
            Tensor x = Tensor.of(g.floats(b * c * h * w, -2, 2), b, c, h, w);
            Ref ref = reference(OpCheck.toRef(x), OpCheck.toRef(moe.norm().weight().tensor()), OpCheck.toRef(moe.norm().bias().tensor()),
                    refsOf(moe), experts, null);
            try (GradMode off = GradMode.off()) {
                assertClose(ref.v, moe.forward(x).toFloatArray(), "averaged FFN without gradients");
            }
            moe.release();
        }
    }

    private static Ref[] refsOf(SpaceMoE moe) {
        Tensor[] in = inputs(moe, Tensor.zeros(1));
        Ref[] r = new Ref[in.length - 3];
        for (int i = 3; i < in.length; i++) r[i - 3] = OpCheck.toRef(in[i]);
        return r;
    }

    private static void assertClose(double[] expected, float[] got, String what) {
        assertEquals(expected.length, got.length, what + " length");
        for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-5 + 1e-4 * Math.abs(expected[i]), what + " at " + i);
    }

    @Test
    void theAveragedFfnHoldsTheMeanOfTheExperts() {
        try (Scope s = Scope.open()) {
            SpaceMoE moe = new SpaceMoE(3, 4, new Philox(1));
            Reference.randomise(moe, new Gen(2));
            moe.averageExperts();
            Map<String, Tensor> kept = new HashMap<>();
            for (var e : moe.namedBuffers().entrySet()) kept.put(e.getKey(), e.getValue().tensor());
            assertFalse(moe.stateDict().containsKey("averaged_w1t"), "the averaged FFN is derived state, not saved");
            String[] buffers = {"averaged_w1t", "averaged_b1", "averaged_w2t", "averaged_b2"};
            for (int k = 0; k < 4; k++) {
                Tensor first = moe.expert(0).namedParameters().get(EXPERT_PARAMS[k]).tensor();
                double[] mean = new double[(int) first.numel()];
                for (int i = 0; i < 4; i++) {
                    float[] v = moe.expert(i).namedParameters().get(EXPERT_PARAMS[k]).tensor().toFloatArray();
                    for (int j = 0; j < v.length; j++) mean[j] += v[j] / 4.0;
                }
                Tensor avg = kept.get(buffers[k]);
                float[] got = first.rank() == 2 ? avg.transpose(0, 1).toFloatArray() : avg.toFloatArray();   // weights kept transposed
                assertClose(mean, got, buffers[k]);
            }
            moe.release();
        }
    }

    @Test
    void theAveragedFfnFollowsChangesOfTheExperts() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            SpaceMoE moe = new SpaceMoE(4, 2, new Philox(3));
            Reference.randomise(moe, new Gen(4));
            Tensor x = Tensor.of(new Gen(5).floats(2 * 4 * 2 * 2, -1, 1), 2, 4, 2, 2);
            moe.eval();
            float[] before = moe.forward(x).toFloatArray();

            moe.shareWeights(0.5);   // Eq. 5 moves every expert but keeps their mean: the averaged FFN is the same
            double[] same = new double[before.length];
            for (int i = 0; i < same.length; i++) same[i] = before[i];
            assertClose(same, moe.forward(x).toFloatArray(), "after sharing, as before");
            assertClose(expectedAveraged(moe, x), moe.forward(x).toFloatArray(), "after sharing");

            Parameter b2 = moe.expert(1).namedParameters().get("2.bias");
            b2.assign(new float[] {1, 2, 3, 4});   // written behind the layer's back ...
            moe.forgetAveragedWeights();           // ... so it is told
            assertClose(expectedAveraged(moe, x), moe.forward(x).toFloatArray(), "after an outside write");

            moe.train();                           // a training forward marks the average stale too
            moe.setRoutingRng(new Philox(9));
            moe.forward(x);
            b2.assign(new float[] {-1, 0, 1, 0});
            moe.eval();
            assertClose(expectedAveraged(moe, x), moe.forward(x).toFloatArray(), "after training");

            Map<String, Tensor> state = new HashMap<>(moe.stateDict());
            Tensor newBias = Tensor.of(new float[] {5, 5, 5, 5}, 4);
            state.put("experts.0.2.bias", newBias);
            moe.loadStateDict(state, true);        // loading marks it stale
            assertClose(expectedAveraged(moe, x), moe.forward(x).toFloatArray(), "after loading");
            moe.release();
        }
    }

    private static double[] expectedAveraged(SpaceMoE moe, Tensor x) {
        return reference(OpCheck.toRef(x), OpCheck.toRef(moe.norm().weight().tensor()), OpCheck.toRef(moe.norm().bias().tensor()),
                refsOf(moe), moe.experts, null).v;
    }

    /** Experts that answer with their own label 2^i on every channel, so y - x tells which experts saw a token. */
    private static SpaceMoE labelled(int c, int experts) {
        SpaceMoE moe = new SpaceMoE(c, experts, new Philox(0));
        for (int i = 0; i < experts; i++) {
            Map<String, Parameter> p = moe.expert(i).namedParameters();
            p.get("0.weight").assign(new float[4 * c * c]);
            p.get("0.bias").assign(new float[4 * c]);
            float[] label = new float[c];
            java.util.Arrays.fill(label, 1 << i);
            p.get("2.bias").assign(label);
        }
        return moe;
    }

    /** The label (the sum of the expert outputs) each token position of each batch element received in one forward. */
    private static int[][] labels(SpaceMoE moe, Tensor x) {
        float[] y = moe.forward(x).sub(x).toFloatArray();
        int b = x.dim(0), c = x.dim(1), len = x.dim(2) * x.dim(3);
        int[][] out = new int[b][len];
        for (int n = 0; n < b; n++) {
            for (int t = 0; t < len; t++) {
                float first = y[(n * c) * len + t];
                for (int ch = 1; ch < c; ch++) assertEquals(first, y[(n * c + ch) * len + t], 1e-6, "one expert output per token");
                assertEquals(Math.round(first), first, 1e-5, "an integer label");
                out[n][t] = Math.round(first);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyTokenGoesThroughExactlyOneExpertInEqualGroups(long seed) {
        Gen g = new Gen(seed);
        int experts = g.nextInt(1, 5), c = g.nextInt(1, 3), h = g.nextInt(1, 4) * experts, w = g.nextInt(1, 4);
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            SpaceMoE moe = labelled(c, experts);
            moe.train();
            Philox router = new Philox(seed, 3);
            moe.setRoutingRng(router);
            int[] group = groupsOf(router, h * w, experts);
            Tensor x = Tensor.of(g.floats(2 * c * h * w, -1, 1), 2, c, h, w);
            int[][] labels = labels(moe, x);
            int[] count = new int[experts];
            for (int t = 0; t < h * w; t++) {
                int label = labels[0][t];
                assertEquals(1, Integer.bitCount(label), "token " + t + " went through exactly one expert (label " + label + ")");
                int expert = Integer.numberOfTrailingZeros(label);
                assertEquals(group[t], expert, "token " + t + " went to the expert of its group in the drawn permutation");
                count[expert]++;
            }
            assertArrayEquals(labels[0], labels[1], "the batch shares one permutation");
            for (int i = 0; i < experts; i++) assertEquals(h * w / experts, count[i], "tokens of expert " + i);
            moe.release();
        }
    }

    @Test
    void routingIsDeterminedByTheSeed() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            SpaceMoE moe = labelled(2, 4);
            moe.train();
            Tensor x = Tensor.zeros(1, 2, 8, 8);
            moe.setRoutingRng(new Philox(42));
            int[] first = labels(moe, x)[0], second = labels(moe, x)[0];
            moe.setRoutingRng(new Philox(42));
            assertArrayEquals(first, labels(moe, x)[0], "same seed, same routing");
            assertArrayEquals(second, labels(moe, x)[0], "and the same sequence of routings");
            assertFalse(java.util.Arrays.equals(first, second), "the stream moves on: each forward draws a new permutation");
            moe.setRoutingRng(new Philox(43));
            assertFalse(java.util.Arrays.equals(first, labels(moe, x)[0]), "another seed routes otherwise");
            moe.release();
        }
    }

    @Test
    void randomRoutingAtInferenceIsAnOption() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            SpaceMoE moe = labelled(2, 4);
            moe.eval();
            Tensor x = Tensor.zeros(1, 2, 4, 4);
            assertEquals(SpaceMoE.Inference.AVERAGED, moe.inference());
            float[] averaged = moe.forward(x).toFloatArray();
            for (float v : averaged) assertEquals((1 + 2 + 4 + 8) / 4f, v, 1e-6, "the averaged FFN answers with the mean label");
            moe.setInference(SpaceMoE.Inference.RANDOM_ROUTING);
            for (int label : labels(moe, x)[0]) assertEquals(1, Integer.bitCount(label), "routed at inference");
            moe.release();
        }
    }

    @Test
    void tokenCountsThatDoNotSplitIntoEqualGroupsAreRefused() {
        try (Scope s = Scope.open()) {
            SpaceMoE moe = new SpaceMoE(4, 4, new Philox(1));
            moe.train();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> moe.forward(Tensor.zeros(2, 4, 3, 5)));
            assertTrue(e.getMessage().contains("15") && e.getMessage().contains("4 equal groups") && e.getMessage().contains("multiple"), e.getMessage());
            moe.eval();   // averaged inference has no groups
            assertArrayEquals(new int[] {2, 4, 3, 5}, moe.forward(Tensor.zeros(2, 4, 3, 5)).dims());
            assertThrows(IllegalArgumentException.class, () -> moe.forward(Tensor.zeros(2, 3, 4, 4)), "wrong channels");
            assertThrows(IllegalArgumentException.class, () -> new SpaceMoE(4, 0, new Philox(1)));
            moe.release();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void weightSharingMovesEachExpertTowardTheMeanOfTheOthers(long seed) {
        Gen g = new Gen(seed);
        int experts = g.nextInt(2, 5), c = g.nextInt(1, 4);
        double gamma = g.pick(new Double[] {0.0, 0.7, 0.999, g.nextDouble(0, 1)});
        try (Scope s = Scope.open()) {
            SpaceMoE moe = new SpaceMoE(c, experts, new Philox(seed));
            Reference.randomise(moe, g);
            Map<String, Parameter> params = moe.namedParameters();
            Map<String, Tensor> tensors = new HashMap<>();
            Map<String, float[]> before = new HashMap<>();
            for (var e : params.entrySet()) {
                tensors.put(e.getKey(), e.getValue().tensor());
                before.put(e.getKey(), e.getValue().tensor().toFloatArray());
            }
            moe.shareWeights(gamma);
            for (var e : params.entrySet()) {
                String name = e.getKey();
                assertSame(tensors.get(name), moe.namedParameters().get(name).tensor(), name + " is still the same tensor");
                float[] now = e.getValue().tensor().toFloatArray();
                if (!name.startsWith("experts.")) {
                    assertArrayEquals(before.get(name), now, name + " is not an expert weight and stays");
                    continue;
                }
                int i = Integer.parseInt(name.split("\\.")[1]);
                String rest = name.substring(name.indexOf('.', "experts.".length()) + 1);
                for (int j = 0; j < now.length; j++) {
                    double others = 0;
                    for (int k = 0; k < experts; k++) if (k != i) others += before.get("experts." + k + "." + rest)[j];
                    others /= experts - 1;
                    double w = before.get(name)[j];
                    double expected = w + (1 - gamma) * (others - w);   // moved toward the others' mean by exactly 1 - gamma
                    assertEquals(expected, now[j], 2e-7 * (1 + Math.abs(expected)), name + "[" + j + "], gamma " + gamma);
                }
            }
            moe.release();
        }
    }

    @Test
    void theOptimiserKeepsUpdatingTheSharedParameters() {
        try (Scope outer = Scope.open()) {
            SpaceMoE moe = new SpaceMoE(3, 2, new Philox(11));
            moe.train();
            AdamW opt = new AdamW(moe.namedTrainableParameters(), 1e-2);
            Tensor x = Tensor.of(new Gen(12).floats(1 * 3 * 2 * 2, -1, 1), 1, 3, 2, 2);
            for (int step = 0; step < 3; step++) {
                try (Scope s = Scope.open()) {
                    opt.zeroGrad();
                    Losses.mse(moe.forward(x), Tensor.zeros(1, 3, 2, 2)).backward();
                    opt.step();
                }
                moe.shareWeights(0.9);
                float[] shared = moe.expert(0).namedParameters().get("0.weight").tensor().toFloatArray();
                for (var e : opt.params().entrySet()) {
                    assertSame(moe.namedParameters().get(e.getKey()).tensor(), e.getValue().tensor(), "optimiser holds " + e.getKey());
                }
                try (Scope s = Scope.open()) {
                    opt.zeroGrad();
                    Losses.mse(moe.forward(x), Tensor.zeros(1, 3, 2, 2)).backward();
                    opt.step();
                }
                float[] stepped = moe.expert(0).namedParameters().get("0.weight").tensor().toFloatArray();
                assertFalse(java.util.Arrays.equals(shared, stepped), "the step after sharing changed the shared weights, step " + step);
            }
            opt.release();
            moe.release();
        }
    }

    @Test
    void sharingEdgeCases() {
        try (Scope s = Scope.open()) {
            SpaceMoE one = new SpaceMoE(2, 1, new Philox(1));
            float[] w = one.expert(0).namedParameters().get("0.weight").tensor().toFloatArray();
            one.shareWeights(0.5);
            assertArrayEquals(w, one.expert(0).namedParameters().get("0.weight").tensor().toFloatArray(), "one expert: nothing to share");
            SpaceMoE two = new SpaceMoE(2, 2, new Philox(2));
            float[] w0 = two.expert(0).namedParameters().get("0.weight").tensor().toFloatArray();
            two.shareWeights(1);
            assertArrayEquals(w0, two.expert(0).namedParameters().get("0.weight").tensor().toFloatArray(), "gamma 1 keeps the weights");
            assertThrows(IllegalArgumentException.class, () -> two.shareWeights(1.5));
            assertThrows(IllegalArgumentException.class, () -> two.shareWeights(-0.1));
            assertThrows(IllegalArgumentException.class, () -> two.shareWeights(Double.NaN));
            one.release();
            two.release();
        }
    }

    @Test
    void theSharingScheduleRampsBeta() {
        ExpertSharing released = ExpertSharing.released();
        assertEquals(1.0, released.gamma(0), 0);
        assertEquals(1 - 0.15, released.gamma(5_000), 1e-12);
        assertEquals(1 - 0.3, released.gamma(10_000), 1e-12);
        assertEquals(1 - 0.3, released.gamma(50_000), 1e-12);
        assertEquals(0.999, ExpertSharing.paper().gamma(0), 1e-12);
        assertEquals(0.999, ExpertSharing.paper().gamma(123_456), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new ExpertSharing(1.2, 10));
        assertThrows(IllegalArgumentException.class, () -> new ExpertSharing(0.3, -1));
        assertThrows(IllegalArgumentException.class, () -> released.beta(-1));
    }
}

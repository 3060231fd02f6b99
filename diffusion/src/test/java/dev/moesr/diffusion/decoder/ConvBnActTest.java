package dev.moesr.diffusion.decoder;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** In evaluation the BatchNorm folds into the convolution: the same values and input gradient as convolution then BatchNorm. */
class ConvBnActTest {
    static Stream<Long> cases() { return Gen.seeds("conv bn act folding", 8); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void foldedEvaluationEqualsConvolutionThenBatchNorm(long seed) {
        Gen g = new Gen(seed);
        int groups = g.nextInt(1, 2), in = groups * g.nextInt(1, 3), out = groups * g.nextInt(1, 3), kernel = g.nextBoolean() ? 1 : 3;
        boolean activation = g.nextBoolean();
        ConvBnAct layer = new ConvBnAct(in, out, kernel, groups, activation, new Philox(seed));
        Map<String, Tensor> state = new HashMap<>(layer.stateDict());
        state.put("block.norm.running_mean", Tensor.of(g.floats(out, -1, 1), out));
        state.put("block.norm.running_var", Tensor.of(g.floats(out, 0.2, 3), out));
        state.put("block.norm.weight", Tensor.of(g.floats(out, -2, 2), out));
        state.put("block.norm.bias", Tensor.of(g.floats(out, -1, 1), out));
        layer.loadStateDict(state, true);
        layer.eval();

        int n = 2, h = g.nextInt(1, 6), w = g.nextInt(1, 6);
        float[] xs = g.floats(n * in * h * w, -2, 2);
        Tensor x = Tensor.of(xs, n, in, h, w).requiresGrad(true);
        Tensor folded = layer.forward(x);
        Tensor unfolded = x.conv2d(state.get("block.conv.weight"), null, 1, kernel / 2, 1, groups)
                .batchNorm(state.get("block.norm.running_mean"), state.get("block.norm.running_var"), state.get("block.norm.weight"),
                        state.get("block.norm.bias"), false, 0.1f, 1e-5f);
        if (activation) unfolded = unfolded.leakyRelu(AdaptiveFrequencyFilter.SLOPE);
        assertClose(unfolded.toFloatArray(), folded.toFloatArray(), "forward");

        Tensor upstream = Tensor.of(g.floats((int) folded.numel(), -1, 1), folded.dims());
        folded.mul(upstream).sum().backward();
        float[] foldedGrad = x.grad().toFloatArray();
        Tensor x2 = Tensor.of(xs, n, in, h, w).requiresGrad(true);
        Tensor ref = x2.conv2d(state.get("block.conv.weight"), null, 1, kernel / 2, 1, groups)
                .batchNorm(state.get("block.norm.running_mean"), state.get("block.norm.running_var"), state.get("block.norm.weight"),
                        state.get("block.norm.bias"), false, 0.1f, 1e-5f);
        if (activation) ref = ref.leakyRelu(AdaptiveFrequencyFilter.SLOPE);
        ref.mul(upstream).sum().backward();
        assertClose(x2.grad().toFloatArray(), foldedGrad, "input gradient");

        try (GradMode off = GradMode.off()) {
            assertClose(unfolded.toFloatArray(), layer.forward(Tensor.of(xs, n, in, h, w)).toFloatArray(), "forward without a graph");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-5 * Math.max(1, Math.abs(expected[i]));
            assertEquals(expected[i], actual[i], tol, what + " at " + i);
        }
    }
}

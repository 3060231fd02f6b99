package dev.moesr.diffusion.unet;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny UNet against an independent PyTorch implementation
 * (diffusion/src/test/python/make_unet_fixtures.py): the same state dict, input and timesteps,
 * the training-mode output (Space-MoE routed by the same Philox permutations), its gradients,
 * and the inference output with averaged experts, within 1e-4 relative error.
 */
@SuppressWarnings("try")   // scopes in tests only bound a region
class UNetGoldenTest {
    private Scope scope;
    private SafeTensors.Contents fixture;
    private UNet unet;

    @BeforeEach void setUp() throws IOException, URISyntaxException {
        scope = Scope.open();
        URL url = getClass().getResource("/unet/tiny_unet.safetensors");
        assertNotNull(url, "fixture missing: run /usr/bin/python3 diffusion/src/test/python/make_unet_fixtures.py");
        fixture = SafeTensors.read(Path.of(url.toURI()));
        unet = new UNet(UNetConfig.tiny(), new Philox(1));
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (var e : fixture.tensors().entrySet()) if (e.getKey().startsWith("model.")) state.put(e.getKey().substring(6), e.getValue());
        unet.loadStateDict(state, true);   // strict: the names and shapes are those of the PyTorch model
    }

    @AfterEach void tearDown() {
        unet.release();
        scope.close();
    }

    private Tensor get(String key) {
        Tensor t = fixture.tensors().get(key);
        assertNotNull(t, "fixture entry " + key);
        return t;
    }

    private int[] timesteps() {
        float[] t = get("timesteps").toFloatArray();
        int[] out = new int[t.length];
        for (int i = 0; i < t.length; i++) out[i] = Math.round(t[i]);
        return out;
    }

    /** |got - expected| <= 1e-4 (|expected| + scale), scale the mean magnitude (relative error, robust near zero). */
    private static void assertClose(Tensor expected, Tensor got, String what) {
        assertArrayEquals(expected.dims(), got.dims(), what + " shape");
        float[] e = expected.toFloatArray(), g = got.toFloatArray();
        double scale = 0;
        for (float v : e) scale += Math.abs(v);
        scale /= Math.max(1, e.length);
        assertTrue(scale > 0, what + " is all zeros: the fixture would check nothing");
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(g[i] - e[i]) / (Math.abs(e[i]) + scale);
            worst = Math.max(worst, err);
            assertTrue(err <= 1e-4, what + " at flat index " + i + ": got " + g[i] + ", PyTorch " + e[i]);
        }
        System.out.printf("%s: largest relative error %.2e%n", what, worst);
    }

    @Test
    void trainingForwardWithRoutedExpertsAndItsGradientsMatchPyTorch() {
        unet.train();
        unet.setRoutingRng(new Philox(Long.parseLong(fixture.metadata().get("routing_seed"))));
        Tensor x = get("input").copy().requiresGrad();
        Tensor y = unet.forward(x, timesteps());
        assertClose(get("output"), y, "output (routed)");

        unet.zeroGrad();
        y.mul(get("grad_output")).sum().backward();
        assertClose(get("grad.input"), x.grad(), "gradient of the input");
        Map<String, dev.moesr.nn.Parameter> params = unet.namedParameters();
        int checked = 0;
        for (String key : fixture.tensors().keySet()) {
            if (!key.startsWith("grad.") || key.equals("grad.input") || key.equals("grad_output")) continue;
            String name = key.substring(5);
            assertNotNull(params.get(name), "parameter " + name);
            assertClose(get(key), params.get(name).grad(), "gradient of " + name);
            checked++;
        }
        assertEquals(9, checked, "parameter gradients in the fixture");
    }

    @Test
    void inferenceWithAveragedExpertsMatchesPyTorch() {
        unet.eval();
        try (GradMode off = GradMode.off()) {
            assertClose(get("output_averaged"), unet.forward(get("input"), timesteps()), "output (averaged experts)");
        }
    }

    @Test
    void averagedInferenceWithGradientsOnGivesTheSameOutput() {
        unet.eval();   // with gradients on the mean is taken with the graph, not from the kept copy
        assertClose(get("output_averaged"), unet.forward(get("input"), timesteps()), "output (averaged experts, with graph)");
    }
}

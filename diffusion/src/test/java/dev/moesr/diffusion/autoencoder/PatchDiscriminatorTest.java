package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.layers.BatchNorm2d;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static dev.moesr.diffusion.autoencoder.Fixtures.assertClose;
import static dev.moesr.diffusion.autoencoder.Fixtures.assertGradClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PatchDiscriminatorTest {
    private Scope scope;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    @Test
    void trainingStepAndEvaluationMatchPyTorch() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/discriminator");
        Map<String, Tensor> t = c.tensors();
        var d = new PatchDiscriminator(3, Fixtures.metaInt(c, "ndf"), Fixtures.metaInt(c, "n_layers"), new Philox(2));
        d.loadStateDict(Fixtures.under(t, "module."), true);
        Tensor x = t.get("input").requiresGrad();
        Tensor y = d.forward(x);
        assertClose(t.get("output"), y, "training-mode logits");
        y.mul(t.get("grad_output")).sum().backward();
        assertGradClose(t.get("grad.input"), x.grad(), "input gradient");
        Map<String, Parameter> params = d.namedParameters();
        for (String name : Fixtures.metaList(c, "grad_names")) assertGradClose(t.get("grad." + name), params.get(name).grad(), "gradient of " + name);
        Map<String, Tensor> after = Fixtures.under(t, "after.");
        for (var e : after.entrySet()) assertClose(e.getValue(), d.stateDict().get(e.getKey()), e.getKey() + " after the step");
        d.eval();
        assertClose(t.get("eval_output"), d.forward(t.get("eval_input")), "evaluation logits");
    }

    @Test
    void tamingLayoutAndShapes() {
        var d = new PatchDiscriminator(3, 8, 3, new Philox(7));
        // conv 3->8 s2, conv 8->16 s2 + BN, conv 16->32 s2 + BN, conv 32->64 s1 + BN, conv 64->1 s1
        assertArrayEquals(new int[] {64, 32, 4, 4}, d.stateDict().get("main.8.weight").dims());
        assertTrue(d.stateDict().containsKey("main.9.running_var"));
        assertTrue(!d.stateDict().containsKey("main.2.bias"), "convolutions followed by BatchNorm have no bias");
        Tensor y = d.forward(Tensor.zeros(2, 3, 64, 64));
        assertArrayEquals(new int[] {2, 1, 6, 6}, y.dims(), "64 -> 32 -> 16 -> 8 -> 7 -> 6");
        assertThrows(IllegalArgumentException.class, () -> d.forward(Tensor.zeros(2, 1, 64, 64)));
        assertThrows(IllegalArgumentException.class, () -> new PatchDiscriminator(3, 0, 3, new Philox(1)));
    }

    @Test
    void tamingInitialisation() {
        var d = new PatchDiscriminator(new Philox(11));   // the real 64-filter model: 2.8M parameters
        assertEquals(2_765_633, d.parameterCount(), "the count of the reference NLayerDiscriminator(3, 64, 3)");
        double sum = 0, sumSq = 0;
        long n = 0;
        for (Layer l : ((dev.moesr.nn.Sequential) d.children().get("main")).layers()) {
            if (l instanceof Conv2d conv) {
                for (float v : conv.weight().tensor().toFloatArray()) {
                    sum += v;
                    sumSq += v * v;
                    n++;
                }
            } else if (l instanceof BatchNorm2d bn) {
                for (float v : bn.weight().tensor().toFloatArray()) assertEquals(1.0, v, 0.12, "BatchNorm weights are N(1, 0.02)");
                for (float v : bn.bias().tensor().toFloatArray()) assertEquals(0.0, v, 0.0, "BatchNorm biases start at 0");
            }
        }
        double mean = sum / n, std = Math.sqrt(sumSq / n - mean * mean);
        assertEquals(0.0, mean, 1e-4, "convolution weights are N(0, 0.02)");
        assertEquals(0.02, std, 2e-4, "convolution weights are N(0, 0.02)");
    }
}
